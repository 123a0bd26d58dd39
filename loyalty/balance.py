"""A member's points balance with the event ids it has applied, so redelivery changes nothing.

The recent ids live in the same record as the balance: one table write (one changelog record)
moves both, so a crash can never apply points without remembering that it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Redelivery after a crash replays at most the uncommitted tail of a partition; 1,000 ids per
# member covers that tail many times over.
RECENT_IDS_KEPT = 1000


@dataclass(frozen=True)
class MemberBalance:
    member_id: str
    points: int = 0
    version: int = 0  # number of events applied; lets read models ignore stale updates
    last_event_id: str | None = None
    recent_event_ids: tuple[str, ...] = field(default=())

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.recent_event_ids


def credit(balance: MemberBalance, event_id: str, points: int) -> MemberBalance | None:
    """The balance after crediting `points` for `event_id`, or None if already applied."""
    if points < 0:
        raise ValueError("credit() takes non-negative points")
    if balance.has_applied(event_id):
        return None
    recent = (*balance.recent_event_ids, event_id)[-RECENT_IDS_KEPT:]
    return replace(
        balance,
        points=balance.points + points,
        version=balance.version + 1,
        last_event_id=event_id,
        recent_event_ids=recent,
    )
