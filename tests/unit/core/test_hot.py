"""The compiled view of a programme (loyalty/hot.py) holds exactly the programme's values, and
a programme with its view built still copies, pickles and `replace`s into its own view."""

from __future__ import annotations

import copy
import pickle
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from edge.program_file import load_program
from loyalty.program import Expiry, ExpiryPolicy, FlightMethod, Program

PROGRAMS = sorted((Path(__file__).parents[3] / "programs").glob("*.yaml"))


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_the_view_holds_the_programmes_values(path: Path) -> None:
    program = load_program(path)
    hot = program.hot
    assert program.hot is hot  # built once
    assert hot.points == program.currencies.points
    assert hot.pending_days == program.pending.days
    windows = program.windows
    assert (hot.refund_days, hot.cancellation_days, hot.partner_dedupe_days) == (
        windows.refund_days,
        windows.cancellation_days,
        windows.partner_dedupe_days,
    )
    assert hot.pending_sources == tuple(program.pending.applies_to)
    assert hot.expires_after_earning == (program.expiry.policy is ExpiryPolicy.AFTER_EARNING)
    assert hot.expires_on_inactivity == (program.expiry.policy is ExpiryPolicy.INACTIVITY)
    assert hot.expiry_months == program.expiry.months
    lifecycle = program.lifecycle
    assert (
        hot.window_days,
        hot.exploration_days,
        hot.maturity_min_activity,
        hot.decline_drop_percent,
        hot.inactive_days,
    ) == (
        lifecycle.window_days,
        lifecycle.exploration_days,
        lifecycle.maturity_min_activity,
        lifecycle.decline_drop_percent,
        lifecycle.inactive_days,
    )
    assert hot.tiers == program.tiers
    assert hot.ranks == {tier: rank for rank, tier in enumerate(program.tiers)}
    assert hot.upgrade_gates == program.upgrade_gates
    assert hot.tier_checks == program.tier_checks
    assert hot.grading == program.grading
    rule = program.earn.purchases
    view = hot.purchases
    if rule is None:
        assert view is None
    else:
        assert view is not None
        assert (
            view.points_per_unit,
            view.category_multipliers,
            view.min_points,
            view.max_points,
            view.min_amount,
            view.qualifying_per_unit,
        ) == (
            rule.points_per_unit,
            rule.category_multipliers,
            rule.min_points,
            rule.max_points,
            rule.min_amount,
            rule.qualifying_per_unit,
        )
    flights = program.earn.flights
    carriers = {} if flights is None else flights.carriers
    assert set(hot.carriers) == set(carriers)
    for code, carrier in carriers.items():
        assert flights is not None
        seen = hot.carriers[code]
        assert (
            seen.revenue,
            seen.points_per_unit,
            seen.fare_class_multipliers,
            seen.default_fare_class_multiplier,
            seen.cabin_bonus,
            seen.minimum_per_segment,
            seen.qualifying_miles,
            seen.qualifying_segments,
            seen.qualifying_spend,
        ) == (
            carrier.method is FlightMethod.REVENUE,
            carrier.points_per_unit,
            carrier.fare_class_multipliers,
            carrier.default_fare_class_multiplier,
            carrier.cabin_bonus,
            carrier.minimum_per_segment,
            flights.qualifying_miles,
            flights.qualifying_segments,
            flights.qualifying_spend,
        )
    assert hot.promotions == tuple(
        (p.starts_on, p.ends_on, tuple(p.applies_to), p.categories, p.tiers, p.multiplier)
        for p in program.earn.promotions
    )
    assert [
        (
            c.rule,
            c.rule_id,
            c.cooldown_days,
            c.only_after,
            c.stages,
            c.least,
            c.most,
            c.tenure_days,
            c.inactive_days,
            c.periods,
            c.periods_tier,
            c.balance,
            c.drop_percent,
        )
        for c in hot.rule_checks
    ] == [
        (
            r,
            r.id,
            r.cooldown_days,
            tuple(r.only_after),
            tuple(r.when.stage_in),
            program.rank(r.when.tier_at_least) if r.when.tier_at_least else 0,
            program.rank(r.when.tier_at_most) if r.when.tier_at_most else len(program.tiers) - 1,
            r.when.tenure_days_at_least,
            r.when.inactive_days_at_least,
            r.when.periods_at_tier_at_least,
            r.when.tier_at_least or program.base_tier,
            r.when.balance_at_least,
            r.when.activity_drop_percent_at_least,
        )
        for r in program.retention_rules
    ]
    assert hot.member_daily_points == program.velocity.member_daily_points
    assert hot.partner_daily_points == program.velocity.partner_daily_points
    assert hot.base_currency == program.base_currency
    assert hot.base_tier == program.base_tier
    assert hot.fx_rates == program.fx_rates


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_amounts_convert_to_the_base_currency_by_the_programmes_rates(path: Path) -> None:
    program = load_program(path)
    hot = program.hot
    amount = Decimal("123.45")
    assert hot.to_base(amount, program.base_currency) is amount
    for currency, rate in program.fx_rates.items():
        assert hot.to_base(amount, currency) == amount * rate
    assert hot.to_base(amount, "XXX") is None  # no rate: not convertible


def test_a_programme_with_its_view_copies_and_replaces() -> None:
    program = load_program(PROGRAMS[0])
    _ = program.hot
    for again in (copy.deepcopy(program), pickle.loads(pickle.dumps(program))):
        assert again == program
        assert again.hot.expiry_months == program.hot.expiry_months
    other = replace(program, expiry=Expiry(ExpiryPolicy.AFTER_EARNING, 7))
    assert isinstance(other, Program)
    assert other.hot.expires_after_earning and other.hot.expiry_months == 7
