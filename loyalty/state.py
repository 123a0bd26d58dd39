"""A member's state: lots of points, qualifying credit and the memory rules need.

Mutable on purpose: `apply` folds domain events into it in place, which keeps the hot path free
of copying a member's lots on every event. `decide` only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import orjson

from loyalty.activity import ActivityWindow, window_counts_of
from loyalty.calendar import Moment, as_written, moment_of
from loyalty.program_status import Grading
from loyalty.rebuild import rebuilt

DEBT_LOT: Final = "debt"
_ZERO: Final = Decimal(0)
NO_DAY: Final = date.max.toordinal() + 1  # a day ordinal after every date: "never"
# A sale's `qualifying_reversed` until a refund reverses some: one empty dict shared by every
# such sale (most sales are never refunded; a dict each was an object and 64 bytes a sale).
# Never changed in place: a refund gives the sale a new dict (`loyalty.apply._refunded`).
NOT_REVERSED: Final[dict[str, int]] = {}
# Bound once: compiled, a module's attribute is looked up at each use (a posting's line).
_DUMPS: Final = orjson.dumps
_NAIVE_UTC: Final = orjson.OPT_NAIVE_UTC


@dataclass(slots=True, init=False)
class Lot:
    """Points earned together: same earning day, unlock day and expiry day."""

    lot_id: str
    earned_on: date  # the dates are the lot's identity (its id is made of them): never reassigned
    unlock_on: date
    expires_on: date | None
    remaining: int  # negative only for the debt lot
    # The dates' day ordinals (`NO_DAY` for no expiry), for the due scans after every input:
    # native int comparisons where date objects compare through generic calls. Memos, set
    # here once: orjson leaves `_` fields out of the changelog, and equality ignores them.
    _earned: int = field(init=False, compare=False, repr=False)
    _unlock: int = field(init=False, compare=False, repr=False)
    _expires: int = field(init=False, compare=False, repr=False)

    def __init__(  # written out: one per credit (see `Posting.__init__`)
        self, lot_id: str, earned_on: date, unlock_on: date, expires_on: date | None, remaining: int
    ) -> None:
        self.lot_id = lot_id
        self.earned_on = earned_on
        self.unlock_on = unlock_on
        self.expires_on = expires_on
        self.remaining = remaining
        self._earned = earned_on.toordinal()
        self._unlock = self._earned if unlock_on == earned_on else unlock_on.toordinal()
        self._expires = NO_DAY if expires_on is None else expires_on.toordinal()

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
        descriptors (writing the 100k bench's outputs: 0.71-0.81 s before, 0.58-0.64 s after;
        docs/performance.md). A ledger line is these fields written (`line`)."""
        return self._fields(self.at)

    def line(self, option: int = 0) -> bytes:
        """`orjson.dumps(self.fields(), option=option)`: a ledger line (replay's file, the
        stream's ledger topic), its time given to orjson as a naive UTC time (`as_written`)."""
        return _DUMPS(self._fields(as_written(self.at)), option=option | _NAIVE_UTC)

    def _fields(self, at: object) -> dict[str, object]:
        return {
            "posting_id": self.posting_id,
            "member_id": self.member_id,
            "at": at,
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
        self.qualifying_reversed = (
            NOT_REVERSED if qualifying_reversed is None else qualifying_reversed
        )
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


@dataclass(slots=True, init=False)
class Hold:
    """An accrual held for review (velocity limits): not credited until released."""

    hold_id: str
    at: datetime
    source: str
    points: int
    reason: str
    ref: str | None = None  # the sale or flight segment it belongs to, if any
    expires_on: date | None = None  # undecided by then: the programme's expiry outcome applies
    # `expires_on`'s day ordinal (`NO_DAY` for none), a memo like a lot's: the due scans run
    # over every hold of a member at each of its inputs and wake-ups, and a member held by the
    # velocity limits all month keeps hundreds (the 1M bench file has one with 1,224), where
    # a date compares and converts through generic calls.
    _expires: int = field(init=False, compare=False, repr=False)

    def __init__(  # written out for the memo (see `Lot.__init__`)
        self,
        hold_id: str,
        at: datetime,
        source: str,
        points: int,
        reason: str,
        ref: str | None = None,
        expires_on: date | None = None,
    ) -> None:
        self.hold_id = hold_id
        self.at = at
        self.source = source
        self.points = points
        self.reason = reason
        self.ref = ref
        self.expires_on = expires_on
        self._expires = NO_DAY if expires_on is None else expires_on.toordinal()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


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


@dataclass(slots=True, init=False)
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
    # `enrolled_on`, `last_activity_on` and `period_end`, each valid while its source is the
    # same object (`as_of_moment`, `enrolled_ordinal`, `activity_ordinal`,
    # `period_end_ordinal`). They are read after every input and at every due member, where
    # each `date()` or `toordinal()` is a generic method call from the compiled rulebook.
    # orjson leaves out fields named with `_`, so the changelog does not hold them, and
    # equality ignores them.
    _as_of_moment: Moment | None = field(default=None, init=False, compare=False, repr=False)
    # Each day memo is a (date, ordinal) pair of fields on the state itself, valid while the
    # date is the same object (a state's dates are replaced, never changed): an object per
    # memo was three more objects a member, each its own cache line to miss at every touch.
    _enrolled_key: date | None = field(default=None, init=False, compare=False, repr=False)
    _enrolled_ordinal: int = field(default=0, init=False, compare=False, repr=False)
    _activity_key: date | None = field(default=None, init=False, compare=False, repr=False)
    _activity_ordinal: int = field(default=0, init=False, compare=False, repr=False)
    _period_end_key: date | None = field(default=None, init=False, compare=False, repr=False)
    _period_end_ordinal: int = field(default=0, init=False, compare=False, repr=False)
    # The lifecycle window counts over `activity_days`, slid forward (loyalty/activity.py).
    _activity_window: ActivityWindow | None = field(
        default=None, init=False, compare=False, repr=False
    )
    # The grading segment: (grading, attributes, segment), see `loyalty.grading.member_segment`.
    _segment: tuple[Grading, tuple[tuple[str, str], ...], str] | None = field(
        default=None, init=False, compare=False, repr=False
    )
    # The member's next due day (a day ordinal) in the due index of the book holding the state
    # (`loyalty.book.Book._schedule`), `NO_DAY` when nothing is due. The book's, kept here: read
    # after every input, a field of the state in hand where a table of every member was a
    # cache miss (two at a million members). A state belongs to one book at a time.
    _due: int = field(default=NO_DAY, init=False, compare=False, repr=False)
    # Whether `seen`'s entries are in day order (insertion order is then oldest first, so a
    # sweep stops at the first entry it keeps): known for the dict `_seen_for` while it has
    # `_seen_len` entries, the last of them on day `_seen_last` (`loyalty.apply.remember`).
    _seen_for: dict[str, tuple[str, int]] | None = field(
        default=None, init=False, compare=False, repr=False
    )
    _seen_len: int = field(default=0, init=False, compare=False, repr=False)
    _seen_last: int = field(default=0, init=False, compare=False, repr=False)
    # The first expiry day among `held`'s first `_held_len` holds, for the list `_held_for`
    # (`first_hold_expiry`). A hold is added by appending and settled by building a new list
    # (loyalty/apply.py), so the memo stays right for its list while it only grows.
    _held_for: list[Hold] | None = field(default=None, init=False, compare=False, repr=False)
    _held_len: int = field(default=0, init=False, compare=False, repr=False)
    _held_first: int = field(default=NO_DAY, init=False, compare=False, repr=False)

    # Written out, not generated (see `Posting.__init__`): one per enrolment, and per member
    # restored from the changelog; generated, it was ~5% of a replay's instructions.
    def __init__(
        self,
        member_id: str,
        enrolled_on: date,
        tier: str,
        as_of: datetime,
        attributes: tuple[tuple[str, str], ...] = (),
        lots: list[Lot] | None = None,
        qualifying: dict[str, int] | None = None,
        seen: dict[str, tuple[str, int]] | None = None,
        seen_swept: int = 0,
        sales: dict[str, Sale] | None = None,
        segments: dict[str, SegmentCredit] | None = None,
        partner_txns: dict[str, date] | None = None,
        day_totals: dict[str, int] | None = None,
        held: list[Hold] | None = None,
        purchases: int = 0,
        first_purchase_on: date | None = None,
        last_activity_on: date | None = None,
        transfers_out: dict[int, int] | None = None,
        in_flight: dict[str, int] | None = None,
        earned_tier: str = "",
        lifetime_tier: str | None = None,
        period_start: date | None = None,
        period_end: date | None = None,
        period_qualifying: dict[str, int] | None = None,
        periods_at: dict[str, int] | None = None,
        match: Match | None = None,
        last_match_on: date | None = None,
        class_code: str | None = None,
        grading_volume: dict[str, int] | None = None,
        stage: str = "",
        activity_days: dict[int, int] | None = None,
        oldest_activity: int | None = None,
        rules_fired: dict[str, date] | None = None,
        version: int = 0,
    ) -> None:
        self.member_id = member_id
        self.enrolled_on = enrolled_on
        self.tier = tier
        self.as_of = as_of
        self.attributes = attributes
        self.lots = [] if lots is None else lots
        self.qualifying = {} if qualifying is None else qualifying
        self.seen = {} if seen is None else seen
        self.seen_swept = seen_swept
        self.sales = {} if sales is None else sales
        self.segments = {} if segments is None else segments
        self.partner_txns = {} if partner_txns is None else partner_txns
        self.day_totals = {} if day_totals is None else day_totals
        self.held = [] if held is None else held
        self.purchases = purchases
        self.first_purchase_on = first_purchase_on
        self.last_activity_on = last_activity_on
        self.transfers_out = {} if transfers_out is None else transfers_out
        self.in_flight = {} if in_flight is None else in_flight
        self.earned_tier = earned_tier
        self.lifetime_tier = lifetime_tier
        self.period_start = period_start
        self.period_end = period_end
        self.period_qualifying = {} if period_qualifying is None else period_qualifying
        self.periods_at = {} if periods_at is None else periods_at
        self.match = match
        self.last_match_on = last_match_on
        self.class_code = class_code
        self.grading_volume = {} if grading_volume is None else grading_volume
        self.stage = stage
        self.activity_days = {} if activity_days is None else activity_days
        self.oldest_activity = oldest_activity
        self.rules_fired = {} if rules_fired is None else rules_fired
        self.version = version
        self._as_of_moment = None
        self._enrolled_key = None
        self._enrolled_ordinal = 0
        self._activity_key = None
        self._activity_ordinal = 0
        self._period_end_key = None
        self._period_end_ordinal = 0
        self._activity_window = None
        self._segment = None
        self._due = NO_DAY
        self._seen_for = None
        self._seen_len = 0
        self._seen_last = 0
        self._held_for = None
        self._held_len = 0
        self._held_first = NO_DAY

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    def available(self, on: date) -> int:
        """Redeemable now: unlocked lots net of any debt."""
        return unlocked(self, on.toordinal())[0]

    def pending(self, on: date) -> int:
        return unlocked(self, on.toordinal())[1]

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
    """`enrolled_on.toordinal()` (memoised on the state)."""
    day = state.enrolled_on
    if state._enrolled_key is not day:
        state._enrolled_ordinal = day.toordinal()
        state._enrolled_key = day
    return state._enrolled_ordinal


# The ordinals below are `NO_DAY` where there is no day: compiled, an `int | None` result is
# an int object made per call, a plain `int` a machine word.


def activity_ordinal(state: MemberState) -> int:
    """`last_activity_on.toordinal()`, `NO_DAY` without activity (memoised on the state)."""
    last = state.last_activity_on
    if last is None:
        return NO_DAY
    if state._activity_key is not last:
        state._activity_ordinal = last.toordinal()
        state._activity_key = last
    return state._activity_ordinal


def period_end_ordinal(state: MemberState) -> int:
    """`period_end.toordinal()`, `NO_DAY` before a period opens (memoised on the state)."""
    end = state.period_end
    if end is None:
        return NO_DAY
    if state._period_end_key is not end:
        state._period_end_ordinal = end.toordinal()
        state._period_end_key = end
    return state._period_end_ordinal


def unlocked(state: MemberState, today: int) -> tuple[int, int]:
    """(available, pending) on day `today` (a day ordinal): the points of the lots unlocked
    by then, net of any debt, and of those still locked. One walk over every lot, by the lots'
    day ordinals: compared as dates, each lot was a generic comparison from compiled code, and
    a busy member holds hundreds of lots (a status publication, a redemption, a member's
    line in members.jsonl)."""
    available = pending = 0
    for lot in state.lots:
        if lot._unlock <= today:
            available += lot.remaining
        else:
            pending += lot.remaining
    return available, pending


def next_unlock(state: MemberState, today: int, pending_days: int) -> int:
    """The first unlock day after `today` among the lots still pending (`NO_DAY` if none).
    Pending lots are the recent ones: the walk goes back over the pending window only."""
    best = NO_DAY
    horizon = today - pending_days
    for lot in reversed(state.lots):
        if lot._earned < horizon:
            break
        unlock = lot._unlock
        if today < unlock < best:
            best = unlock
    return best


def expired_lots(state: MemberState, today: int) -> list[Lot]:
    """The live lots whose expiry day (a day ordinal) is `today` or before, in order."""
    return [lot for lot in state.lots if lot.remaining > 0 and lot._expires <= today]


def first_expiry(state: MemberState) -> int:
    """The expiry day of the first live lot that expires (`NO_DAY` if none): the next one
    when expiry follows earning (lots are oldest first)."""
    for lot in state.lots:
        if lot.remaining > 0 and lot._expires != NO_DAY:
            return lot._expires
    return NO_DAY


def first_hold_expiry(state: MemberState) -> int:
    """The first expiry day (a day ordinal) among the member's holds, `NO_DAY` if none expires.
    Asked after every input: a member over a velocity limit can hold hundreds of accruals,
    and a walk over all of them was ~55 holds an input on average at a million events
    (callgrind). Only the holds appended since the last answer are read."""
    held = state.held
    if state._held_for is held and state._held_len <= len(held):
        first, start = state._held_first, state._held_len
    else:
        first, start = NO_DAY, 0
    for index in range(start, len(held)):
        expires = held[index]._expires
        if expires < first:
            first = expires
    state._held_for = held
    state._held_len = len(held)
    state._held_first = first
    return first


def activity_counts(state: MemberState, now: int, window: int) -> tuple[int, int]:
    """(activities in the latest window, in the previous one) on day `now` (a day ordinal),
    windows of `window` days (loyalty/activity.py)."""
    memo, counts = window_counts_of(state.activity_days, window, state._activity_window, now)
    state._activity_window = memo
    return counts


def activity_added(state: MemberState, day: int) -> None:
    """`activity_days` gained one activity on `day`, in place: the window follows, or is
    dropped to be rebuilt. (A new dict needs no call: the window mirrors its dict by
    identity and rebuilds for another.)"""
    memo = state._activity_window
    if memo is not None and not memo.added(day):
        state._activity_window = None


def activity_pruned(state: MemberState, before: int) -> None:
    """The days before `before` were removed from `activity_days`: the window follows, or is
    dropped to be rebuilt."""
    memo = state._activity_window
    if memo is not None and not memo.pruned(before):
        state._activity_window = None
