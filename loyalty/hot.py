"""The programme's values read for every input, copied into one compiled object.

The programme's classes stay interpreted (pydantic validates into them), so from the compiled
rulebook every `program.expiry.months` is two generic attribute lookups: ~180 instructions
each, measured with callgrind, ~65 of them per input. `program.hot` is one such lookup, and
then native field reads. Built once per programme (`Program.hot`), from the same objects, so
it holds exactly their values; a programme is frozen, and `dataclasses.replace` makes a new
one with its own view.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from loyalty.program_status import Grading, PeriodKind, RetentionRule

if TYPE_CHECKING:
    from loyalty.program import CarrierEarn, FlightEarn, Program, PurchaseEarn


class Hot:
    def __init__(self, program: Program) -> None:
        from loyalty.program import ExpiryPolicy

        self.points: str = program.currencies.points
        self.pending_days: int = program.pending.days
        self.pending_sources: tuple[str, ...] = tuple(program.pending.applies_to)
        windows = program.windows  # in days: the accrual paths count back by day ordinals
        self.refund_days: int = windows.refund_days
        self.cancellation_days: int = windows.cancellation_days
        self.partner_dedupe_days: int = windows.partner_dedupe_days
        expiry = program.expiry
        self.expires_after_earning: bool = expiry.policy is ExpiryPolicy.AFTER_EARNING
        self.expires_on_inactivity: bool = expiry.policy is ExpiryPolicy.INACTIVITY
        self.expiry_months: int = expiry.months
        stages = program.lifecycle
        self.window_days: int = stages.window_days
        self.exploration_days: int = stages.exploration_days
        self.maturity_min_activity: int = stages.maturity_min_activity
        self.decline_drop_percent: int = stages.decline_drop_percent
        self.inactive_days: int = stages.inactive_days
        self.tiers: tuple[str, ...] = program.tiers
        self.ranks: dict[str, int] = program.ranks
        self.upgrade_gates: tuple[tuple[tuple[str, int], ...] | None, ...] = program.upgrade_gates
        self.tier_checks: tuple[tuple[int, str, tuple[tuple[tuple[str, int], ...], ...]], ...] = (
            program.tier_checks
        )
        grading = program.grading
        self.grading: Grading | None = grading
        # The grading's metric and period length, read for every credit (`volume_period`).
        self.grading_metric: str = "" if grading is None else grading.metric
        self.grading_months: int = 3 if grading is None else grading.period_months
        self.calendar_year: bool = program.tier_rules.period is PeriodKind.CALENDAR_YEAR
        # Each promotion's terms as a tuple: compiled, the loop unpacks them natively where
        # reading a promotion's fields is a generic lookup each (every accrual asks).
        self.promotions: tuple[
            tuple[date, date, tuple[str, ...], tuple[str, ...], tuple[str, ...], Decimal], ...
        ] = tuple(
            (p.starts_on, p.ends_on, tuple(p.applies_to), p.categories, p.tiers, p.multiplier)
            for p in program.earn.promotions
        )
        self.base_currency: str = program.base_currency
        self.base_tier: str = program.base_tier
        self.fx_rates: dict[str, Decimal] = dict(program.fx_rates)
        # The first purchases' bonuses (`loyalty.accruals.purchase_bonus`): the welcome
        # bonus's points (0 without one) and the activation bonus's (points, within days).
        welcome, activation = program.earn.welcome_bonus, program.earn.activation_bonus
        self.welcome_points: int = 0 if welcome is None else welcome.points
        self.activation: tuple[int, int] | None = (
            None if activation is None else (activation.points, activation.within_days or 0)
        )
        self.member_daily_points: int | None = program.velocity.member_daily_points
        self.partner_daily_points: int | None = program.velocity.partner_daily_points
        earn = program.earn
        self.purchases: PurchaseView | None = (
            None if earn.purchases is None else PurchaseView(earn.purchases)
        )
        flights = earn.flights
        self.carriers: dict[str, CarrierView] = (
            {}
            if flights is None
            else {code: CarrierView(rule, flights) for code, rule in flights.carriers.items()}
        )
        top = len(program.tiers) - 1
        self.rule_checks: tuple[RuleCheck, ...] = tuple(
            RuleCheck(rule, self.ranks, top, self.base_tier) for rule in program.retention_rules
        )

    def to_base(self, amount: Decimal, currency: str) -> Decimal | None:
        """`amount` in the base currency, or None if the currency is not convertible (here,
        compiled: an accrual's only call into the programme's interpreted code otherwise)."""
        if currency == self.base_currency:
            return amount
        rate = self.fx_rates.get(currency)
        return None if rate is None else amount * rate


class PurchaseView:
    """The purchase earning rule as native fields (the rule's own are generic lookups, ~8 a
    purchase). The same objects as the rule's, so the same values."""

    def __init__(self, rule: PurchaseEarn) -> None:
        self.points_per_unit: dict[str, Decimal] = rule.points_per_unit
        self.category_multipliers: dict[str, Decimal] = rule.category_multipliers
        self.min_points: int = rule.min_points
        self.max_points: int | None = rule.max_points
        self.min_amount: Decimal = rule.min_amount
        self.qualifying_per_unit: dict[str, Decimal] = rule.qualifying_per_unit


class CarrierView:
    """A carrier's earning rule and the programme's flight credit settings as native fields
    (read generically, ~17 lookups a flown segment)."""

    def __init__(self, rule: CarrierEarn, flights: FlightEarn) -> None:
        from loyalty.program import FlightMethod

        self.revenue: bool = rule.method is FlightMethod.REVENUE
        self.points_per_unit: dict[str, Decimal] = rule.points_per_unit
        self.fare_class_multipliers: dict[str, Decimal] = rule.fare_class_multipliers
        self.default_fare_class_multiplier: Decimal = rule.default_fare_class_multiplier
        self.cabin_bonus: dict[str, Decimal] = rule.cabin_bonus
        self.minimum_per_segment: int = rule.minimum_per_segment
        self.qualifying_miles: str | None = flights.qualifying_miles
        self.qualifying_segments: str | None = flights.qualifying_segments
        self.qualifying_spend: str | None = flights.qualifying_spend


class RuleCheck:
    """A retention rule's condition as native values, in the order `loyalty.retention`
    tests them after every input: the screens (input types it waits for, stages, the tier
    ranks) and then the rest. Read from the compiled rulebook, each is a native field where
    the condition's own fields are generic lookups."""

    def __init__(
        self, rule: RetentionRule, ranks: dict[str, int], top: int, base_tier: str
    ) -> None:
        when = rule.when
        self.rule = rule
        self.rule_id: str = rule.id
        self.cooldown_days: int = rule.cooldown_days
        self.only_after: tuple[str, ...] = tuple(rule.only_after)
        self.stages: tuple[str, ...] = tuple(when.stage_in)
        self.least: int = 0 if when.tier_at_least is None else ranks[when.tier_at_least]
        self.most: int = top if when.tier_at_most is None else ranks[when.tier_at_most]
        self.tenure_days: int | None = when.tenure_days_at_least
        self.inactive_days: int | None = when.inactive_days_at_least
        self.periods: int | None = when.periods_at_tier_at_least
        self.periods_tier: str = when.tier_at_least or base_tier
        self.balance: int | None = when.balance_at_least
        self.drop_percent: int | None = when.activity_drop_percent_at_least
