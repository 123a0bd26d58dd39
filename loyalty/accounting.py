"""Where every point came from and where it went: the books behind the liability report and
the what-if simulator. Pure: it watches the domain events a book applies, in order.

The engine's lots hold points by date only (earned, unlock, expiry). This mirror keeps, inside
each lot, which sources filled it, oldest first, and applies the engine's own arithmetic: a
credit repays debt before it reaches a lot; a debit takes from the lots its posting names;
inside a lot, points leave in the order they arrived. `reconcile` proves the mirror equals the
engine's lots member by member, so every figure split by source adds up to the balances.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from loyalty import events as ev
from loyalty.state import MemberState

PROMOTION = "promotion"
# Debit kinds, as finance reads them: points redeemed (used by the member, incl. transfers out),
# expired (breakage), reversed (a refund or cancellation undoing the accrual), adjusted.
SPENT_KINDS = frozenset({"redeem", "transfer_out", "transfer_fee"})


def month_of(day: date | datetime) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def lot_month(lot_id: str) -> str:
    """The month a lot was earned in (lot ids start `L<yyyy-mm-dd>`, see loyalty.lots)."""
    return lot_id[1:8]


@dataclass
class Cohort:
    """Points issued in one month (into lots earned that month) and what became of them."""

    issued: int = 0
    spent: int = 0
    expired: int = 0
    reversed: int = 0
    adjusted: int = 0

    @property
    def outstanding(self) -> int:
        return self.issued - self.spent - self.expired - self.reversed - self.adjusted


@dataclass(slots=True)
class _Part:
    source: str
    points: int


@dataclass
class _Member:
    debt: int = 0
    lots: dict[str, list[_Part]] = field(default_factory=dict)  # lot id -> parts, oldest first


@dataclass
class Accounts:
    """Points by source, by cohort and by month for one book; fed every (member, event)."""

    earned: Counter[str] = field(default_factory=Counter)  # credited, by source
    debits: Counter[str] = field(default_factory=Counter)  # taken out, by posting kind
    cohorts: dict[str, Cohort] = field(default_factory=dict)
    expired_by_month: Counter[str] = field(default_factory=Counter)  # by the expiry's date
    # Outstanding (sum of balances) at the end of each month the history went through, taken
    # when processing time first reaches a later month.
    month_end: dict[str, int] = field(default_factory=dict)
    balance: int = 0  # running sum of every points posting
    _members: dict[str, _Member] = field(default_factory=dict)
    _month: str | None = None

    def at(self, now: datetime) -> None:
        """Processing time moved to `now` (an input's or clock's time): close earlier months."""
        month = month_of(now)
        if self._month is None or month > self._month:
            if self._month is not None:
                self.month_end[self._month] = self.balance
            self._month = month

    def close(self) -> None:
        """End of the history: the month in progress gets its figure too."""
        if self._month is not None:
            self.month_end[self._month] = self.balance

    def observe(self, member_id: str, event: ev.DomainEvent) -> None:
        kind = type(event)
        if kind is ev.PointsCredited:
            assert isinstance(event, ev.PointsCredited)
            self._credit(member_id, event)
        elif kind is ev.PointsDebited:
            assert isinstance(event, ev.PointsDebited)
            self._debit(member_id, event)

    def _credit(self, member_id: str, event: ev.PointsCredited) -> None:
        posting = event.posting
        points = posting.points
        self.balance += points
        promoted = event.promotion
        self.earned[event.source] += points - promoted
        self.earned[PROMOTION] += promoted
        member = self._members.setdefault(member_id, _Member())
        repaid = min(points, member.debt)
        member.debt -= repaid
        left = points - repaid
        if left <= 0:
            return
        # Debt is repaid from the credit's first points: the ordinary earn before the
        # promotion's share, so what reaches the lot keeps the promoted points last.
        base = max(0, points - promoted - repaid)
        parts = [(event.source, base), (PROMOTION, left - base)]
        assert posting.lot_id is not None
        lot = member.lots.setdefault(posting.lot_id, [])
        for source, amount in parts:
            if amount <= 0:
                continue
            if lot and lot[-1].source == source:
                lot[-1].points += amount
            else:
                lot.append(_Part(source, amount))
        self._cohort(posting.lot_id).issued += left

    def _debit(self, member_id: str, event: ev.PointsDebited) -> None:
        posting = event.posting
        self.balance += posting.points
        kind = posting.kind
        self.debits[kind] += -posting.points
        member = self._members.setdefault(member_id, _Member())
        for lot_id, take in event.draws:
            cohort = self._cohort(lot_id)
            if kind in SPENT_KINDS:
                cohort.spent += take
            elif kind == "expire":
                cohort.expired += take
                self.expired_by_month[month_of(posting.at)] += take
            elif kind == "reverse":
                cohort.reversed += take
            else:
                cohort.adjusted += take
            parts = member.lots[lot_id]
            while take:
                first = parts[0]
                used = min(first.points, take)
                take -= used
                first.points -= used
                if not first.points:
                    parts.pop(0)
            if not parts:
                del member.lots[lot_id]
        member.debt += event.to_debt

    def _cohort(self, lot_id: str) -> Cohort:
        month = lot_month(lot_id)
        cohort = self.cohorts.get(month)
        if cohort is None:
            cohort = self.cohorts[month] = Cohort()
        return cohort

    def by_source(self, member_id: str) -> dict[str, dict[str, int]]:
        """Per lot of the member: points left by source."""
        member = self._members.get(member_id)
        if member is None:
            return {}
        out: dict[str, dict[str, int]] = {}
        for lot_id, parts in member.lots.items():
            split: Counter[str] = Counter()
            for part in parts:
                split[part.source] += part.points
            out[lot_id] = dict(split)
        return out

    def reconcile(self, members: Iterable[MemberState]) -> list[str]:
        """Members whose lots (or debt) the mirror does not match: empty when every figure
        split by source adds up to the engine's balances."""
        wrong = []
        for state in members:
            mirror = self._members.get(state.member_id, _Member())
            lots = {lot_id: sum(p.points for p in parts) for lot_id, parts in mirror.lots.items()}
            engine = {lot.lot_id: lot.remaining for lot in state.lots if lot.remaining > 0}
            if lots != engine or mirror.debt != state.debt:
                wrong.append(state.member_id)
        return wrong
