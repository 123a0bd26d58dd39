"""The day memos (`calendar.moment_of`, the state's `as_of_moment`, `enrolled_ordinal`,
`activity_ordinal`, a lot's ordinals) answer what `date()` and `toordinal()` answer, whatever
was asked before and however the fields were reassigned, and never reach the changelog; the
remembered date arithmetic (`add_months`, `iso_day`, `lot_id`, `period_key`) answers as
computed afresh, past its bound too."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty import calendar as calendar_module
from loyalty import lots as lots_module
from loyalty.calendar import (
    MEMO_LIMIT,
    add_months,
    day_at,
    day_of,
    days_before,
    iso_day,
    iso_day_before,
    moment_of,
    ordinal_of,
)
from loyalty.grading import member_segment, period_key
from loyalty.lots import lot_id, reversal_order
from loyalty.program_status import Band, Grading
from loyalty.state import (
    DEBT_LOT,
    NO_DAY,
    Hold,
    Lot,
    MemberState,
    activity_ordinal,
    as_of_moment,
    enrolled_ordinal,
    expired_lots,
    first_expiry,
    next_unlock,
    unlocked,
)
from streams.state_codec import decode, encode

_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
GRADING = Grading(("home",), "points_earned", (Band("K", "key", Decimal(1)),))
# A state as built, copied, pickled and restored from the changelog.
_COPIES: tuple[Callable[[MemberState], MemberState], ...] = (
    lambda s: s,
    copy.deepcopy,
    lambda s: pickle.loads(pickle.dumps(s)),
    lambda s: decode(encode(s)),
)


@given(st.lists(st.tuples(_times, st.booleans()), min_size=1, max_size=30))
def test_a_time_s_day_and_ordinal_whatever_was_asked_before(
    asks: list[tuple[datetime, bool]],
) -> None:
    """Each time asked once or twice in a row, equal times as distinct objects too."""
    for at, again in asks:
        copies = [at, at + timedelta(0)] if again else [at]
        for time in copies:
            assert day_of(time) == time.date()
            assert ordinal_of(time) == time.toordinal()
            moment = moment_of(time)
            assert (moment.at, moment.day, moment.ordinal) == (
                time,
                time.date(),
                time.toordinal(),
            )


@given(
    st.lists(
        st.tuples(st.sampled_from(["as_of", "enrolled_on", "last_activity_on"]), _times),
        max_size=30,
    )
)
def test_the_state_s_day_memos_follow_every_reassignment(
    changes: list[tuple[str, datetime]],
) -> None:
    state = MemberState("M1", date(2026, 1, 1), "blue", datetime(2026, 1, 1, tzinfo=UTC))
    assert activity_ordinal(state) == NO_DAY
    for field, at in changes:
        if field == "as_of":
            state.as_of = at
        elif field == "enrolled_on":
            state.enrolled_on = at.date()
        else:
            state.last_activity_on = at.date()
        moment = as_of_moment(state)
        assert (moment.day, moment.ordinal) == (state.as_of.date(), state.as_of.toordinal())
        assert enrolled_ordinal(state) == state.enrolled_on.toordinal()
        last = state.last_activity_on
        assert activity_ordinal(state) == (NO_DAY if last is None else last.toordinal())


@given(_times, _days)
def test_the_memos_are_not_persisted_nor_compared(at: datetime, last: date) -> None:
    state = MemberState("M1", date(2026, 1, 1), "blue", at, last_activity_on=last)
    fresh = MemberState("M1", date(2026, 1, 1), "blue", at, last_activity_on=last)
    before = encode(state)
    as_of_moment(state), enrolled_ordinal(state), activity_ordinal(state)
    assert encode(state) == before
    assert state == fresh


_lots = st.lists(
    st.tuples(
        _days, st.integers(0, 40), st.one_of(st.none(), st.integers(0, 900)), st.integers(-5, 50)
    ),
    max_size=12,
)


@given(_lots, _days, st.integers(0, 40))
def test_a_lot_s_day_ordinals_answer_as_its_dates_do(
    specs: list[tuple[date, int, int | None, int]], today: date, pending_days: int
) -> None:
    """The due scans over the memoised ordinals find what a scan over the dates finds, for
    lots built directly, copied, pickled and restored from the changelog."""
    lots = [
        Lot(
            f"L{n}",
            earned,
            earned + timedelta(days=unlock),
            None if expiry is None else earned + timedelta(days=expiry),
            remaining,
        )
        for n, (earned, unlock, expiry, remaining) in enumerate(sorted(specs, key=lambda s: s[0]))
    ]
    state = MemberState("M1", date(2000, 1, 1), "blue", datetime(2026, 1, 1, tzinfo=UTC))
    state.lots = lots
    horizon = today - timedelta(days=pending_days)
    unlocks = []
    for lot in reversed(lots):  # the scan's own walk: back over the pending window only
        if lot.earned_on < horizon:
            break
        if lot.unlock_on > today:
            unlocks.append(lot.unlock_on.toordinal())
    expiries = [lot.expires_on for lot in lots if lot.remaining > 0 and lot.expires_on]
    for copy_of in _COPIES:
        again = copy_of(state)
        assert next_unlock(again, today.toordinal(), pending_days) == min(unlocks, default=NO_DAY)
        first = first_expiry(again)
        assert first == (expiries[0].toordinal() if expiries else NO_DAY)
        assert [lot.lot_id for lot in expired_lots(again, today.toordinal())] == [
            lot.lot_id
            for lot in lots
            if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on <= today
        ]
        # Available and pending by the lots' ordinals: as by their dates, debt included.
        again.lots = [Lot(DEBT_LOT, date(2000, 1, 1), date(2000, 1, 1), None, -7), *again.lots]
        by_dates = (
            sum(lot.remaining for lot in again.lots if lot.unlock_on <= today),
            sum(lot.remaining for lot in again.lots if lot.unlock_on > today),
        )
        assert unlocked(again, today.toordinal()) == by_dates
        assert (again.available(today), again.pending(today)) == by_dates


@given(
    st.lists(st.sampled_from(["L1", "L2", "L3", DEBT_LOT]), max_size=12),
    st.sampled_from([None, "L1", "L2", "L9", DEBT_LOT]),
)
def test_a_reversal_takes_its_own_lot_first_then_the_others_oldest_first(
    ids: list[str], first_lot: str | None
) -> None:
    """`reversal_order` is its definition: the lots with the credit's lot id, then every
    other lot but the debt lot, each in state order."""
    state = MemberState("M1", date(2000, 1, 1), "blue", datetime(2026, 1, 1, tzinfo=UTC))
    day = date(2026, 1, 1)
    state.lots = [Lot(lot_id, day, day, None, n) for n, lot_id in enumerate(ids)]
    own = [lot for lot in state.lots if lot.lot_id == first_lot]
    rest = [lot for lot in state.lots if lot.lot_id not in (first_lot, DEBT_LOT)]
    assert reversal_order(state, first_lot) == own + rest


@given(_days, st.integers(-30, 30), _days, st.one_of(st.none(), _days))
def test_remembered_date_arithmetic_answers_as_computed_afresh(
    day: date, months: int, unlock: date, expiry: date | None
) -> None:
    import calendar as cal

    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    expected = date(year, month, min(day.day, cal.monthrange(year, month)[1]))
    for _ in range(2):  # computed, then remembered
        assert add_months(day, months) == expected
        assert iso_day(day) == day.isoformat()
        assert iso_day_before(day) == (day - timedelta(days=1)).isoformat()
        assert lot_id(day, unlock, expiry) == (
            f"L{day.isoformat()}/u{unlock.isoformat()}/x{expiry.isoformat() if expiry else 'never'}"
        )
        assert period_key(GRADING, day) == f"{day.year}-P{(day.month - 1) // 3 + 1:02d}"


def test_the_memos_stay_bounded_and_right_past_their_limit() -> None:
    start = date(1900, 1, 1).toordinal()
    days = [date.fromordinal(start + n) for n in range(MEMO_LIMIT + 1000)]
    assert [iso_day(d) for d in days] == [d.isoformat() for d in days]
    assert len(calendar_module._ISO_DAYS) <= MEMO_LIMIT
    assert [iso_day_before(d) for d in days] == [(d - timedelta(days=1)).isoformat() for d in days]
    assert len(calendar_module._ISO_DAYS_BEFORE) <= MEMO_LIMIT
    later = [add_months(d, 1) for d in days]
    assert later == [_months_later(d, 1) for d in days]
    assert all(len(memo) <= MEMO_LIMIT for memo in calendar_module._MONTHS_LATER.values())

    def shown(earned: date, unlock: date, expiry: date | None) -> str:
        return f"L{earned}/u{unlock}/x{expiry or 'never'}"

    kinds = [(d, e) for d in days[:40] for e in (None, days[1], date(2100, 1, 1))]
    for _ in range(2):  # one earning day with many kinds of lot: computed, then remembered
        assert [lot_id(days[0], u, e) for u, e in kinds] == [shown(days[0], u, e) for u, e in kinds]
    assert [lot_id(d, d, None) for d in days] == [shown(d, d, None) for d in days]
    assert len(lots_module._LOT_IDS) <= MEMO_LIMIT
    assert all(len(kinds) <= 16 for kinds in lots_module._LOT_IDS.values())
    counts = range(-300, 300)
    assert [add_months(days[0], n) for n in counts] == [_months_later(days[0], n) for n in counts]
    assert len(calendar_module._MONTHS_LATER) <= 256


def _months_later(day: date, months: int) -> date:
    import calendar as cal

    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, cal.monthrange(year, month)[1]))


_ATTRIBUTE = st.text("abDE-", min_size=0, max_size=3)
_NAMES = st.lists(st.sampled_from(["home", "tier", "x"]), min_size=1, max_size=3, unique=True)
_ATTRIBUTES = st.dictionaries(st.sampled_from(["home", "tier", "y"]), _ATTRIBUTE, max_size=3)


@given(_NAMES, _ATTRIBUTES, _NAMES, _ATTRIBUTES)
def test_a_members_remembered_segment_follows_its_grading_and_attributes(
    segment_by: list[str], attributes: dict[str, str], other_by: list[str], other: dict[str, str]
) -> None:
    def fresh(names: list[str], values: dict[str, str]) -> str:
        return ".".join(values.get(n, "-") for n in names)

    band = (Band("K", "key", Decimal(1)),)
    grading = Grading(tuple(segment_by), "points_earned", band)
    state = MemberState("M1", date(2026, 1, 1), "blue", datetime(2026, 1, 1, tzinfo=UTC))
    state.attributes = tuple(attributes.items())
    for _ in range(2):  # computed, then remembered
        assert member_segment(grading, state) == fresh(segment_by, attributes)
    # Another grading (a what-if's programme), new attributes, copies: never a stale answer.
    other_grading = Grading(tuple(other_by), "points_earned", band)
    assert member_segment(other_grading, state) == fresh(other_by, attributes)
    state.attributes = tuple(other.items())
    assert member_segment(other_grading, state) == fresh(other_by, other)
    for copy_of in (copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))):
        again = copy_of(state)
        assert member_segment(grading, again) == fresh(segment_by, other)
        assert again == state
    assert b'"_segment"' not in encode(state)


@given(st.integers(date(1900, 1, 1).toordinal(), date(2200, 1, 1).toordinal()))
def test_one_object_per_day(ordinal: int) -> None:
    day = day_at(ordinal)
    assert day == date.fromordinal(ordinal)
    assert day_at(ordinal) is day
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23)
    moment = moment_of(at)
    assert (moment.day, moment.ordinal) == (at.date(), at.toordinal())
    assert moment.day is day
    for days in (0, 1, 30, 400):
        assert days_before(at, days) == day - timedelta(days=days)
        assert days_before(at, days) is day_at(ordinal - days)
    assert add_months(day, 1) is day_at(add_months(day, 1).toordinal())


def test_one_object_per_day_at_the_listed_range_s_edges() -> None:
    """1900-2100 are listed by ordinal, other days kept in a dict: right on both sides."""
    edges = [date.min, date(1899, 12, 31), date(1900, 1, 1), date(2100, 12, 31)]
    edges += [date(2101, 1, 1), date.max]
    for day in edges:
        assert day_at(day.toordinal()) == day
        assert day_at(day.toordinal()) is day_at(day.toordinal())


def test_the_days_stay_bounded_and_right_past_their_limit() -> None:
    start = date(1600, 1, 1).toordinal()
    ordinals = range(start, start + MEMO_LIMIT + 1000)
    assert [day_at(o) for o in ordinals] == [date.fromordinal(o) for o in ordinals]
    assert len(calendar_module._DAYS) <= MEMO_LIMIT


@given(st.lists(st.one_of(st.none(), _days), max_size=20), _days)
def test_a_hold_s_expiry_ordinal_answers_as_its_date_does(
    expiries: list[date | None], today: date
) -> None:
    """The next due day and the holds expiring by a day, found over the holds' memoised
    ordinals, are what their dates say: for holds built directly, copied, pickled and
    restored from the changelog; and the memo never reaches the changelog."""
    state = MemberState("M1", date(2000, 1, 1), "blue", datetime(2000, 1, 1, tzinfo=UTC))
    state.held = [
        Hold(f"h{n}", datetime(2000, 1, 1, tzinfo=UTC), "purchase", 10, "limit", None, on)
        for n, on in enumerate(expiries)
    ]
    dated = [on for on in expiries if on is not None]
    assert b"_expires" not in encode(state)
    for copy_of in _COPIES:
        again = copy_of(state)
        found = min((hold._expires for hold in again.held), default=NO_DAY)
        assert found == min((on.toordinal() for on in dated), default=NO_DAY)
        expiring = [h.hold_id for h in again.held if h._expires <= today.toordinal()]
        assert expiring == [
            h.hold_id for h in state.held if h.expires_on is not None and h.expires_on <= today
        ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["hold", "hold", "settle", "restore"]),
            st.one_of(st.none(), _days),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_the_first_hold_expiry_follows_holds_added_settled_and_restored(
    steps: list[tuple[str, date | None, bool]],
) -> None:
    """The memoised first expiry among the holds is the minimum over them after any holds
    are added (appended), settled (a new list without it, as `apply` does) or the state is
    restored (a new list, as the codec does), asked after some steps (one input may settle
    a hold and add another before it is asked)."""
    from loyalty import events as ev
    from loyalty.apply import apply
    from loyalty.state import Posting, first_hold_expiry

    state = MemberState("M1", date(2000, 1, 1), "blue", datetime(2000, 1, 1, tzinfo=UTC))
    at = datetime(2000, 1, 1, tzinfo=UTC)
    for n, (action, on, ask) in enumerate(steps):
        posting = Posting(f"p{n}", "M1", at, "points_held", 10, "hold", f"c{n}")
        if action == "hold":
            hold = Hold(f"h{n}", at, "purchase", 10, "limit", None, on)
            apply(state, ev.AccrualHeld("M1", hold, posting))
        elif action == "settle" and state.held:
            settled = state.held[n % len(state.held)].hold_id
            outcome = ev.HoldSettled("M1", at, settled, "rejected", False, "c", "", None, posting)
            apply(state, outcome)
        elif action == "restore":
            state = decode(encode(state))
        if ask or n == len(steps) - 1:
            dated = [h.expires_on.toordinal() for h in state.held if h.expires_on is not None]
            assert first_hold_expiry(state) == min(dated, default=NO_DAY)
