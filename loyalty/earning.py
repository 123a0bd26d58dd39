"""How many points and how much qualifying credit an accrual earns.

Every product is computed exactly in Decimal and rounded once, at the end, by
`loyalty.rounding.to_points` (down). Promotions do not stack: the highest multiplier applies,
and only to the base earn (never to bonuses).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from loyalty.hot import Hot, PurchaseView
from loyalty.inputs import Flight
from loyalty.program import PartnerEarn, Program
from loyalty.rejections import Code, Rejected
from loyalty.rounding import to_points

ONE: Final = Decimal(1)


def promotion_multiplier(
    hot: Hot, source: str, category: str | None, tier: str, on: date
) -> Decimal:
    best = ONE
    for starts_on, ends_on, applies_to, categories, tiers, multiplier in hot.promotions:
        if (
            starts_on <= on <= ends_on
            and source in applies_to
            and (not categories or category in categories)
            and (not tiers or tier in tiers)
        ):
            best = max(best, multiplier)
    return best


def purchase_earn(
    rule: PurchaseView, hot: Hot, tier: str, amount: Decimal, category: str, on: date
) -> tuple[int, dict[str, int], int]:
    """(points, qualifying credit, the points a promotion added) for a purchase of `amount` in
    the base currency. `rule`: the programme's purchase rule (`Hot.purchases`)."""
    qualifying = {q: to_points(amount * rate) for q, rate in rule.qualifying_per_unit.items()}
    if amount < rule.min_amount:
        return 0, qualifying, 0
    base = amount * rule.points_per_unit[tier] * rule.category_multipliers.get(category, ONE)
    promo = promotion_multiplier(hot, "purchase", category, tier, on)
    points = _bounded(rule, to_points(base * promo))
    added = points - _bounded(rule, to_points(base)) if promo != ONE else 0
    return points, qualifying, added


def _bounded(rule: PurchaseView, points: int) -> int:
    points = max(points, rule.min_points)
    return points if rule.max_points is None else min(points, rule.max_points)


def flight_earn(program: Program, tier: str, flight: Flight) -> tuple[int, dict[str, int], int]:
    """(points, qualifying credit, the points a promotion added) for one flown segment."""
    hot = program.hot
    rule = hot.carriers.get(flight.carrier)  # the carrier's rule, read natively (`Hot`)
    if rule is None:
        raise Rejected(
            Code.CARRIER_NOT_PARTNERED, f"carrier {flight.carrier} does not earn in {program.name}"
        )
    eligible = hot.to_base(flight.base_fare + flight.carrier_surcharges, flight.currency)
    if eligible is None:
        raise Rejected(
            Code.UNSUPPORTED_CURRENCY,
            f"fares in {flight.currency} cannot be converted to {program.base_currency}",
        )
    promo = promotion_multiplier(hot, "flight", flight.cabin, tier, flight.flight_date)
    distance = Decimal(flight.distance_miles)
    fare_multiplier = rule.fare_class_multipliers.get(
        flight.fare_class, rule.default_fare_class_multiplier
    )
    if rule.revenue:
        exact = eligible * rule.points_per_unit[tier]
        points = to_points(exact * promo)
        qualifying_miles = flight.distance_miles
    else:
        base = max(distance * fare_multiplier, Decimal(rule.minimum_per_segment))
        bonus = distance * rule.cabin_bonus.get(flight.cabin, Decimal(0))
        exact = base + bonus
        points = to_points(exact * promo)
        qualifying_miles = to_points(distance * fare_multiplier)
    qualifying: dict[str, int] = {}
    if rule.qualifying_miles:
        qualifying[rule.qualifying_miles] = qualifying_miles
    if rule.qualifying_segments:
        qualifying[rule.qualifying_segments] = 1
    if rule.qualifying_spend and rule.revenue:
        qualifying[rule.qualifying_spend] = to_points(eligible)
    added = points - to_points(exact) if promo != ONE else 0
    return points, qualifying, added


def partner_earn(
    program: Program,
    rule: PartnerEarn,
    tier: str,
    category: str,
    amount: Decimal | None,
    points: int | None,
    on: date,
) -> tuple[int, int]:
    """(points before caps: given points or amount x rate, the points a promotion added)."""
    promo = promotion_multiplier(program.hot, "partner", category, tier, on)
    if points is not None:
        exact = Decimal(points)
    else:
        assert amount is not None
        exact = amount * rule.points_per_unit * rule.category_multipliers.get(category, ONE)
    earned = to_points(exact * promo)
    return earned, earned - to_points(exact) if promo != ONE else 0
