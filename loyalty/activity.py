"""A member's lifecycle window counts, kept as a sliding window over its activity days.

The stage asks after every input and at every due member for L (activities in the latest
window, (now - W, now]) and P (in the previous one, (now - 2W, now - W]). Counting them afresh
walks every activity day: ~30 on average, each a separate integer object, cold in the cache
when the member's turn comes (8% of the rulebook's time, py-spy, for 2% of its instructions).

`ActivityWindow` mirrors `MemberState.activity_days` (ascending days) in two lists and keeps
three positions in them, for `now - 2W`, `now - W` and `now`, with the two sums between. As
`now` moves forward the positions only move forward, so a call reads a few days, not all of
them. A new activity on the newest day or after it, and pruning of days that have left both
windows, update it in place. Anything else (time going back, an activity dated before the
newest day, other pruning, another dict) rebuilds from the dict on the next call: the result
is always the fresh count's (tests/unit/core/test_activity_window.py).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

_BEFORE_TIME: Final = -(1 << 62)  # a `now` before every day: nothing counted yet


class ActivityWindow:
    def __init__(self, source: dict[int, int], window: int) -> None:
        self.source = source  # the state's dict it mirrors (checked by identity)
        self.window = window
        self.days: list[int] = list(source)
        self.counts: list[int] = list(source.values())
        self.now = _BEFORE_TIME
        self.first = 0  # the first day after now - 2W
        self.middle = 0  # the first day after now - W
        self.end = 0  # the first day after now
        self.latest = 0
        self.previous = 0

    def at(self, now: int) -> tuple[int, int]:
        """(latest, previous) on day `now`."""
        if now < self.now:  # time went back: count again from the start
            self.now = _BEFORE_TIME
            self.first = self.middle = self.end = 0
            self.latest = self.previous = 0
        self._advance(now)
        return self.latest, self.previous

    def _advance(self, now: int) -> None:
        days, counts = self.days, self.counts
        size = len(days)
        split, start = now - self.window, now - 2 * self.window
        end, middle, first = self.end, self.middle, self.first
        latest, previous = self.latest, self.previous
        # A day passed over by `end` enters the latest window; by `middle`, moves on to the
        # previous one; by `first`, leaves both. A day may pass all three at once.
        while end < size and days[end] <= now:
            latest += counts[end]
            end += 1
        while middle < end and days[middle] <= split:
            latest -= counts[middle]
            previous += counts[middle]
            middle += 1
        while first < middle and days[first] <= start:
            previous -= counts[first]
            first += 1
        self.end, self.middle, self.first = end, middle, first
        self.latest, self.previous = latest, previous
        self.now = now

    def added(self, day: int) -> bool:
        """One more activity on `day`, already counted in the source dict. False when the
        window cannot follow in place (the day is before its newest): rebuild then."""
        days = self.days
        if days and day < days[-1]:
            return False
        if days and day == days[-1]:
            index = len(days) - 1
            self.counts[index] += 1
            if index < self.end:  # already inside the counted span: its sum grows
                if index >= self.middle:
                    self.latest += 1
                elif index >= self.first:
                    self.previous += 1
            return True
        # A new newest day: the next call's advance takes it in, wherever it falls.
        days.append(day)
        self.counts.append(1)
        return True

    def pruned(self, before: int) -> bool:
        """The source dropped its days before `before`. In place when they had all left both
        windows already (pruning follows the windows: the usual case); False otherwise."""
        days = self.days
        drop = bisect_left(days, before)
        if drop > self.first:
            return False
        del days[:drop]
        del self.counts[:drop]
        self.first -= drop
        self.middle -= drop
        self.end -= drop
        return True


def window_counts_of(
    source: dict[int, int], window: int, memo: ActivityWindow | None, now: int
) -> tuple[ActivityWindow, tuple[int, int]]:
    """The counts on day `now`, from `memo` if it still mirrors `source` with this window;
    returns the window to keep (the memo, or a new one)."""
    if memo is None or memo.source is not source or memo.window != window:
        memo = ActivityWindow(source, window)
    return memo, memo.at(now)
