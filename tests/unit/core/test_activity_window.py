"""The sliding window counts (loyalty/activity.py) equal a fresh count of the member's activity
days, whatever happens between two questions: activity in order, on the same day, out of
order or ahead of time; pruning; time going forward in steps or leaps, or back; the state
copied, pickled or restored from the changelog."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import events as ev
from loyalty.apply import apply
from loyalty.lifecycle import oldest_activity
from loyalty.state import MemberState, activity_counts
from streams.state_codec import decode, encode

START = date(2026, 1, 1)

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("activity"), st.integers(0, 800)),
        st.tuples(st.just("forward"), st.integers(0, 400)),  # activity on the latest day asked
        st.tuples(st.just("ask"), st.integers(-30, 200)),  # a step in time from the last ask
        st.tuples(st.just("prune"), st.integers(0, 800)),
        st.tuples(st.sampled_from(["deepcopy", "pickle", "changelog"]), st.just(0)),
    ),
    max_size=80,
)


def _fresh(days: dict[int, int], now: int, window: int) -> tuple[int, int]:
    latest = sum(n for d, n in days.items() if now - window < d <= now)
    previous = sum(n for d, n in days.items() if now - 2 * window < d <= now - window)
    return latest, previous


@settings(max_examples=300, deadline=None)
@given(_steps, st.sampled_from([1, 7, 90]))
def test_the_window_counts_are_a_fresh_count_after_any_history(
    steps: list[tuple[str, int]], window: int
) -> None:
    state: MemberState = apply(
        None, ev.Enrolled("M1", datetime(2026, 1, 1, tzinfo=UTC), START, "blue", ())
    )
    now = START.toordinal()
    for kind, value in steps:
        if kind == "activity":
            apply(state, ev.ActivityRecorded(START + timedelta(days=value)))
        elif kind == "forward":
            apply(state, ev.ActivityRecorded(date.fromordinal(now + value % 3)))
        elif kind == "prune":
            apply(state, ev.ActivityPruned(START.toordinal() + value))
        elif kind == "deepcopy":
            state = copy.deepcopy(state)
        elif kind == "pickle":
            state = pickle.loads(pickle.dumps(state))
        elif kind == "changelog":
            state = decode(encode(state))
        else:
            now += value
            assert activity_counts(state, now, window) == _fresh(state.activity_days, now, window)
        # Pruning walks the ascending days' prefix and keeps the oldest in step.
        assert oldest_activity(state) == min(state.activity_days, default=None)
    for later in (now, now + window, now + 3 * window, now - window):
        assert activity_counts(state, later, window) == _fresh(state.activity_days, later, window)
