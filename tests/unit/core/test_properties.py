"""Properties of the whole core, over random sequences of inputs (hypothesis)."""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import inputs as i
from loyalty.book import Book
from loyalty.due import next_due
from loyalty.identity import key_of
from loyalty.program import Expiry, ExpiryPolicy, Program
from loyalty.rejections import Code
from loyalty.state import NO_DAY
from tests.unit.core.world import at, make_program, postings

MEMBERS = ("M1", "M2", "M3")
PROGRAMS = [
    make_program(),
    replace(make_program(), expiry=Expiry(ExpiryPolicy.AFTER_EARNING, 2)),
    replace(make_program(), expiry=Expiry(ExpiryPolicy.INACTIVITY, 1)),
]

member = st.sampled_from(MEMBERS)
action = st.one_of(
    st.tuples(
        st.just("purchase"),
        member,
        st.integers(1, 200_000),
        st.sampled_from(["food", "fresh", "tobacco"]),
    ),
    st.tuples(st.just("refund"), member, st.integers(0, 50), st.sampled_from([None, 1, 3, 9])),
    st.tuples(
        st.just("fly"),
        member,
        st.sampled_from(["SK", "PA", "ZZ"]),
        st.integers(100, 9000),
        st.integers(0, 3000),
    ),
    st.tuples(st.just("cancel"), member, st.integers(0, 50)),
    st.tuples(
        st.just("partner"), member, st.sampled_from(["hotel", "card", "x"]), st.integers(1, 5000)
    ),
    st.tuples(st.just("redeem"), member, st.integers(1, 5000)),
    st.tuples(
        st.just("transfer"), member, st.sampled_from([*MEMBERS, "ghost"]), st.integers(50, 6000)
    ),
    st.tuples(st.just("adjust"), member, st.integers(-3000, 3000), st.booleans()),
    st.tuples(st.just("wait"), st.integers(1, 40)),
    st.tuples(st.just("clock")),
    st.tuples(st.just("repeat"), st.integers(0, 200)),
)


def build(actions: list[tuple[Any, ...]], with_transfers: bool = True) -> list[i.Input]:
    """Turn abstract actions into concrete inputs (deterministic ids, increasing time)."""
    day = 0.0
    inputs: list[i.Input] = [i.Enrol(f"enrol-{m}", m, at(0), at(0).date()) for m in MEMBERS]
    sales: list[tuple[str, str]] = []
    segments: list[tuple[str, str]] = []
    for n, act in enumerate(actions):
        kind, eid = act[0], f"e{n}"
        day += 0.25
        when = at(day)
        if kind == "purchase":
            sale = f"s{n}"
            sales.append((act[1], sale))
            inputs.append(
                i.Purchase(eid, act[1], when, "shop", act[3], Decimal(act[2]) / 100, "EUR", sale)
            )
        elif kind == "refund" and sales:
            owner, sale = sales[act[2] % len(sales)]
            amount = None if act[3] is None else Decimal(act[3])
            inputs.append(i.Refund(eid, owner, when, sale, amount, None))
        elif kind == "fly":
            flight = i.Flight(
                f"B{n}",
                act[2],
                "1",
                "CPH",
                "LHR",
                when.date(),
                act[3],
                "Y",
                "economy",
                Decimal(act[4]),
                Decimal(0),
                Decimal(10),
                "EUR",
            )
            segments.append((act[1], flight.segment_id))
            inputs.append(i.FlightFlown(eid, act[1], when, flight))
        elif kind == "cancel" and segments:
            owner, segment = segments[act[2] % len(segments)]
            inputs.append(i.FlightCancelled(eid, owner, when, segment))
        elif kind == "partner":
            inputs.append(
                i.PartnerAccrual(
                    eid, act[1], when, act[2], f"t{n}", "stay", Decimal(act[3]), "EUR", None
                )
            )
        elif kind == "redeem":
            inputs.append(i.Redeem(eid, act[1], when, act[2], "gift"))
        elif kind == "transfer" and with_transfers:
            inputs.append(i.TransferPoints(eid, act[1], when, act[2], act[3]))
        elif kind == "adjust":
            inputs.append(
                i.ManualAdjustment(eid, act[1], when, act[2], "fix" if act[3] else "", "op")
            )
        elif kind == "wait":
            day += act[1]
        elif kind == "clock" and with_transfers:
            inputs.append(i.Clock(f"c{n}", at(day)))
        elif kind == "repeat" and len(inputs) > 3:
            inputs.append(inputs[act[1] % len(inputs)])
    return inputs


