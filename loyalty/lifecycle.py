"""Lifecycle stages from event-time rolling windows of activity.

Activity = earning, redeeming, transferring. L = activities in the latest window
(today - W, today], P = in the previous one (today - 2W, today - W]. In order:
1. exploration: enrolled less than `exploration_days` ago;
2. decline: no activity for `inactive_days`, or P > 0 and L < P x (1 - D%);
3. maturity: L >= `maturity_min_activity`;
4. development: otherwise (activity present or rising, not yet stable and high).
Stages are re-evaluated at each of the member's events and, without events, on the days the
member leaves exploration, has had no activity for a whole window, and reaches the inactivity
limit (the only days on which time alone can change the stage's inputs in a way that matters).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from loyalty.hot import Hot
from loyalty.program import Program
from loyalty.program_status import LifecycleStage
from loyalty.state import (
    NO_DAY,
    MemberState,
    activity_counts,
    activity_ordinal,
    as_of_moment,
    enrolled_ordinal,
)

# A stage's text by stage: the enum's `value` is an interpreted property (two Python frames a
# call from the compiled rulebook).
STAGE_VALUES: dict[LifecycleStage, str] = {stage: stage.value for stage in LifecycleStage}
# The stages as compiled constants: `LifecycleStage.DECLINE` read in compiled code is a lookup
# through the enum's metaclass (~900 instructions, after every input).
EXPLORATION: Final = LifecycleStage.EXPLORATION
DECLINE: Final = LifecycleStage.DECLINE
MATURITY: Final = LifecycleStage.MATURITY
DEVELOPMENT: Final = LifecycleStage.DEVELOPMENT


def window_counts(state: MemberState, program: Program, today: date) -> tuple[int, int]:
    """(latest, previous) window activity counts."""
    return activity_counts(state, today.toordinal(), program.hot.window_days)


def oldest_activity(state: MemberState) -> int | None:
    """The oldest day with activity (memoised on the state; apply keeps it in step)."""
    if state.oldest_activity is None and state.activity_days:
        state.oldest_activity = min(state.activity_days)
    return state.oldest_activity


def drop_percent(latest: int, previous: int) -> int:
    """How far the latest window fell below the previous one, in whole percent (0 if not)."""
    if previous <= 0 or latest >= previous:
        return 0
    return (previous - latest) * 100 // previous


def stage_of(
    state: MemberState, rules: Hot, now: int, explain: bool = True
) -> tuple[LifecycleStage, str]:
    """The member's stage on day `now` (a day ordinal) and why. The stage is evaluated after
    every event and changes rarely: `explain=False` skips building the reason's text (empty
    then). `rules`: the programme's compiled view (`Program.hot`)."""
    # Day ordinals, not dates: this runs after every input and at every due member.
    enrolled = enrolled_ordinal(state)
    if now - enrolled < rules.exploration_days:
        return EXPLORATION, f"enrolled {now - enrolled} days ago" if explain else ""
    last = activity_ordinal(state)
    idle = now - (enrolled if last == NO_DAY else last)
    if idle >= rules.inactive_days:
        return DECLINE, f"no activity for {idle} days" if explain else ""
    latest, previous = activity_counts(state, now, rules.window_days)
    drop = drop_percent(latest, previous)
    if previous > 0 and drop > rules.decline_drop_percent:
        why = f"activity down {drop}% ({previous} -> {latest})" if explain else ""
        return DECLINE, why
    if latest >= rules.maturity_min_activity:
        why = f"{latest} activities in the latest window" if explain else ""
        return MATURITY, why
    why = f"{latest} activities in the latest window (was {previous})" if explain else ""
    return DEVELOPMENT, why


def next_check(state: MemberState, rules: Hot) -> int:
    """The next day (a day ordinal) on which time alone may change the stage: the first after
    the member's day of leaving exploration, a whole window and two without activity, and the
    inactivity limit. In day ordinals (runs after every input and every due member)."""
    today = as_of_moment(state).ordinal
    enrolled = enrolled_ordinal(state)
    last = activity_ordinal(state)
    if last == NO_DAY:
        last = enrolled
    window = rules.window_days
    best = NO_DAY
    day = enrolled + rules.exploration_days
    if today < day:
        best = day
    # A whole window without activity, or two if the first has passed.
    day = last + window if last + window > today else last + 2 * window
    if today < day < best:
        best = day
    day = last + rules.inactive_days
    if today < day < best:
        best = day
    return best
