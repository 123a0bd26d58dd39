"""The order inputs are applied in, shared by `loyalty replay` and the stream engine.

Clocks cut the input into epochs. Within an epoch, member inputs are applied in event-time
order; ties go to member commands (an enrolment first), then purchases, flights and partner
accruals, then arrival order within the source. The stream engine sees each source topic in
order but not the interleaving between topics; this rule makes that interleaving irrelevant,
so a partition's result equals replay's for the same file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from loyalty import inputs as i

# Rank by source: the topic each input type arrives on (see streams/topics.py).
SOURCE_RANK: Final[dict[type, int]] = {
    i.Enrol: 0,
    i.Redeem: 0,
    i.TransferPoints: 0,
    i.StatusMatchRequest: 0,
    i.RetroClaim: 0,
    i.ManualAdjustment: 0,
    i.DecideHold: 0,
    i.Purchase: 1,
    i.Refund: 1,
    i.FlightFlown: 2,
    i.FlightCancelled: 2,
    i.PartnerAccrual: 3,
}
OTHER_RANK: Final = 4


def order_key(inp: i.MemberInput, seq: int) -> tuple[datetime, int, int]:
    """Sort key within an epoch; `seq` is the arrival position within the input's source."""
    return (inp.at, SOURCE_RANK.get(type(inp), OTHER_RANK), seq)
