"""Member commands, enrolment, idempotency and the rejections that leave state unchanged."""

from __future__ import annotations

import copy
from datetime import timedelta

from loyalty import inputs as i
from tests.unit.core.world import World, alerts, at, points_postings, postings, rejected


def funded(points: int = 10_000) -> World:
    w = World()
    w.enrol("M1", day=0)
    w.enrol("M2", day=0)
    w.adjust(points, day=1)
    return w


def test_enrolment_gives_the_base_tier_and_segment_attributes() -> None:
    w = World()
    w.enrol("M1", home_market="SE")
    assert (w.state().tier, w.state().attributes) == ("base", (("home_market", "SE"),))
    assert rejected(w.enrol("M1")) == "already_enrolled"


def test_events_for_members_who_never_enrolled_are_rejected() -> None:
    w = World()
    assert rejected(w.purchase("10", member="ghost")) == "unknown_member"
    assert "ghost" not in w.book.members


def test_a_redelivered_event_changes_nothing() -> None:
    w = funded()
    first = w.purchase("10", event_id="p-1", sale_id="s-1")
    before = copy.deepcopy(w.state())
    again = w.send(first.input)
    assert (again.kind, again.events) == ("duplicate", [])
    assert w.state() == before


def test_the_same_event_id_with_another_payload_is_a_conflict() -> None:
    w = funded()
    w.purchase("10", event_id="p-1", sale_id="s-1")
    out = w.purchase("11", event_id="p-1", sale_id="s-1")
    assert rejected(out) == "event_id_conflict"


def test_a_transfer_moves_points_and_charges_the_fee_to_the_sender() -> None:
    w = funded()
    out = w.transfer(1000)
    assert points_postings(out) == [("transfer_out", -1000), ("transfer_fee", -100)]
    # The credit settles at the next clock (the recipient may live in another partition).
    assert (w.state("M1").balance, w.state("M2").balance) == (8900, 0)
    assert points_postings(w.clock(41)) == [("transfer_in", 1000)]
    assert (w.state("M1").balance, w.state("M2").balance) == (8900, 1000)


def test_a_transfer_waits_for_a_clock_that_settles() -> None:
    """Ticks that do not settle let time pass without a meeting of all partitions; the credit
    is in flight until the next tick that settles, and lands at that tick's time."""
    w = funded()
    w.transfer(1000)
    for day in (41, 42):
        assert points_postings(w.clock(day, settle=False)) == []
        assert w.state("M1").in_flight and w.state("M2").balance == 0
    settled = postings(w.clock(43))
    assert [(p.kind, p.points) for p in settled] == [("transfer_in", 1000)]
    assert settled[0].at == at(43, 0)
    assert not w.state("M1").in_flight and w.state("M2").balance == 1000


def test_time_passes_at_clocks_that_do_not_settle() -> None:
    w = World()
    w.enrol(day=0)
    w.purchase("100", day=1)  # pending for the programme's pending days
    before = w.state().available(at(1).date())
    w.clock(60, settle=False)
    assert w.state().as_of == at(60, 0)
    assert w.state().available(at(60).date()) > before


def test_the_fee_has_a_minimum() -> None:
    w = funded()
    assert ("transfer_fee", -50) in points_postings(w.transfer(200))


def test_transfer_limits_are_enforced() -> None:
    w = funded(20_000)
    assert rejected(w.transfer(1000, day=10)) == "transfer_under_tenure"
    assert rejected(w.transfer(99)) == "transfer_below_minimum"
    assert rejected(w.transfer(5001)) == "transfer_over_cap"
    assert rejected(w.transfer(1000, to="M1")) == "transfer_to_self"
    w.transfer(5000)
    assert rejected(w.transfer(3001)) == "transfer_over_yearly_cap"
    assert w.transfer(3000).kind == "applied"
    assert w.transfer(1000, day=370).kind == "applied"  # a new calendar year


def test_the_fee_counts_towards_the_points_needed() -> None:
    w = funded(1050)
    assert rejected(w.transfer(1000)) == "insufficient_points"
    assert w.transfer(900).kind == "applied"


def test_a_transfer_to_a_non_member_comes_back_with_its_fee() -> None:
    w = funded()
    out = w.transfer(1000, to="nobody")
    assert points_postings(out) == [("transfer_out", -1000), ("transfer_fee", -100)]
    credit = w.clock(41)  # the credit finds no member and issues the return
    assert points_postings(credit) == []
    returned = w.clock(42)  # the return settles at the clock after
    assert points_postings(returned) == [("transfer_return", 1100)]
    assert w.state("M1").balance == 10_000
    assert alerts(returned.follow_ups[0]) == ["transfer_returned"]


def test_a_transfer_credit_is_applied_once() -> None:
    w = funded()
    w.transfer(1000)
    issued = list(w.book.pending)
    assert len(issued) == 1 and isinstance(issued[0], i.TransferReceived)
    w.clock(41)
    assert w.send(issued[0]).kind == "duplicate"  # a redelivered copy
    assert w.state("M2").balance == 1000


def test_follow_ups_settle_in_issue_order_whatever_order_they_arrive_in() -> None:
    w = funded(20_000)
    w.transfer(500, day=40)
    w.transfer(700, day=40.5)
    first, second = w.book.take_pending()
    reverse = w.book.settle([second, first], i.Clock("c-x", at(41)))
    assert [o.input.event_id for o in reverse] == [first.event_id, second.event_id]


def test_manual_adjustments_need_a_reason_and_an_operator() -> None:
    w = funded()
    assert rejected(w.adjust(100, reason="  ")) == "reason_required"
    assert rejected(w.adjust(100, operator="")) == "operator_required"
    assert rejected(w.adjust(0)) == "invalid_amount"
    assert points_postings(w.adjust(-300)) == [("adjust", -300)]
    assert rejected(w.adjust(-20_000)) == "insufficient_points"


def test_retro_claims_inside_the_window_credit_the_flight_once() -> None:
    w = funded()
    flight = w.flight(flown=at(10).date())
    assert points_postings(w.retro(flight, day=100)) == [("retro_claim", 1250)]
    assert rejected(w.retro(flight, day=101)) == "segment_already_credited"
    assert rejected(w.fly(flight, day=102)) == "segment_already_credited"


def test_retro_claims_outside_the_window_or_for_future_flights_are_rejected() -> None:
    w = funded()
    old = w.flight(flown=at(10).date(), ref="OLD")
    assert rejected(w.retro(old, day=191)) == "retro_claim_outside_window"
    future = w.flight(flown=at(10).date() + timedelta(days=30), ref="NEW")
    assert rejected(w.retro(future, day=20)) == "retro_claim_future_flight"


def test_status_match_is_not_offered_by_a_programme_without_a_mapping() -> None:
    w = funded()
    out = w.send(i.StatusMatchRequest("sm1", "M1", at(5), "oceanic", "gold", "ev-1"))
    assert rejected(out) == "status_match_unavailable"


def test_every_rejection_has_a_code_and_a_human_message() -> None:
    w = funded()
    out = w.redeem(50_000)
    assert out.rejection is not None
    assert out.rejection.code == "insufficient_points" and "50000" in out.rejection.message


def test_a_transfer_is_in_flight_for_the_sender_until_the_next_clock() -> None:
    w = funded()
    out = w.transfer(1000)
    assert w.state("M1").in_flight == {out.input.event_id: 1000}  # type: ignore[union-attr]
    w.clock(41)
    assert w.state("M1").in_flight == {}
    assert w.state("M2").balance == 1000
