"""Idempotency: an input is applied once however often and however far apart it arrives, up
to the programme's duplicate horizon; older inputs are rejected `too_late`, never applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.program_file import ProgramError, parse_program
from edge.translate import Undecodable, decode_external
from loyalty import inputs as i
from loyalty.identity import (
    _content,
    _frequent_values,
    _json,
    _values,
    digest,
    digest_v1,
    digest_v2,
    key_of,
)
from loyalty.program import Windows
from loyalty.state import MemberState
from tests.unit.core.world import World, at, make_program, rejected


def test_a_busy_member_is_never_credited_twice_within_the_horizon() -> None:
    # The old defect: only the last 1,000 ids were kept, so a busy member's older ids were
    # forgotten and their redelivery credited again.
    world = World()
    world.enrol()
    purchases = [
        i.Purchase(f"p{n}", "M1", at(1 + n / 100), "shop", "food", Decimal(10), "EUR", f"s{n}")
        for n in range(3000)
    ]
    for p in purchases:
        assert world.send(p).kind == "applied"
    balance = world.state().balance
    for p in purchases:  # every one redelivered, the oldest 30 days back
        assert world.send(replace(p, sale_id=p.sale_id)).kind == "duplicate"
    assert world.state().balance == balance


def test_an_input_older_than_the_horizon_is_rejected_too_late_and_changes_nothing() -> None:
    world = World()
    world.enrol()
    world.clock(200)
    before = world.state().balance
    outcome = world.purchase("100", day=200 - 91)
    assert rejected(outcome) == "too_late"
    assert world.state().balance == before
    assert key_of(outcome.input) not in world.state().seen  # type: ignore[arg-type]
    assert world.purchase("100", day=200 - 89).kind == "applied"


def test_ids_are_forgotten_after_the_horizon_so_memory_follows_recent_activity() -> None:
    world = World()
    world.enrol()
    for day in range(720):
        world.clock(day)
        for n in range(5):
            world.purchase("10", day=day + 0.1 * n)
    horizon = world.program.windows.duplicate_horizon_days
    sweep = max(1, horizon // 8)
    # Five inputs a day; at most the horizon plus one sweep interval (and today) remembered.
    assert len(world.state().seen) <= 5 * (horizon + sweep + 2)
    assert len(world.state().seen) >= 5 * horizon


def test_the_same_event_reserialised_is_a_duplicate_not_a_conflict() -> None:
    first = (
        b'{"event_id":"p-1","type":"purchase","member_id":"M1","occurred_at":'
        b'"2026-01-02T12:00:00+00:00","merchant":"shop","category":"food","amount":"100",'
        b'"currency":"EUR","sale_id":"s1"}'
    )
    again = (
        b'{"sale_id":"s1","currency":"EUR","amount":"100.0","category":"food","merchant":"shop",'
        b'"occurred_at":"2026-01-02T14:00:00+02:00","member_id":"M1","type":"purchase",'
        b'"event_id":"p-1","schema_version":1}'
    )
    other = first.replace(b'"100"', b'"100.5"')
    world = World()
    world.enrol()
    assert world.send(decode_external(first)).kind == "applied"
    assert world.send(decode_external(again)).kind == "duplicate"
    assert rejected(world.send(decode_external(other))) == "event_id_conflict"


def test_a_retried_command_is_a_duplicate_under_its_command_id() -> None:
    world = World()
    world.enrol()
    world.purchase("1000", day=1)
    redeem = i.Redeem("e-first", "M1", at(20), 300, "voucher", "cmd-77")
    assert world.send(redeem).kind == "applied"
    points = world.state().balance
    retry = replace(redeem, event_id="e-retry", at=at(20) + timedelta(minutes=3))
    assert world.send(retry).kind == "duplicate"
    assert world.state().balance == points
    changed = replace(retry, event_id="e-other", points=400)
    assert rejected(world.send(changed)) == "command_id_conflict"
    assert world.state().balance == points


def test_an_adjustment_retried_with_a_new_event_id_is_applied_once() -> None:
    world = World()
    world.enrol()
    before = world.state().balance
    adjust = i.ManualAdjustment("a1", "M1", at(3), 500, "goodwill", "agent-1", "adj-1")
    assert world.send(adjust).kind == "applied"
    assert world.send(replace(adjust, event_id="a2")).kind == "duplicate"
    assert world.state().balance == before + 500


def test_a_command_key_cannot_be_spelt_as_an_event_id() -> None:
    command = i.Redeem("x", "M1", at(1), 10, "r", "cmd-1")
    assert key_of(command) == "cmd#cmd-1"
    spoof = b'{"event_id":"cmd#cmd-1","type":"clock","occurred_at":"2026-01-02T12:00:00+00:00"}'
    with pytest.raises(Undecodable, match="event_id"):
        decode_external(spoof)


def test_a_clock_resent_with_another_time_is_a_conflict() -> None:
    world = World()
    world.enrol()
    clock = i.Clock("tick-1", at(10))
    assert world.send(clock).kind == "applied"
    assert world.send(clock).kind == "duplicate"
    assert rejected(world.send(replace(clock, at=at(11)))) == "event_id_conflict"


def test_a_clock_older_than_the_horizon_is_too_late() -> None:
    world = World()
    world.send(i.Clock("tick-1", at(200)))
    assert rejected(world.send(i.Clock("tick-0", at(100)))) == "too_late"


def test_a_partner_transaction_credits_once_under_any_event_id() -> None:
    world = World()
    world.enrol()
    first = world.partner(txn="T1")
    assert first.kind == "applied"
    assert rejected(world.partner(txn="T1")) == "duplicate_partner_transaction"


def test_digest_compares_amounts_by_value_and_ignores_the_event_id() -> None:
    a = i.Purchase("e1", "M1", at(1), "m", "c", Decimal("100"), "EUR", "s")
    assert digest(a) == digest(replace(a, amount=Decimal("100.000")))
    assert digest(a) == digest(replace(a, event_id="e2"))
    assert digest(a) != digest(replace(a, amount=Decimal("100.01")))
    assert digest(a) != digest(replace(a, at=at(2)))


@pytest.mark.parametrize("window", ["refund_days", "cancellation_days", "partner_dedupe_days"])
def test_business_keys_must_outlive_the_horizon(window: str) -> None:
    with pytest.raises(ValueError, match=window):
        Windows(duplicate_horizon_days=120, **{window: 100})  # type: ignore[arg-type]


def test_a_programme_file_with_a_short_business_key_window_is_refused() -> None:
    text = "name: x\nbase_currency: EUR\ntiers: [a]\nwindows: {partner_dedupe_days: 30}\n"
    with pytest.raises(ProgramError, match="partner_dedupe_days"):
        parse_program(text)


def test_the_default_horizon_is_generous() -> None:
    assert make_program().windows.duplicate_horizon_days >= 35


def test_a_clock_keeps_the_digest_it_had_before_it_could_skip_settling() -> None:
    """Digests are persisted (member and clock memories in the changelog): a clock that settles
    (the default, and every clock before the field existed) must digest as it always did, or a
    redelivered copy after an upgrade would be a conflict instead of a duplicate."""
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert digest_v1(i.Clock("tick-1", when)) == "01682810ecd7ed2e"  # computed before the change
    assert digest_v1(i.Clock("tick-1", when, settle=True)) == "01682810ecd7ed2e"
    assert digest_v1(i.Clock("tick-1", when, settle=False)) != "01682810ecd7ed2e"
    # Version 2 was introduced after the field: it covers it as it is.
    assert digest(i.Clock("tick-1", when)) != digest(i.Clock("tick-1", when, settle=False))


def test_the_digest_versions_are_told_apart_by_length() -> None:
    """The current digest is pinned: changing it silently would turn every redelivered copy
    of an input remembered before the change into a conflict."""
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert digest(i.Clock("tick-1", when)) == "5aa615d9fd44f6bbde3c"
    purchase = i.Purchase("e1", "M1", when, "m", "c", Decimal("100"), "EUR", "s")
    assert digest(purchase) == "c6db9ce8e68db9b092b1"
    # The older versions stay as they were written (changelogs hold them).
    assert digest_v2(i.Clock("tick-1", when)) == "6ce4210ae475bc04a9"
    assert digest_v2(purchase) == "bf4c5f9cf4accef024"
    lengths = {len(digest(purchase)), len(digest_v2(purchase)), len(digest_v1(purchase))}
    assert len(lengths) == 3


def _flight(base_fare: Decimal = Decimal("120.00")) -> i.Flight:
    return replace(World.flight(), base_fare=base_fare)


@pytest.mark.parametrize("older", [digest_v1, digest_v2])
def test_a_copy_of_an_input_remembered_under_an_older_digest_is_a_duplicate(
    older: Callable[[i.Input], str],
) -> None:
    """A member's and the book's memories restored from a changelog written by an older
    engine hold older digests: a redelivered copy is still a duplicate, another payload under
    the same id still a conflict."""
    world = World()
    world.enrol()
    purchase = i.Purchase("p1", "M1", at(2), "shop", "food", Decimal("100"), "EUR", "s1")
    flown = i.FlightFlown("f1", "M1", at(3), _flight())
    clock = i.Clock("tick-1", at(4))
    for inp in (purchase, flown, clock):
        assert world.send(inp).kind == "applied"
    # As restored from the older changelog.
    seen = world.state().seen
    for inp in (purchase, flown):
        seen[key_of(inp)] = (older(inp), seen[key_of(inp)][1])
    clocks = world.book._clocks
    clocks[clock.event_id] = (older(clock), clocks[clock.event_id][1])
    balance = world.state().balance
    assert world.send(replace(purchase, amount=Decimal("100.00"))).kind == "duplicate"
    assert world.send(replace(flown, flight=_flight(Decimal("120")))).kind == "duplicate"
    assert world.send(clock).kind == "duplicate"
    assert rejected(world.send(replace(purchase, amount=Decimal("101")))) == "event_id_conflict"
    assert rejected(world.send(replace(flown, flight=_flight(Decimal("121"))))) == (
        "event_id_conflict"
    )
    assert rejected(world.send(replace(clock, at=at(5)))) == "event_id_conflict"
    assert world.state().balance == balance


_AMOUNTS = st.sampled_from([Decimal("100"), Decimal("100.0"), Decimal("1E+2"), Decimal("100.5")])
_WHEN = st.sampled_from([at(1), at(1, 13), datetime(2026, 1, 2, 12, 0, 0, 5, tzinfo=UTC)])
_TEXT = st.sampled_from(["a", "b", "1E+2", "100", ""])


def _partner_accruals(
    amounts: st.SearchStrategy[Decimal], points: st.SearchStrategy[int]
) -> st.SearchStrategy[i.PartnerAccrual]:
    return st.builds(
        i.PartnerAccrual,
        *(_TEXT, _TEXT, _WHEN, _TEXT, _TEXT, _TEXT),
        st.none() | amounts,
        st.none() | _TEXT,
        st.none() | points,
    )


_INPUTS = st.one_of(
    st.builds(i.Purchase, _TEXT, _TEXT, _WHEN, _TEXT, _TEXT, _AMOUNTS, _TEXT, _TEXT),
    st.builds(i.Refund, _TEXT, _TEXT, _WHEN, _TEXT, st.none() | _AMOUNTS, st.none() | _TEXT),
    _partner_accruals(_AMOUNTS, st.sampled_from([0, 1, 100])),
    st.builds(i.FlightFlown, _TEXT, _TEXT, _WHEN, st.builds(_flight, _AMOUNTS)),
    st.builds(
        i.Enrol,
        _TEXT,
        _TEXT,
        _WHEN,
        st.just(at(1).date()),
        st.lists(st.tuples(_TEXT, _TEXT), max_size=2).map(tuple),
    ),
    st.builds(i.Redeem, _TEXT, _TEXT, _WHEN, st.sampled_from([1, 100]), _TEXT, _TEXT),
    st.builds(i.Clock, _TEXT, _WHEN, st.booleans()),
)


@settings(max_examples=400, deadline=None)
@given(_INPUTS, _INPUTS)
def test_later_versions_tell_inputs_apart_exactly_as_version_1(a: i.Input, b: i.Input) -> None:
    """Version 1 is the reviewed definition of "the same meaning" (decimals by value, the
    event id left out, a command's retry stamp left out): versions 2 and 3 must agree with it
    on every pair, from small domains so that equal meanings are drawn often."""
    same = digest_v1(a) == digest_v1(b)  # type: ignore[arg-type]
    assert (digest(a) == digest(b)) == same  # type: ignore[arg-type]
    assert (digest_v2(a) == digest_v2(b)) == same  # type: ignore[arg-type]


_DECIMALS = _AMOUNTS | st.decimals(allow_nan=False, allow_infinity=False, places=4)
_FLIGHTS = st.builds(
    i.Flight,
    _TEXT,
    _TEXT,
    _TEXT,
    _TEXT,
    _TEXT,
    st.dates(),
    st.integers(0, 20_000),
    _TEXT,
    _TEXT,
    _DECIMALS,
    _DECIMALS,
    _DECIMALS,
    _TEXT,
)
# Any time, not only the core's UTC ones: the digest writes each as orjson writes it.
_ANY_WHEN = (
    _WHEN
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))
    | st.datetimes()
)
_FREQUENT = st.one_of(
    st.builds(i.Purchase, _TEXT, _TEXT, _ANY_WHEN, _TEXT, _TEXT, _DECIMALS, _TEXT, _TEXT),
    st.builds(i.Refund, _TEXT, _TEXT, _ANY_WHEN, _TEXT, st.none() | _DECIMALS, st.none() | _TEXT),
    _partner_accruals(_DECIMALS, st.integers(-(10**9), 10**9)),  # the wire's bounds
    st.builds(i.FlightFlown, _TEXT, _TEXT, _ANY_WHEN, _FLIGHTS),
    st.builds(i.RetroClaim, _TEXT, _TEXT, _ANY_WHEN, _FLIGHTS),
    st.builds(i.FlightCancelled, _TEXT, _TEXT, _ANY_WHEN, _TEXT),
    st.builds(
        i.Enrol,
        _TEXT,
        _TEXT,
        _ANY_WHEN,
        st.dates(),
        st.lists(st.tuples(_TEXT, _TEXT), max_size=3).map(tuple),
    ),
)


@settings(max_examples=400, deadline=None)
@given(_FREQUENT)
def test_the_frequent_inputs_written_out_give_the_general_form_s_bytes(inp: i.Input) -> None:
    """The digest's written-out values for the frequent types (`_frequent_values`) must write
    exactly the bytes of the general form over the dataclass fields, or persisted digests
    would stop matching their copies."""
    assert _frequent_values(inp) is not None  # type: ignore[arg-type]
    general = _values(inp)  # type: ignore[arg-type]
    # What the digest hashes (the written-out values, their time as `as_written` gives it).
    assert _content(inp) == orjson.dumps(general, default=_json)  # type: ignore[arg-type]


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{1,30})?(E[-+]?[0-9]{1,3})?", fullmatch=True).map(
        Decimal
    )
)
def test_a_decimals_digest_text_is_its_normalised_text(amount: Decimal) -> None:
    """The digest's shortcut for text already normal agrees with `normalize` on any value
    (trailing zeros, exponents, more digits than the context's precision)."""
    from loyalty.identity import _text

    assert _text(amount) == str(amount.normalize())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 6)),
        min_size=1,
        max_size=300,
    ),
    st.integers(1, 9),
)
def test_the_memory_sweep_forgets_exactly_what_a_rebuild_would_in_the_same_order(
    steps: list[tuple[int, int]], sweep_every: int
) -> None:
    """Keys of any ages, in any order (late inputs come after newer ones), against a model of
    the sweep: every key before the cutoff goes, the rest stay in insertion order."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    state = MemberState("M1", date(2026, 1, 1), "base", base)
    model: dict[str, tuple[str, int]] = {}
    swept, cutoff = 0, 0
    for n, (day, advance) in enumerate(steps):
        cutoff += advance
        at_ = base + timedelta(days=day + cutoff)
        model, swept = _remembered_as_modelled(
            state, model, swept, f"k{n}", f"d{n}", at_, cutoff + base.toordinal(), sweep_every
        )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["new", "new", "new", "new", "again", "restore", "merge"]),
            st.integers(-3, 6),
            st.integers(0, 4),
        ),
        min_size=1,
        max_size=400,
    ),
    st.integers(1, 9),
)
def test_the_sweep_s_day_order_shortcut_forgets_what_a_full_sweep_would(
    steps: list[tuple[str, int, int]], sweep_every: int
) -> None:
    """Mostly in day order (where the sweep stops at the first key it keeps), with late
    inputs, a key remembered again, the state restored into a new dict and keys merged in
    from outside (a stranger's, at enrolment): the memory is always the model's, in order."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    state = MemberState("M1", date(2026, 1, 1), "base", base)
    model: dict[str, tuple[str, int]] = {}
    swept, cutoff, day = 0, 0, 0
    for n, (action, step, advance) in enumerate(steps):
        if action == "restore":  # the codec gives the state a new dict with the same entries
            state.seen = dict(state.seen)
            continue
        if action == "merge":
            old = base + timedelta(days=max(0, day - 5))
            state.seen.update({f"s{n}": (f"d{n}", old.toordinal())})
            model[f"s{n}"] = (f"d{n}", old.toordinal())
            continue
        cutoff += advance
        day = max(day + step, cutoff)
        at_ = base + timedelta(days=day)
        # Again: the oldest key kept, now on a later day (its place in the order stays).
        key = next(iter(model)) if action == "again" and model else f"k{n}"
        model, swept = _remembered_as_modelled(
            state, model, swept, key, f"d{n}", at_, cutoff + base.toordinal(), sweep_every
        )


def _remembered_as_modelled(
    state: MemberState,
    model: dict[str, tuple[str, int]],
    swept: int,
    key: str,
    print_: str,
    at_: datetime,
    cutoff: int,
    sweep_every: int,
) -> tuple[dict[str, tuple[str, int]], int]:
    """`remember` on the state and on a model of the sweep (every key before the cutoff goes,
    the rest stay in insertion order), checked to agree: the model and its last sweep."""
    from loyalty.apply import remember

    remember(state, key, print_, at_, cutoff, sweep_every)
    model[key] = (print_, at_.toordinal())
    if cutoff >= swept + sweep_every:
        swept = cutoff
        model = {k: v for k, v in model.items() if v[1] >= swept}
    assert list(state.seen.items()) == list(model.items())
    assert state.seen_swept == swept
    return model, swept
