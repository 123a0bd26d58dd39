"""A member's state: lots of points, qualifying credit and the memory rules need.

Mutable on purpose: `apply` folds domain events into it in place, which keeps the hot path free
of copying a member's lots on every event. `decide` only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from loyalty.calendar import Moment, moment_of
from loyalty.rebuild import rebuilt

DEBT_LOT = "debt"
_ZERO = Decimal(0)


@dataclass(slots=True, init=False)
class Lot:
    """Points earned together: same earning day, unlock day and expiry day."""

    lot_id: str
    earned_on: date
    unlock_on: date
    expires_on: date | None
    remaining: int  # negative only for the debt lot

    def __init__(  # written out: one per credit (see `Posting.__init__`)
        self, lot_id: str, earned_on: date, unlock_on: date, expires_on: date | None, remaining: int
    ) -> None:
        self.lot_id = lot_id
        self.earned_on = earned_on
        self.unlock_on = unlock_on
        self.expires_on = expires_on
        self.remaining = remaining

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class Posting:
    """One line of the ledger. Its id is derived from its cause, so replays produce it again."""

    posting_id: str
    member_id: str
    at: datetime
    currency: str
    points: int
    kind: str
    cause: str
    lot_id: str | None = None  # the one lot touched, if exactly one
    # Debits: every lot the points came from, and ("debt", n) for what went into debt.
    draws: tuple[tuple[str, int], ...] = ()
    reason: str | None = None  # manual adjustments and holds: why, and who decided
    operator_id: str | None = None

    # Written out, not generated: compiled with the rulebook (mypyc leaves a dataclass's
    # generated __init__ interpreted), a posting is built ~8x faster. See docs/performance.md.
    # Such a class needs `__reduce__` to be copied or pickled compiled (loyalty/rebuild.py).
    def __init__(
        self,
        posting_id: str,
        member_id: str,
        at: datetime,
        currency: str,
        points: int,
        kind: str,
        cause: str,
        lot_id: str | None = None,
        draws: tuple[tuple[str, int], ...] = (),
        reason: str | None = None,
        operator_id: str | None = None,
    ) -> None:
        self.posting_id = posting_id
        self.member_id = member_id
        self.at = at
        self.currency = currency
        self.points = points
        self.kind = kind
        self.cause = cause
        self.lot_id = lot_id
        self.draws = draws
        self.reason = reason
        self.operator_id = operator_id

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)

    def fields(self) -> dict[str, object]:
        """The fields in declaration order: what orjson writes for the dataclass, built here
        because orjson reads a compiled (slotted) dataclass field by field through its
        descriptors. A ledger line per posting, in replay and the stream (writing the 100k
        bench's outputs: 0.71-0.81 s before, 0.58-0.64 s after; docs/performance.md)."""
        return {
            "posting_id": self.posting_id,
            "member_id": self.member_id,
            "at": self.at,
            "currency": self.currency,
            "points": self.points,
            "kind": self.kind,
            "cause": self.cause,
            "lot_id": self.lot_id,
            "draws": self.draws,
            "reason": self.reason,
            "operator_id": self.operator_id,
        }


@dataclass(slots=True, init=False)
class Sale:
    sale_id: str
    sold_on: date
    amount: Decimal  # in the sale's currency
    currency: str
    points: int  # earned by the sale itself (base x multipliers); bonuses are separate
    bonus_points: int
    qualifying: dict[str, int]
    lot_id: str | None
    refunded: Decimal = Decimal(0)
    points_reversed: int = 0
    qualifying_reversed: dict[str, int] = field(default_factory=dict)
    bonus_reversed: bool = False

    def __init__(  # written out: one per purchase (see `Posting.__init__`)
        self,
        sale_id: str,
        sold_on: date,
        amount: Decimal,
        currency: str,
        points: int,
        bonus_points: int,
        qualifying: dict[str, int],
        lot_id: str | None,
        refunded: Decimal = _ZERO,
        points_reversed: int = 0,
        qualifying_reversed: dict[str, int] | None = None,
        bonus_reversed: bool = False,
    ) -> None:
        self.sale_id = sale_id
        self.sold_on = sold_on
        self.amount = amount
        self.currency = currency
        self.points = points
        self.bonus_points = bonus_points
        self.qualifying = qualifying
        self.lot_id = lot_id
        self.refunded = refunded
        self.points_reversed = points_reversed
        self.qualifying_reversed = {} if qualifying_reversed is None else qualifying_reversed
        self.bonus_reversed = bonus_reversed

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class SegmentCredit:
    segment_id: str
    flown_on: date
    points: int
    qualifying: dict[str, int]
    lot_id: str | None
    reversed: bool = False

    def __init__(  # written out: one per flown segment (see `Posting.__init__`)
        self,
        segment_id: str,
        flown_on: date,
        points: int,
        qualifying: dict[str, int],
        lot_id: str | None,
        reversed: bool = False,
    ) -> None:
        self.segment_id = segment_id
        self.flown_on = flown_on
        self.points = points
        self.qualifying = qualifying
        self.lot_id = lot_id
        self.reversed = reversed

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True)
class Hold:
    """An accrual held for review (velocity limits): not credited until released."""

    hold_id: str
    at: datetime
    source: str
    points: int
    reason: str
    ref: str | None = None  # the sale or flight segment it belongs to, if any
    expires_on: date | None = None  # undecided by then: the programme's expiry outcome applies


