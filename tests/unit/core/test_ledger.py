"""The ledger of lots: pending, FIFO redemption, expiry, refunds (incl. spent points), debt."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, date, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.calendar import add_months
from loyalty.program import Expiry, ExpiryPolicy, Program
from loyalty.state import Posting
from tests.unit.core.world import World, at, make_program, points_postings, postings, rejected


def world_with(program: Program | None = None) -> World:
    w = World(program)
    w.enrol("M1")
    return w


def no_bonus() -> Program:
    program = make_program()
    return replace(program, earn=replace(program.earn, welcome_bonus=None, activation_bonus=None))


def test_purchase_points_are_pending_until_the_return_window_passes() -> None:
    w = world_with(no_bonus())
    w.purchase("500", day=1)
    state = w.state()
    assert (state.available(at(1).date()), state.pending(at(1).date())) == (0, 500)
    assert rejected(w.redeem(100, day=5)) == "insufficient_points"
    w.clock(11)  # unlock day: 10 days after earning
    assert (state.available(state.as_of.date()), state.pending(state.as_of.date())) == (500, 0)
    assert points_postings(w.redeem(100, day=12)) == [("redeem", -100)]


def test_flights_and_adjustments_are_not_pending() -> None:
    w = world_with(no_bonus())
    w.fly(w.flight(base="100", surcharges="0"))
    w.adjust(50)
    assert w.state().available(at(1).date()) == 550


def test_redemption_draws_the_oldest_lots_first() -> None:
    w = world_with(no_bonus())
    w.adjust(100, day=1)
    w.adjust(200, day=2)
    w.adjust(300, day=3)
    out = w.redeem(250, day=4)
    debit = next(e for _, e in out.events if hasattr(e, "draws"))
    assert [points for _, points in debit.draws] == [100, 150]
    assert [lot.remaining for lot in w.state().lots] == [50, 300]


def test_redeeming_more_than_available_is_rejected_and_changes_nothing() -> None:
    w = world_with(no_bonus())
    w.adjust(100)
    before = w.state().lots[0].remaining
    assert rejected(w.redeem(101, day=2)) == "insufficient_points"
    assert w.state().lots[0].remaining == before


def test_after_earning_expiry_removes_each_lot_n_months_after_it_was_earned() -> None:
    w = world_with(replace(no_bonus(), expiry=Expiry(ExpiryPolicy.AFTER_EARNING, 12)))
    w.adjust(100, day=0)
    w.adjust(50, day=40)
    out = w.clock(365)  # 2027-01-01: the first lot is due
    expired = [p for p in postings(out) if p.kind == "expire"]
    assert [(p.points, p.at.date()) for p in expired] == [(-100, date(2027, 1, 1))]
    assert w.state().balance == 50


def test_inactivity_expiry_is_pushed_back_by_any_activity() -> None:
    w = world_with(replace(no_bonus(), expiry=Expiry(ExpiryPolicy.INACTIVITY, 6)))
    w.adjust(100, day=0)
    w.fly(w.flight(base="10", surcharges="0"), day=150)  # activity: all lots live on
    w.clock(200)
    assert w.state().balance == 150
    out = w.clock(400)
    due = add_months(at(150).date(), 6)
    assert sorted((p.points, p.at.date()) for p in postings(out) if p.kind == "expire") == [
        (-100, due),
        (-50, due),
    ]
    assert w.state().balance == 0


def test_expiry_is_applied_before_a_later_event_even_without_a_clock() -> None:
    w = world_with(replace(no_bonus(), expiry=Expiry(ExpiryPolicy.AFTER_EARNING, 1)))
    w.adjust(100, day=0)
    assert rejected(w.redeem(50, day=40)) == "insufficient_points"
    assert w.state().balance == 0


def test_a_full_refund_reverses_exactly_what_the_sale_earned_including_bonuses() -> None:
    w = world_with()
    w.purchase("99.99", sale_id="S1")
    out = w.refund("S1")
    assert points_postings(out) == [("reverse", -(99 + 100))]
    assert points_postings(out, "q_spend") == [("reverse", -99)]
    assert w.state().balance == 0


@pytest.mark.parametrize("parts", [["33.33", "33.33", "33.33"], ["10", "89.99"], ["0.01"] * 3])
def test_partial_refunds_add_up_to_the_full_reversal(parts: list[str]) -> None:
    w = world_with(no_bonus())
    w.purchase("99.99", sale_id="S1")
    reversed_points = 0
    for day, amount in enumerate(parts, start=2):
        reversed_points -= sum(p for _, p in points_postings(w.refund("S1", amount, day=day)))
    assert reversed_points <= 99
    rest = w.refund("S1", day=9)
    reversed_points -= sum(p for _, p in points_postings(rest))
    assert reversed_points == 99 and w.state().balance == 0


def test_refunds_of_unknown_sales_above_the_sale_or_in_another_currency_are_rejected() -> None:
    w = world_with(no_bonus())
    w.purchase("50", sale_id="S1")
    assert rejected(w.refund("nope")) == "unknown_sale"
    assert rejected(w.refund("S1", "50.01")) == "refund_exceeds_sale"
    assert rejected(w.refund("S1", "10", currency="USD")) == "currency_mismatch"
    w.refund("S1")
    assert rejected(w.refund("S1")) == "invalid_amount"


def test_refunding_points_already_spent_takes_other_lots_then_leaves_a_debt() -> None:
    w = world_with(no_bonus())
    w.fly(w.flight(base="20", surcharges="0"))  # 100 points, available at once
    w.purchase("300", sale_id="S1", day=1)  # 300 points, pending
    w.clock(12)
    w.redeem(380, day=12)  # spends the sale's points too
    assert w.state().balance == 20
    out = w.refund("S1", day=13)
    assert points_postings(out) == [("reverse", -300)]
    assert w.state().balance == -280 and w.state().debt == 280
    w.adjust(500, day=14)  # later earnings repay the debt first
    assert (w.state().balance, w.state().debt) == (220, 0)


def test_a_cancelled_flight_reverses_points_and_qualifying_credit() -> None:
    w = world_with(no_bonus())
    flight = w.flight(base="100", surcharges="0")
    w.fly(flight)
    out = w.cancel(flight.segment_id)
    assert points_postings(out) == [("reverse", -500)]
    assert points_postings(out, "q_segments") == [("reverse", -1)]
    assert w.state().qualifying == {"q_miles": 0, "q_segments": 0, "q_spend": 0}
    assert rejected(w.cancel(flight.segment_id, day=3)) == "segment_not_credited"
    assert rejected(w.cancel("never-flown")) == "segment_not_credited"


def test_posting_ids_derive_from_their_cause() -> None:
    w = world_with()
    out = w.purchase("10", event_id="evt-7")
    assert {p.posting_id for p in postings(out)} == {
        "evt-7/earn",
        "evt-7/bonus_welcome",
        "evt-7/earn/q_spend",
    }


def test_balance_is_the_sum_of_lots_and_of_postings() -> None:
    w = world_with()
    w.purchase("100", sale_id="S1")
    w.fly(w.flight())
    w.refund("S1", "40", day=3)
    w.clock(30)
    w.redeem(300, day=30)
    total = sum(
        p.points
        for o in w.outcomes
        for p in postings(o)
        if p.currency == "points" and p.member_id == "M1"
    )
    assert w.state().balance == sum(lot.remaining for lot in w.state().lots) == total


_TEXT = st.text(min_size=1, max_size=12)
_POSTINGS = st.builds(
    Posting,
    posting_id=_TEXT,
    member_id=_TEXT,
    # UTC (every time in the core), another offset, or none: `Posting.line` writes each as
    # orjson writes it.
    at=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]))
    | st.datetimes(),
    currency=_TEXT,
    points=st.integers(-(10**12), 10**12),
    kind=_TEXT,
    cause=_TEXT,
    lot_id=st.none() | _TEXT,
    draws=st.lists(st.tuples(_TEXT, st.integers(0, 10**9)), max_size=3).map(tuple),
    reason=st.none() | _TEXT,
    operator_id=st.none() | _TEXT,
)


@given(_POSTINGS)
def test_a_ledger_line_is_the_posting_as_orjson_writes_the_dataclass(posting: Posting) -> None:
    # `Posting.fields` is what the ledger writes (replay and stream); a field added to the
    # class and not there would be missing from the ledger.
    assert list(posting.fields()) == [f.name for f in dataclasses.fields(Posting)]
    assert orjson.dumps(posting.fields()) == orjson.dumps(posting)
    assert posting.line() == orjson.dumps(posting.fields())
    assert posting.line(orjson.OPT_APPEND_NEWLINE) == orjson.dumps(posting) + b"\n"


_LOTS = st.lists(st.integers(1, 50), min_size=0, max_size=60)


@given(_LOTS, st.data(), st.integers(0, 30), st.booleans())
def test_a_debit_takes_exactly_its_draws_from_any_lots(
    sizes: list[int], data: st.DataObject, to_debt: int, debt_first: bool
) -> None:
    """The debit's walk stops at the last lot drawn from and rebuilds the list only when a
    lot emptied: the lots left are those of taking every draw from every lot."""
    from datetime import datetime

    from loyalty import events as ev
    from loyalty.apply import apply
    from loyalty.state import DEBT_LOT, Lot, MemberState

    start = date(2026, 1, 1)
    lots = [Lot(f"L{n}", start, start, None, size) for n, size in enumerate(sizes)]
    if debt_first:
        lots.insert(0, Lot(DEBT_LOT, start, start, None, -5))
    live = [lot for lot in lots if lot.remaining > 0]
    chosen = data.draw(st.lists(st.sampled_from(live), unique_by=id) if live else st.just([]))
    draws = tuple(
        (lot.lot_id, data.draw(st.integers(0, lot.remaining), label=lot.lot_id)) for lot in chosen
    )
    expected = {lot.lot_id: lot.remaining for lot in lots}
    for lot_id, take in draws:
        expected[lot_id] -= take
    order = [lot.lot_id for lot in lots if expected[lot.lot_id] != 0]
    if to_debt:
        if order and order[0] == DEBT_LOT:
            expected[DEBT_LOT] -= to_debt
        else:
            order.insert(0, DEBT_LOT)
            expected[DEBT_LOT] = -to_debt
    at_ = datetime(2026, 2, 1, tzinfo=UTC)
    state = MemberState("M1", start, "blue", at_, lots=lots)
    posting = Posting("p", "M1", at_, "points", -sum(t for _, t in draws), "redeem", "c")
    apply(state, ev.PointsDebited(posting, draws, to_debt))
    assert [(lot.lot_id, lot.remaining) for lot in state.lots] == [
        (lot_id, expected[lot_id]) for lot_id in order
    ]