programs = st.sampled_from(PROGRAMS)
sequences = st.lists(action, max_size=80)
common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def without_seen(members: dict[str, Any]) -> dict[str, Any]:
    """States without the remembered ids (and the version, which counts remembering too)."""
    return {m: replace(s, seen={}, seen_swept=0, version=0) for m, s in members.items()}


def run(program: Program, inputs: list[i.Input]) -> Book:
    book = Book(program)
    for inp in inputs:
        book.handle(inp)
    return book


@common
@given(programs, sequences)
def test_balance_equals_sum_of_lots_equals_sum_of_postings_at_all_times(
    program: Program, actions: list[tuple[Any, ...]]
) -> None:
    book = Book(program)
    totals: dict[tuple[str, str], int] = {}
    ids: set[str] = set()
    for inp in build(actions):
        for posting in postings(book.handle(inp)):
            assert posting.posting_id not in ids, f"posting id reused: {posting.posting_id}"
            ids.add(posting.posting_id)
            key = (posting.member_id, posting.currency)
            totals[key] = totals.get(key, 0) + posting.points
        for member_id, state in book.members.items():
            assert state.balance == sum(lot.remaining for lot in state.lots)
            assert state.balance == totals.get((member_id, "points"), 0)
            for currency, amount in state.qualifying.items():
                assert amount == totals.get((member_id, currency), 0)


@common
@given(programs, sequences)
def test_applying_a_sequence_twice_equals_applying_it_once(
    program: Program, actions: list[tuple[Any, ...]]
) -> None:
    inputs = build(actions)
    once = run(program, inputs)
    twice = run(program, inputs + inputs)
    assert twice.members == once.members


@common
@given(programs, sequences, st.randoms(use_true_random=False))
def test_interleaving_members_does_not_change_any_members_result(
    program: Program, actions: list[tuple[Any, ...]], rnd: Any
) -> None:
    inputs = build(actions, with_transfers=False)
    sequential = run(program, inputs)
    queues = {m: [x for x in inputs if getattr(x, "member_id", None) == m] for m in MEMBERS}
    shuffled: list[i.Input] = []
    while any(queues.values()):
        m = rnd.choice([m for m, q in queues.items() if q])
        shuffled.append(queues[m].pop(0))
    assert run(program, shuffled).members == sequential.members


@common
@given(programs, sequences)
def test_a_balance_goes_negative_only_through_a_reversal_of_spent_points(
    program: Program, actions: list[tuple[Any, ...]]
) -> None:
    book = Book(program)
    reversed_members: set[str] = set()
    for inp in build(actions):
        for posting in postings(book.handle(inp)):
            if posting.kind == "reverse":
                reversed_members.add(posting.member_id)
        for member_id, state in book.members.items():
            if state.balance < 0:
                assert member_id in reversed_members


@common
@given(programs, sequences)
def test_a_rejected_input_leaves_the_state_as_time_alone_would(
    program: Program, actions: list[tuple[Any, ...]]
) -> None:
    book = Book(program)
    for inp in build(actions):
        before = copy.deepcopy(book.members)
        member = getattr(inp, "member_id", None)
        # Time passes for the member first when something is due by the input's day (the
        # fast path carries it out without a `TimeAdvanced` event to look for).
        due = next_due(before[member], program.hot) if member in before else NO_DAY
        outcome = book.handle(inp)
        if outcome.kind == "rejected":
            assert outcome.rejection is not None and outcome.rejection.code
            time_passed = due <= inp.at.toordinal()  # day ordinals; never when `NO_DAY`
            if member in book.members and outcome.rejection.code != Code.TOO_LATE:
                assert key_of(inp) in book.members[member].seen  # redelivery = duplicate
            if not time_passed:
                assert without_seen(book.members) == without_seen(before)
        if outcome.kind == "duplicate":
            assert book.members == before