@dataclass(slots=True)
class Match:
    """A status match: the tier granted on a competitor's evidence, on probation until the
    challenge target is met inside the window."""

    match_id: str
    competitor: str
    tier: str
    granted_on: date
    ends_on: date  # last day of the challenge window
    target: dict[str, int]
    progress: dict[str, int] = field(default_factory=dict)
    confirmed_until: date | None = None  # set once the target is met

    @property
    def confirmed(self) -> bool:
        return self.confirmed_until is not None


@dataclass(slots=True)
class MemberState:
    member_id: str
    enrolled_on: date
    tier: str
    as_of: datetime
    attributes: tuple[tuple[str, str], ...] = ()
    lots: list[Lot] = field(default_factory=list)  # debt lot first, then oldest first
    qualifying: dict[str, int] = field(default_factory=dict)
    # input key (event or command id) -> (content digest, day ordinal of the input's time);
    # entries older than the duplicate horizon are swept (loyalty.apply._remember).
    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    seen_swept: int = 0  # day ordinal of the last sweep's cutoff
    sales: dict[str, Sale] = field(default_factory=dict)  # oldest first
    segments: dict[str, SegmentCredit] = field(default_factory=dict)
    partner_txns: dict[str, date] = field(default_factory=dict)
    day_totals: dict[str, int] = field(default_factory=dict)  # "<day>|*" and "<day>|<partner>"
    held: list[Hold] = field(default_factory=list)
    purchases: int = 0
    first_purchase_on: date | None = None
    last_activity_on: date | None = None
    transfers_out: dict[int, int] = field(default_factory=dict)  # year -> points sent
    in_flight: dict[str, int] = field(default_factory=dict)  # transfer id -> points, undelivered
    # Status (domain core II). `tier` is what the member holds (and earns with); it is the
    # highest of the earned tier, a lifetime tier and a status match.
    earned_tier: str = ""
    lifetime_tier: str | None = None
    period_start: date | None = None
    period_end: date | None = None  # last day of the current qualification period
    period_qualifying: dict[str, int] = field(default_factory=dict)
    periods_at: dict[str, int] = field(default_factory=dict)  # tier -> periods ended at/above
    match: Match | None = None
    last_match_on: date | None = None
    class_code: str | None = None
    grading_volume: dict[str, int] = field(default_factory=dict)  # grading period -> volume
    stage: str = ""
    activity_days: dict[int, int] = field(default_factory=dict)  # day ordinal -> activities
    # The oldest day in activity_days, kept in step by apply and rebuilt when None (never
    # persisted): checked at every event, where `min` over the days cost ~5% of a replay.
    oldest_activity: int | None = field(default=None, compare=False)
    rules_fired: dict[str, date] = field(default_factory=dict)  # retention rule -> last fired
    version: int = 0  # events applied so far: read models keep the newest copy by it
    # Memos, not state: the day and day ordinal of `as_of`, and the day ordinals of
    # `enrolled_on` and `last_activity_on`, each valid while its source is the same object
    # (`as_of_moment`, `enrolled_ordinal`, `activity_ordinal`). They are read after every
    # input and at every due member, where each `date()` or `toordinal()` is a generic method
    # call from the compiled rulebook. orjson leaves out fields named with `_`, so the
    # changelog does not hold them, and equality ignores them.
    _as_of_moment: Moment | None = field(default=None, compare=False, repr=False)
    _enrolled_key: date | None = field(default=None, compare=False, repr=False)
    _enrolled_ordinal: int = field(default=0, compare=False, repr=False)
    _activity_key: date | None = field(default=None, compare=False, repr=False)
    _activity_ordinal: int = field(default=0, compare=False, repr=False)

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    def available(self, on: date) -> int:
        """Redeemable now: unlocked lots net of any debt."""
        return sum(lot.remaining for lot in self.lots if lot.unlock_on <= on)

    def pending(self, on: date) -> int:
        return sum(lot.remaining for lot in self.lots if lot.unlock_on > on)

    @property
    def has_points(self) -> bool:
        """Any lot with points left (empty lots are removed, so only the debt lot can be <= 0)."""
        lots = self.lots
        return len(lots) > 1 or (len(lots) == 1 and lots[0].lot_id != DEBT_LOT)

    @property
    def debt(self) -> int:
        return -self.lots[0].remaining if self.lots and self.lots[0].lot_id == DEBT_LOT else 0


def as_of_moment(state: MemberState) -> Moment:
    """`as_of` with its day and day ordinal (memoised on the state, by identity)."""
    moment = state._as_of_moment
    if moment is None or moment.at is not state.as_of:
        moment = moment_of(state.as_of)
        state._as_of_moment = moment
    return moment


def enrolled_ordinal(state: MemberState) -> int:
    """`enrolled_on.toordinal()` (memoised on the state, by identity)."""
    if state._enrolled_key is not state.enrolled_on:
        state._enrolled_ordinal = state.enrolled_on.toordinal()
        state._enrolled_key = state.enrolled_on
    return state._enrolled_ordinal


def activity_ordinal(state: MemberState) -> int | None:
    """`last_activity_on.toordinal()`, None without activity (memoised on the state)."""
    last = state.last_activity_on
    if last is None:
        return None
    if state._activity_key is not last:
        state._activity_ordinal = last.toordinal()
        state._activity_key = last
    return state._activity_ordinal
