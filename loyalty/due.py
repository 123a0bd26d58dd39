"""What time alone does to a member: pending points unlock, points expire, qualification
periods end, status-match windows close, lifecycle stages move.

Run for a member before each of its events and, through the book's due index, at clock events;
both give the same postings because expiry postings are dated at their due day, not at the
moment they are processed.
"""

from __future__ import annotations

from datetime import date, datetime

from loyalty import events as ev
from loyalty.calendar import add_months, moment_of, start_of
from loyalty.holds import settle_hold
from loyalty.hot import Hot
from loyalty.lifecycle import next_check
from loyalty.program import Program
from loyalty.state import (
    DEBT_LOT,
    NO_DAY,
    MemberState,
    Posting,
    as_of_moment,
    expired_lots,
    first_expiry,
    first_hold_expiry,
    next_unlock,
    period_end_ordinal,
)
from loyalty.tiers import decide_period_end


def next_due(state: MemberState, hot: Hot) -> int:
    """The first day (a day ordinal) on which time alone changes this member, or `NO_DAY`.

    Runs after every input and every time a member is due (~1.6 calls per input), so it
    works in day ordinals: the lots' memoised ones and the state's (native int comparisons,
    where dates compare and add through generic calls from the compiled rulebook). `hot`:
    the programme's compiled view (`Program.hot`, read once by the book)."""
    today = as_of_moment(state).ordinal
    best = next_unlock(state, today, hot.pending_days)
    expiry = _expiry_due(state, hot)
    if expiry < best:
        best = expiry
    period_end = period_end_ordinal(state)
    if period_end < best:  # never when `NO_DAY`: `best` is at most that
        best = period_end + 1
    match = state.match
    if match is not None:
        best = min(best, (match.confirmed_until or match.ends_on).toordinal() + 1)
    stage_check = next_check(state, hot)
    if stage_check < best:
        best = stage_check
    hold_expiry = first_hold_expiry(state)
    if hold_expiry < best:  # `NO_DAY` (no expiry) is never below
        best = hold_expiry
    return best


def _expiry_due(state: MemberState, hot: Hot) -> int:
    if hot.expires_after_earning:
        # Lots are oldest first and expiry follows earning, so the first live lot is next.
        return first_expiry(state)
    if hot.expires_on_inactivity and state.last_activity_on is not None and state.has_points:
        return add_months(state.last_activity_on, hot.expiry_months).toordinal()
    return NO_DAY


def decide_due(
    state: MemberState, program: Program, now: datetime, cause: str = "time"
) -> list[ev.DomainEvent]:
    """Domain events for everything due up to `now`. The caller (the book's due index) calls
    it only when `next_due` says something is due by then."""
    events = due_changes(state, program, now, cause)
    events.append(ev.TimeAdvanced(now))
    return events


def due_changes(
    state: MemberState, program: Program, now: datetime, cause: str = "time"
) -> list[ev.DomainEvent]:
    """`decide_due` but the member's time moving (`TimeAdvanced`): often there is nothing
    else (a pending lot unlocks, a stage check day comes)."""
    moment = moment_of(now)
    day, today = moment.day, moment.ordinal
    events: list[ev.DomainEvent] = []
    period_end = period_end_ordinal(state)
    if period_end < today:  # never when `NO_DAY`
        events += decide_period_end(state, program, now, cause)
    hot = program.hot
    expiring: list[tuple[str, int, date]] = []
    if hot.expires_after_earning:
        expiring = [
            (lot.lot_id, lot.remaining, lot.expires_on)
            for lot in expired_lots(state, today)
            if lot.expires_on is not None  # always: expired lots have an expiry (for mypy)
        ]
    elif hot.expires_on_inactivity and state.last_activity_on is not None:
        inactive_from = add_months(state.last_activity_on, hot.expiry_months)
        if inactive_from <= day:
            expiring = [
                (lot.lot_id, lot.remaining, inactive_from)
                for lot in state.lots
                if lot.remaining > 0 and lot.lot_id != DEBT_LOT
            ]
    for lot_id, remaining, on in expiring:
        posting_id = f"expire/{state.member_id}/{lot_id}"
        posting = Posting(
            posting_id,
            state.member_id,
            start_of(on),
            hot.points,
            -remaining,
            "expire",
            posting_id,
            lot_id,
            ((lot_id, remaining),),
        )
        events.append(ev.PointsDebited(posting, ((lot_id, remaining),)))
    for hold in state.held:
        if hold._expires <= today and hold.expires_on is not None:  # by ordinal: see `Hold`
            release = program.velocity.expired_holds == "release"
            why = f"undecided for {program.velocity.hold_days} days"
            cause_id = f"expire/{state.member_id}"
            events += settle_hold(
                state,
                program,
                hold,
                "expired",
                release,
                start_of(hold.expires_on),
                cause_id,
                why,
                None,
            )
    return events
