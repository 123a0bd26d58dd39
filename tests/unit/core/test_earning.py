"""Earning rules: purchases, flights, partners, promotions, bonuses, caps and velocity."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from loyalty.state import MemberState
from tests.unit.core.world import World, alerts, at, points_postings, rejected


@pytest.fixture
def world() -> World:
    w = World()
    w.enrol("M1")
    w.enrol("M2")
    return w


def set_tier(w: World, tier: str, member: str = "M1") -> MemberState:
    state = w.state(member)
    state.tier = state.earned_tier = tier
    return state


def test_purchase_earns_per_unit_rounded_down_plus_the_welcome_bonus(world: World) -> None:
    out = world.purchase("12.99")
    assert points_postings(out) == [("earn", 12), ("bonus_welcome", 100)]
    assert points_postings(out, "q_spend") == [("earn", 12)]


def test_purchase_rate_follows_the_tier_and_category(world: World) -> None:
    world.purchase("1")  # use up the welcome bonus
    set_tier(world, "gold")
    assert points_postings(world.purchase("10", category="fresh", day=100)) == [("earn", 60)]
    assert points_postings(world.purchase("10", category="tobacco", day=101)) == []


def test_purchase_points_are_capped_and_small_baskets_earn_nothing(world: World) -> None:
    world.purchase("1")
    assert points_postings(world.purchase("5000", day=100)) == [("earn", 1000)]
    assert points_postings(world.purchase("0.99", day=101)) == []


def test_promotions_do_not_stack_the_best_multiplier_applies(world: World) -> None:
    world.purchase("1")
    march = 60  # 2026-03-02
    assert points_postings(world.purchase("10", category="fresh", day=march)) == [("earn", 60)]
    assert points_postings(world.purchase("10", category="food", day=march)) == [("earn", 20)]


def test_activation_bonus_only_for_a_second_purchase_within_the_window() -> None:
    w = World()
    w.enrol("M1")
    w.enrol("M2")
    w.purchase("10", member="M1", day=1)
    assert ("bonus_activation", 200) in points_postings(w.purchase("10", member="M1", day=31))
    w.purchase("10", member="M2", day=1)
    assert points_postings(w.purchase("10", member="M2", day=32)) == [("earn", 10)]
    assert points_postings(w.purchase("10", member="M1", day=33)) == [("earn", 10)]


def test_purchases_in_other_currencies_are_converted_or_rejected(world: World) -> None:
    assert ("earn", 50) in points_postings(world.purchase("100", currency="USD"))
    assert rejected(world.purchase("100", currency="JPY")) == "unsupported_currency"


def test_a_sale_id_is_credited_once(world: World) -> None:
    world.purchase("10", sale_id="s-1")
    assert rejected(world.purchase("10", sale_id="s-1")) == "duplicate_sale"


def test_revenue_flights_earn_on_fare_plus_surcharges_never_taxes(world: World) -> None:
    out = world.fly(world.flight(base="200", surcharges="50", taxes="999"))
    assert points_postings(out) == [("earn", 250 * 5)]
    assert points_postings(out, "q_spend") == [("earn", 250)]
    assert points_postings(out, "q_miles") == [("earn", 1000)]
    assert points_postings(out, "q_segments") == [("earn", 1)]


@pytest.mark.parametrize(("tier", "rate"), [("base", 5), ("silver", 7), ("gold", 8)])
def test_revenue_flights_use_the_tier_multiplier(world: World, tier: str, rate: int) -> None:
    set_tier(world, tier)
    assert points_postings(world.fly(world.flight(base="100", surcharges="0"))) == [
        ("earn", 100 * rate)
    ]


def test_revenue_flights_convert_the_fare_currency(world: World) -> None:
    out = world.fly(world.flight(base="100", surcharges="0", currency="USD"))
    assert points_postings(out) == [("earn", 250)]


def test_distance_flights_use_fare_class_cabin_bonus_and_minimum(world: World) -> None:
    first = world.flight(carrier="PA", distance=1000, fare_class="F", cabin="business", ref="R1")
    assert points_postings(world.fly(first)) == [("earn", 3000 + 250)]
    unknown_class = world.flight(carrier="PA", distance=1000, fare_class="Z", ref="R2")
    assert points_postings(world.fly(unknown_class)) == [("earn", 500)]  # 250 < minimum
    assert points_postings(world.fly(unknown_class), "q_miles") == []  # same segment again


def test_flight_promotions_follow_the_flight_date(world: World) -> None:
    in_march = world.flight(base="100", surcharges="0", flown=at(65).date(), ref="P1")
    assert points_postings(world.fly(in_march, day=66)) == [("earn", 1000)]
    february = world.flight(base="100", surcharges="0", flown=at(55).date(), ref="P2")
    assert points_postings(world.fly(february, day=66)) == [("earn", 500)]


def test_flights_on_carriers_without_a_rule_are_rejected(world: World) -> None:
    assert rejected(world.fly(world.flight(carrier="ZZ"))) == "carrier_not_partnered"


def test_a_segment_is_credited_once(world: World) -> None:
    world.fly(world.flight(ref="R9"))
    assert rejected(world.fly(world.flight(ref="R9"), day=3)) == "segment_already_credited"


def test_partner_amounts_use_the_partner_rate_and_category(world: World) -> None:
    assert points_postings(world.partner(amount="100")) == [("earn", 200)]
    assert points_postings(world.partner(amount="100", category="suite")) == [("earn", 600)]
    assert points_postings(world.partner("card", amount=None, points=77)) == [("earn", 77)]


def test_partner_daily_cap_forfeits_the_excess_with_an_alert(world: World) -> None:
    world.partner(amount="400")  # 800 points
    out = world.partner(amount="400")
    assert points_postings(out) == [("earn", 200)]
    assert alerts(out) == ["partner_daily_cap_reached"]
    assert points_postings(world.partner(amount="400", day=2)) == [("earn", 800)]


def test_unknown_partners_and_repeated_partner_transactions_are_rejected(world: World) -> None:
    assert rejected(world.partner("nobody")) == "unknown_partner"
    world.partner(txn="T1")
    assert rejected(world.partner(txn="T1")) == "duplicate_partner_transaction"


def test_accrual_over_the_velocity_limit_is_held_not_credited() -> None:
    w = World(
        replace(
            World().program, velocity=replace(World().program.velocity, member_daily_points=1500)
        )
    )
    w.enrol("M1")
    w.fly(w.flight(base="200", surcharges="0", ref="A"))  # 1000
    out = w.fly(w.flight(base="200", surcharges="0", ref="B"))  # +1000 > 1500
    assert points_postings(out) == []
    assert alerts(out) == ["velocity_limit_exceeded"]
    state = w.state()
    assert state.balance == 1000 and [h.points for h in state.held] == [1000]
    assert state.qualifying["q_segments"] == 2  # qualifying credit is not a payout: kept


def test_points_are_integers_and_money_stays_decimal(world: World) -> None:
    out = world.purchase("33.33")
    assert all(isinstance(points, int) for _, points in points_postings(out))
    assert world.state().sales[next(iter(world.state().sales))].amount == Decimal("33.33")


def test_time_is_event_time(world: World) -> None:
    world.purchase("10", day=5)
    assert world.state().as_of == at(5)
