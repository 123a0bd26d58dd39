"""Velocity holds end by an operator's decision, by expiry or when their sale or flight is
reversed, each step on the ledger (held currency) and the member events; adjustments and
debits carry their full audit trail."""

from __future__ import annotations

from dataclasses import replace

from edge.member_events import status_record
from loyalty import events as ev
from loyalty import inputs as i
from loyalty.book import Outcome
from loyalty.program import Velocity
from loyalty.state import DEBT_LOT
from tests.unit.core.world import World, at, make_program, postings, rejected


def records(outcome: Outcome) -> list[dict[str, object]]:
    found = [status_record(e) for _, e in outcome.events]
    return [r for r in found if r is not None]


def held_world(**velocity: object) -> tuple[World, str]:
    program = make_program()
    if velocity:
        program = replace(program, velocity=replace(program.velocity, **velocity))
    world = World(program)
    world.enrol()
    outcome = world.partner("card", amount=None, points=6000, day=2)  # partner limit 5,000
    [hold] = world.state().held
    assert [r["type"] for r in records(outcome)] == ["accrual_held"]
    [posting] = postings(outcome)
    assert (posting.currency, posting.points, posting.kind) == ("points_held", 6000, "hold")
    return world, hold.hold_id


def decide(world: World, hold_id: str, decision: str, command: str = "h-1", **kw: str) -> Outcome:
    fields = {"reason": "checked with the card issuer", "operator_id": "agent-9"} | kw
    return world.send(
        i.DecideHold(f"d-{command}", "M1", at(5), hold_id, decision, **fields, command_id=command)
    )


def test_a_released_hold_is_credited_with_the_operator_on_ledger_and_member_events() -> None:
    world, hold_id = held_world()
    before = world.state().balance
    outcome = decide(world, hold_id, "release")
    assert outcome.kind == "applied"
    assert world.state().balance == before + 6000
    assert world.state().held == []
    by_currency = {(p.currency, p.kind): p for p in postings(outcome)}
    assert by_currency["points", "hold_released"].points == 6000
    assert by_currency["points", "hold_released"].operator_id == "agent-9"
    assert by_currency["points_held", "hold_released"].points == -6000
    [record] = records(outcome)
    assert record["type"] == "hold_released" and record["operator_id"] == "agent-9"
    assert record["reason"] == "checked with the card issuer" and record["credited"] is True


def test_a_rejected_hold_credits_nothing_and_a_retried_decision_is_a_duplicate() -> None:
    world, hold_id = held_world()
    before = world.state().balance
    outcome = decide(world, hold_id, "reject")
    assert [r["type"] for r in records(outcome)] == ["hold_rejected"]
    assert world.state().balance == before and world.state().held == []
    assert decide(world, hold_id, "reject").kind == "duplicate"
    assert rejected(decide(world, hold_id, "release", command="h-2")) == "unknown_hold"


def test_a_decision_needs_a_reason_and_an_operator() -> None:
    world, hold_id = held_world()
    assert rejected(decide(world, hold_id, "release", reason=" ")) == "reason_required"
    assert rejected(decide(world, hold_id, "release", "h-2", operator_id="")) == "operator_required"
    assert len(world.state().held) == 1


def test_an_undecided_hold_expires_by_the_programme_rule() -> None:
    for rule, credited in (("reject", 0), ("release", 6000)):
        world, _ = held_world(hold_days=10, expired_holds=rule)
        before = world.state().balance
        outcome = world.clock(13)
        types = [r["type"] for r in records(outcome)]
        assert "hold_expired" in types, rule
        assert world.state().held == []
        assert world.state().balance == before + credited


def test_a_held_flight_released_then_cancelled_reverses_the_released_points() -> None:
    world = World()
    world.enrol()
    flight = world.flight(base="5000", surcharges="0")  # 25,000 points > 20,000 a day
    world.fly(flight)
    [hold] = world.state().held
    assert hold.ref == flight.segment_id
    decide(world, hold.hold_id, "release")
    credited = world.state().balance
    world.cancel(flight.segment_id, day=6)
    assert world.state().balance == credited - 25000


def test_a_held_flight_cancelled_while_held_voids_the_hold() -> None:
    world = World()
    world.enrol()
    flight = world.flight(base="5000", surcharges="0")
    world.fly(flight)
    outcome = world.cancel(flight.segment_id, day=3)
    assert "hold_voided" in [r["type"] for r in records(outcome)]
    assert world.state().held == []


def test_held_postings_add_up_to_the_open_holds() -> None:
    world, hold_id = held_world()
    world.partner("card", amount=None, points=7000, day=2)
    decide(world, hold_id, "reject")
    held = sum(p.points for o in world.outcomes for p in postings(o) if p.currency == "points_held")
    assert held == sum(h.points for h in world.state().held) == 7000


def test_a_manual_adjustment_carries_reason_and_operator_on_posting_and_member_event() -> None:
    world = World()
    world.enrol()
    world.adjust(500, day=2)
    outcome = world.adjust(-50, reason="duplicate credit on case 81", operator="agent-3", day=3)
    [posting] = postings(outcome)
    assert (posting.reason, posting.operator_id) == ("duplicate credit on case 81", "agent-3")
    [record] = records(outcome)
    assert record == record | {
        "type": "points_adjusted",
        "points": -50,
        "operator_id": "agent-3",
        "reason": "duplicate credit on case 81",
    }


def test_a_debit_across_lots_lists_every_lot_and_the_points_it_took() -> None:
    world = World(make_program(velocity=Velocity()))
    world.enrol()
    world.adjust(300, day=1)
    world.adjust(300, day=2)
    world.adjust(300, day=3)
    outcome = world.redeem(700, day=20)
    [debit] = postings(outcome)
    assert debit.points == -700
    assert sum(points for _, points in debit.draws) == 700
    assert len(debit.draws) >= 3 and debit.lot_id is None


def test_a_refund_into_debt_names_the_lots_it_touched_and_the_debt() -> None:
    world = World(make_program(velocity=Velocity()))
    world.enrol()
    world.purchase("800", day=1, sale_id="S1")  # 800 points, pending 10 days
    world.redeem(world.state().available(at(15).date()), day=15)
    outcome = world.refund("S1", day=16)
    [reversal] = [p for p in postings(outcome) if p.currency == "points"]
    lots = dict(reversal.draws)
    assert lots.get(DEBT_LOT, 0) > 0
    assert sum(lots.values()) == -reversal.points
    assert world.state().debt == lots[DEBT_LOT]


def test_posting_events_are_the_ones_on_the_ledger() -> None:
    assert ev.AccrualHeld in ev.POSTING_EVENTS and ev.HoldSettled in ev.POSTING_EVENTS
