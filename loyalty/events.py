"""Domain events: what `decide` concluded, in the past tense. `apply` folds them into state.

Records here are never mutated after construction. They are plain slotted dataclasses, not
frozen ones: a frozen dataclass costs ~5x more to build (0.9 vs 0.18 us for 8 fields, measured
with timeit), and the hot path builds several per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from loyalty.inputs import TransferReceived, TransferReturned
from loyalty.rebuild import rebuilt
from loyalty.state import Hold, Match, Posting, Sale, SegmentCredit


@dataclass(slots=True, init=False)
class Enrolled:
    member_id: str
    at: datetime
    enrolled_on: date
    tier: str
    attributes: tuple[tuple[str, str], ...]

    def __init__(
        self,
        member_id: str,
        at: datetime,
        enrolled_on: date,
        tier: str,
        attributes: tuple[tuple[str, str], ...],
    ) -> None:
        # written out: one per enrolment; see `Posting.__init__`
        self.member_id = member_id
        self.at = at
        self.enrolled_on = enrolled_on
        self.tier = tier
        self.attributes = attributes

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class PointsCredited:
    """Points into the lot keyed by (earned_on, unlock_on, expires_on); debt is repaid first."""

    posting: Posting
    earned_on: date
    unlock_on: date
    expires_on: date | None
    # Where the points came from (purchase, flight, partner, bonus, transfer, adjustment) and
    # how many of them a promotion added: the liability report splits the balance by these.
    source: str = ""
    promotion: int = 0

    def __init__(  # written out: built once per credit (see `Posting.__init__`)
        self,
        posting: Posting,
        earned_on: date,
        unlock_on: date,
        expires_on: date | None,
        source: str = "",
        promotion: int = 0,
    ) -> None:
        self.posting = posting
        self.earned_on = earned_on
        self.unlock_on = unlock_on
        self.expires_on = expires_on
        self.source = source
        self.promotion = promotion

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class PointsDebited:
    """Points out of the named lots (`draws`); `to_debt` is what no lot could cover."""

    posting: Posting
    draws: tuple[tuple[str, int], ...]
    to_debt: int = 0

    def __init__(  # written out: one per debit (see `Posting.__init__`)
        self, posting: Posting, draws: tuple[tuple[str, int], ...], to_debt: int = 0
    ) -> None:
        self.posting = posting
        self.draws = draws
        self.to_debt = to_debt

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class QualifyingCredited:
    posting: Posting  # currency is a qualifying currency; points may be negative (reversal)

    def __init__(self, posting: Posting) -> None:  # written out (see `Posting.__init__`)
        self.posting = posting

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class SaleRecorded:
    sale: Sale
    forget_before: date  # sales sold before this can no longer be refunded: forgotten

    def __init__(  # written out (see `Posting.__init__`)
        self,
        sale: Sale,
        forget_before: date,
    ) -> None:
        self.sale = sale
        self.forget_before = forget_before

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class SaleRefunded:
    sale_id: str
    amount: Decimal
    points_reversed: int
    qualifying_reversed: tuple[tuple[str, int], ...]
    bonus_reversed: bool

    def __init__(  # written out (see `Posting.__init__`)
        self,
        sale_id: str,
        amount: Decimal,
        points_reversed: int,
        qualifying_reversed: tuple[tuple[str, int], ...],
        bonus_reversed: bool,
    ) -> None:
        self.sale_id = sale_id
        self.amount = amount
        self.points_reversed = points_reversed
        self.qualifying_reversed = qualifying_reversed
        self.bonus_reversed = bonus_reversed

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class SegmentRecorded:
    credit: SegmentCredit
    forget_before: date


@dataclass(slots=True)
class SegmentReversed:
    segment_id: str


@dataclass(slots=True, init=False)
class PartnerTransactionRecorded:
    key: str
    on: date
    forget_before: date

    def __init__(  # written out (see `Posting.__init__`)
        self,
        key: str,
        on: date,
        forget_before: date,
    ) -> None:
        self.key = key
        self.on = on
        self.forget_before = forget_before

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class DailyAccrualCounted:
    day: date
    partner_id: str | None
    points: int

    def __init__(self, day: date, partner_id: str | None, points: int) -> None:
        # written out: one per accrual on the general path; see `Posting.__init__`
        self.day = day
        self.partner_id = partner_id
        self.points = points

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class AccrualHeld:
    """Points held for review; the posting is in the held currency (`<points>_held`), so the
    ledger shows every hold and its settlement."""

    member_id: str
    hold: Hold
    posting: Posting

    @property
    def at(self) -> datetime:
        return self.hold.at

    @property
    def cause(self) -> str:
        return self.posting.cause

    @property
    def reason(self) -> str:
        return self.hold.reason


@dataclass(slots=True)
class HoldSettled:
    """A hold ends: `released` (credited), `rejected`, `expired` (settled by the programme's
    rule; `released` tells which way) or `voided` (its sale or flight was reversed)."""

    member_id: str
    at: datetime
    hold_id: str
    outcome: str
    released: bool
    cause: str
    reason: str
    operator_id: str | None
    posting: Posting  # takes the points out of the held currency


@dataclass(slots=True)
class HeldCreditAttached:
    """Released points become the credit of the sale or segment they were held from, so a
    later refund or cancellation reverses them."""

    ref: str
    source: str
    points: int
    reversed: int  # of those, already refunded while held
    lot_id: str | None


@dataclass(slots=True)
class PointsAdjusted:
    """A manual adjustment, for the member-events audit trail (the posting moves the points)."""

    member_id: str
    at: datetime
    points: int
    cause: str
    reason: str
    operator_id: str


@dataclass(slots=True)
class AlertRaised:
    """For operators (ops topic / alerts.jsonl); changes no state."""

    member_id: str
    at: datetime
    code: str
    message: str
    cause: str


@dataclass(slots=True)
class PurchaseCounted:
    on: date


@dataclass(slots=True, init=False)
class ActivityRecorded:
    on: date

    def __init__(self, on: date) -> None:
        # written out: one per activity on the general path; see `Posting.__init__`
        self.on = on

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class TransferSent:
    year: int
    points: int
    transfer_id: str = ""  # in flight under this id until dispatched at the next clock


@dataclass(slots=True)
class TransferDispatched:
    """The transfer left the sender's book at a clock: no longer in flight for the sender (a
    recipient who cannot take it sends it back, with an alert, at the clock after)."""

    transfer_id: str


@dataclass(slots=True)
class FollowUpIssued:
    """An input for another member (transfer credit or return); changes no state here."""

    follow_up: TransferReceived | TransferReturned


@dataclass(slots=True, init=False)
class EventRecorded:
    """The input's key (event or command id) and content digest are remembered until
    `forget_before` passes the input's day; time moves to the input's."""

    key: str
    fingerprint: str
    at: datetime
    forget_before: int  # day ordinal: ids of inputs before this day may be forgotten
    sweep_every: int  # days between sweeps of the remembered ids

    def __init__(  # written out: one per input on the general path (see `Posting.__init__`)
        self, key: str, fingerprint: str, at: datetime, forget_before: int, sweep_every: int
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.at = at
        self.forget_before = forget_before
        self.sweep_every = sweep_every

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class RejectionRecorded:
    """A rejected input's key is remembered too (its redelivery is a duplicate); time does not
    move and nothing else changes. (Its `__init__` is the generated one: rejections are rare,
    and written out it was a copy of `EventRecorded`'s.)"""

    key: str
    fingerprint: str
    at: datetime
    forget_before: int
    sweep_every: int


@dataclass(slots=True, init=False)
class TimeAdvanced:
    to: datetime

    def __init__(self, to: datetime) -> None:
        # written out: one per member due with changes, at clocks; see `Posting.__init__`
        self.to = to

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


# -- status (domain core II) ---------------------------------------------------------------
# Events carrying `member_id, at, cause, reason` are also status-change records for operators
# and downstream systems (status_changes.jsonl, the member-events topic).


@dataclass(slots=True, init=False)
class PeriodOpened:
    """A qualification period starts (at enrolment and at every period end)."""

    start: date
    end: date
    qualifying: dict[str, int]  # rollover credit the period starts with

    def __init__(self, start: date, end: date, qualifying: dict[str, int]) -> None:
        # written out: one per period end, at clocks; see `Posting.__init__`
        self.start = start
        self.end = end
        self.qualifying = qualifying

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class PeriodClosed:
    earned_tier: str  # the tier requalified for the next period
    periods_at: tuple[str, ...]  # tiers the ended period counts towards (lifetime status)
    lifetime_tier: str | None

    def __init__(
        self, earned_tier: str, periods_at: tuple[str, ...], lifetime_tier: str | None
    ) -> None:
        # written out: one per period end, at clocks; see `Posting.__init__`
        self.earned_tier = earned_tier
        self.periods_at = periods_at
        self.lifetime_tier = lifetime_tier

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class EarnedTierRaised:
    tier: str


@dataclass(slots=True)
class TierChanged:
    member_id: str
    at: datetime
    from_tier: str
    to_tier: str
    cause: str
    reason: str


@dataclass(slots=True, init=False)
class ClassChanged:
    member_id: str
    at: datetime
    from_code: str | None
    to_code: str
    cause: str
    reason: str

    def __init__(
        self,
        member_id: str,
        at: datetime,
        from_code: str | None,
        to_code: str,
        cause: str,
        reason: str,
    ) -> None:
        # written out: ~20,000 per 100,000 inputs, at grading; see `Posting.__init__`
        self.member_id = member_id
        self.at = at
        self.from_code = from_code
        self.to_code = to_code
        self.cause = cause
        self.reason = reason

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class VolumeCounted:
    period: str  # grading period key
    amount: int
    keep_from: str | None = None  # volumes of periods before this one are graded: forget them

    def __init__(self, period: str, amount: int, keep_from: str | None = None) -> None:
        # written out: one per credit on the general path; see `Posting.__init__`
        self.period = period
        self.amount = amount
        self.keep_from = keep_from

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class MatchGranted:
    member_id: str
    at: datetime
    match: Match
    from_tier: str
    cause: str
    reason: str


@dataclass(slots=True)
class MatchProgressed:
    credits: dict[str, int]


@dataclass(slots=True)
class MatchConfirmed:
    member_id: str
    at: datetime
    tier: str
    confirmed_until: date
    cause: str
    reason: str


@dataclass(slots=True)
class MatchExpired:
    member_id: str
    at: datetime
    tier: str
    cause: str
    reason: str


@dataclass(slots=True)
class MatchEnded:
    """A confirmed match has run its course; the tier falls back to what was earned."""


@dataclass(slots=True, init=False)
class StageChanged:
    member_id: str
    at: datetime
    from_stage: str
    to_stage: str
    cause: str
    reason: str

    def __init__(  # written out: ~20,000 per 100,000 inputs, at clocks (see `Posting.__init__`)
        self, member_id: str, at: datetime, from_stage: str, to_stage: str, cause: str, reason: str
    ) -> None:
        self.member_id = member_id
        self.at = at
        self.from_stage = from_stage
        self.to_stage = to_stage
        self.cause = cause
        self.reason = reason

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class ActivityPruned:
    before: int  # day ordinal: older activity no longer matters

    def __init__(self, before: int) -> None:
        # written out: ~24,000 per 100,000 inputs; see `Posting.__init__`
        self.before = before

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class RuleFired:
    """A retention rule held: a barrier flag or a retention offer."""

    member_id: str
    at: datetime
    rule_id: str
    action: str
    offer: str | None
    cause: str
    reason: str


@dataclass(slots=True)
class BarrierApplied:
    """A built-in barrier took effect: soft landing, rollover, lifetime status or
    activity-extended expiry."""

    member_id: str
    at: datetime
    barrier: str
    cause: str
    reason: str


DomainEvent = (
    Enrolled
    | PointsCredited
    | PointsDebited
    | QualifyingCredited
    | SaleRecorded
    | SaleRefunded
    | SegmentRecorded
    | SegmentReversed
    | PartnerTransactionRecorded
    | DailyAccrualCounted
    | AccrualHeld
    | AlertRaised
    | PointsAdjusted
    | HoldSettled
    | HeldCreditAttached
    | PurchaseCounted
    | ActivityRecorded
    | TransferSent
    | TransferDispatched
    | FollowUpIssued
    | EventRecorded
    | RejectionRecorded
    | TimeAdvanced
    | PeriodOpened
    | PeriodClosed
    | EarnedTierRaised
    | TierChanged
    | ClassChanged
    | VolumeCounted
    | MatchGranted
    | MatchProgressed
    | MatchConfirmed
    | MatchExpired
    | MatchEnded
    | StageChanged
    | ActivityPruned
    | RuleFired
    | BarrierApplied
)

# Events that carry a ledger posting: what the ledger file and topic are made of.
POSTING_EVENTS: frozenset[type] = frozenset(
    {PointsCredited, PointsDebited, QualifyingCredited, AccrualHeld, HoldSettled}
)
