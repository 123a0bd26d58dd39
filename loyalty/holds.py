"""Accruals held by the velocity limits: the hold posting, and how a hold ends (an operator's
release or rejection, expiry after `velocity.hold_days`, or voiding when its sale or flight is
reversed). Every step posts in the held currency, so the ledger accounts for each hold."""

from __future__ import annotations

from datetime import datetime

from loyalty import events as ev
from loyalty.crediting import credit, held_currency
from loyalty.inputs import DecideHold
from loyalty.program import Program
from loyalty.rejections import Code, Rejected
from loyalty.rounding import pro_rata
from loyalty.state import Hold, MemberState, Posting


def decide_hold(state: MemberState, d: DecideHold, program: Program) -> list[ev.DomainEvent]:
    hold = next((h for h in state.held if h.hold_id == d.hold_id), None)
    if hold is None:
        raise Rejected(Code.UNKNOWN_HOLD, f"no open hold {d.hold_id}")
    if not bool(d.reason.strip()):
        raise Rejected(Code.REASON_REQUIRED, "a hold decision needs a reason")
    if not bool(d.operator_id.strip()):
        raise Rejected(Code.OPERATOR_REQUIRED, "a hold decision needs an operator")
    if d.decision not in ("release", "reject"):
        raise Rejected(Code.INVALID_DECISION, f"decision {d.decision!r}: release or reject")
    outcome = "released" if d.decision == "release" else "rejected"
    return settle_hold(
        state,
        program,
        hold,
        outcome,
        d.decision == "release",
        d.at,
        d.event_id,
        d.reason,
        d.operator_id,
    )


def settle_hold(
    state: MemberState,
    program: Program,
    hold: Hold,
    outcome: str,
    release: bool,
    at: datetime,
    cause: str,
    reason: str,
    operator_id: str | None,
) -> list[ev.DomainEvent]:
    events: list[ev.DomainEvent] = []
    if release:
        points, already, attach = hold.points, 0, None
        if hold.ref is not None and hold.source == "purchase" and hold.ref in state.sales:
            sale = state.sales[hold.ref]
            already = pro_rata(hold.points, sale.refunded, sale.amount)
            attach = hold.ref
        elif hold.ref is not None and hold.source == "flight" and hold.ref in state.segments:
            attach = hold.ref
        lot = None
        if points - already:
            credited = credit(
                state,
                program,
                cause,
                "hold_released",
                points - already,
                at,
                hold.source,
                reason,
                operator_id,
            )
            lot = credited.posting.lot_id
            events.append(credited)
        if attach is not None:
            events.append(ev.HeldCreditAttached(attach, hold.source, points, already, lot))
    posting = Posting(
        f"{cause}/{hold.hold_id}/{outcome}",
        state.member_id,
        at,
        held_currency(program),
        -hold.points,
        f"hold_{outcome}",
        cause,
        reason=reason,
        operator_id=operator_id,
    )
    events.append(
        ev.HoldSettled(
            state.member_id,
            at,
            hold.hold_id,
            outcome,
            release,
            cause,
            reason,
            operator_id,
            posting,
        )
    )
    return events


def void_holds(
    state: MemberState, program: Program, ref: str, at: datetime, cause: str, why: str
) -> list[ev.DomainEvent]:
    """Holds of a sale or segment that was reversed in full: nothing is left to credit."""
    events: list[ev.DomainEvent] = []
    for hold in state.held:
        # Narrowed first: `str | None == str` is a generic comparison compiled, and a member
        # over a velocity limit holds hundreds of accruals (1,224 for one in the 1M file).
        held_ref = hold.ref
        if held_ref is not None and held_ref == ref:
            events += settle_hold(state, program, hold, "voided", False, at, cause, why, None)
    return events
