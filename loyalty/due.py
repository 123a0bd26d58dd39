"""What time alone does to a member: pending points unlock, points expire.

Run for a member before each of its events and, through the book's due index, at clock events;
both give the same postings because expiry postings are dated at their due day, not at the
moment they are processed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from loyalty import events as ev
from loyalty.calendar import add_months, start_of
from loyalty.program import ExpiryPolicy, Program
from loyalty.state import DEBT_LOT, MemberState, Posting


def next_due(state: MemberState, program: Program) -> date | None:
    """The first day on which time alone changes this member, or None."""
    today = state.as_of.date()
    due: date | None = None
    # Pending lots are the recent ones: walk back only over the pending window.
    horizon = today - timedelta(days=program.pending.days)
    for lot in reversed(state.lots):
        if lot.earned_on < horizon:
            break
        if lot.unlock_on > today and (due is None or lot.unlock_on < due):
            due = lot.unlock_on
    expiry = _expiry_due(state, program)
    if expiry is not None and (due is None or expiry < due):
        due = expiry
    return due


def _expiry_due(state: MemberState, program: Program) -> date | None:
    policy = program.expiry.policy
    if policy is ExpiryPolicy.AFTER_EARNING:
        # Lots are oldest first and expiry follows earning, so the first live lot is next.
        for lot in state.lots:
            if lot.remaining > 0 and lot.expires_on is not None:
                return lot.expires_on
    elif (
        policy is ExpiryPolicy.INACTIVITY
        and state.last_activity_on is not None
        and state.has_points
    ):
        return add_months(state.last_activity_on, program.expiry.months)
    return None


def decide_due(state: MemberState, program: Program, now: datetime) -> list[ev.DomainEvent]:
    """Domain events for everything due up to `now` (empty when nothing is)."""
    due = next_due(state, program)
    day = now.date()
    if due is None or due > day:
        return []
    events: list[ev.DomainEvent] = []
    policy = program.expiry.policy
    if policy is ExpiryPolicy.AFTER_EARNING:
        expiring = [
            (lot, lot.expires_on)
            for lot in state.lots
            if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on <= day
        ]
    elif policy is ExpiryPolicy.INACTIVITY and state.last_activity_on is not None:
        inactive_from = add_months(state.last_activity_on, program.expiry.months)
        expiring = (
            [
                (lot, inactive_from)
                for lot in state.lots
                if lot.remaining > 0 and lot.lot_id != DEBT_LOT
            ]
            if inactive_from <= day
            else []
        )
    else:
        expiring = []
    for lot, on in expiring:
        assert on is not None
        cause = f"expire/{state.member_id}/{lot.lot_id}"
        posting = Posting(
            cause,
            state.member_id,
            start_of(on),
            program.currencies.points,
            -lot.remaining,
            "expire",
            cause,
            lot.lot_id,
        )
        events.append(ev.PointsDebited(posting, ((lot.lot_id, lot.remaining),)))
    events.append(ev.TimeAdvanced(now))
    return events
