"""`decide(state, input, program) -> [DomainEvent]`: the rulebook's one entry point.

Raises `Rejected` for invalid business input; never changes state (that is `apply`'s job).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from loyalty import accruals, commands, holds
from loyalty import events as ev
from loyalty import inputs as i
from loyalty.program import Program
from loyalty.rejections import Code, Rejected
from loyalty.state import MemberState

_FOR_MEMBERS: Final[dict[type, Callable[[MemberState, Any, Program], list[ev.DomainEvent]]]] = {
    i.Purchase: accruals.decide_purchase,
    i.Refund: accruals.decide_refund,
    i.FlightFlown: accruals.decide_flight,
    i.FlightCancelled: accruals.decide_cancellation,
    i.PartnerAccrual: accruals.decide_partner,
    i.RetroClaim: accruals.decide_retro_claim,
    i.Redeem: commands.decide_redeem,
    i.TransferPoints: commands.decide_transfer,
    i.TransferReturned: commands.decide_transfer_returned,
    i.StatusMatchRequest: commands.decide_status_match,
    i.ManualAdjustment: commands.decide_adjustment,
    i.DecideHold: holds.decide_hold,
}


def decide(state: MemberState | None, inp: i.MemberInput, program: Program) -> list[ev.DomainEvent]:
    if isinstance(inp, i.Enrol):
        return commands.decide_enrol(state, inp, program)
    if isinstance(inp, i.TransferReceived):
        return commands.decide_transfer_received(state, inp, program)
    if state is None:
        raise Rejected(Code.UNKNOWN_MEMBER, f"member {inp.member_id} is not enrolled")
    return _FOR_MEMBERS[type(inp)](state, inp, program)
