"""A loyalty programme's rules as plain, frozen data.

Loaded from YAML by `edge.program_file` (pydantic validates straight into these dataclasses, so
errors carry the field path); the checks here are the business constraints pydantic cannot
express by type. Decimal multipliers are exact; points are rounded once, in `loyalty.rounding`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from loyalty.program_errors import FieldError
from loyalty.program_status import Grading, Lifecycle, RetentionRule, StatusMatch, TierRules

if TYPE_CHECKING:
    from loyalty.hot import Hot

Source = Literal["purchase", "flight", "partner"]
SOURCES: tuple[Source, ...] = ("purchase", "flight", "partner")


def _non_negative(prefix: str = "", **values: Decimal | int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 0:
            raise FieldError(prefix + name, f"must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Currencies:
    points: str = "points"  # the redeemable currency
    qualifying: tuple[str, ...] = ()  # e.g. qualifying_miles, qualifying_segments, qualifying_spend


@dataclass(frozen=True, slots=True)
class PurchaseEarn:
    points_per_unit: dict[str, Decimal]  # by tier name
    category_multipliers: dict[str, Decimal] = field(default_factory=dict)
    min_points: int = 0  # a qualifying purchase earns at least this
    max_points: int | None = None  # and at most this, per transaction
    min_amount: Decimal = Decimal(0)  # purchases below this earn nothing
    qualifying_per_unit: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _non_negative(
            min_points=self.min_points, max_points=self.max_points, min_amount=self.min_amount
        )
        for name in ("points_per_unit", "category_multipliers", "qualifying_per_unit"):
            rates: dict[str, Decimal] = getattr(self, name)
            _non_negative(f"{name}.", **{str(k): v for k, v in rates.items()})
        if self.max_points is not None and self.max_points < self.min_points:
            raise FieldError("max_points", "must be >= min_points")


class FlightMethod(StrEnum):
    REVENUE = "revenue"  # (base fare + carrier surcharges, never taxes) x tier rate
    DISTANCE = "distance"  # miles x fare-class multiplier + cabin bonus, minimum per segment


@dataclass(frozen=True, slots=True)
class CarrierEarn:
    method: FlightMethod
    # revenue
    points_per_unit: dict[str, Decimal] = field(default_factory=dict)  # by tier, e.g. 5/7/8/9/11
    # distance
    fare_class_multipliers: dict[str, Decimal] = field(default_factory=dict)
    default_fare_class_multiplier: Decimal = Decimal("0.25")
    cabin_bonus: dict[str, Decimal] = field(default_factory=dict)  # fraction of distance
    minimum_per_segment: int = 0

    def __post_init__(self) -> None:
        _non_negative(
            minimum_per_segment=self.minimum_per_segment,
            default_fare_class_multiplier=self.default_fare_class_multiplier,
        )
        for name in ("points_per_unit", "fare_class_multipliers", "cabin_bonus"):
            rates: dict[str, Decimal] = getattr(self, name)
            _non_negative(f"{name}.", **{str(k): v for k, v in rates.items()})
        if self.method is FlightMethod.REVENUE and not self.points_per_unit:
            raise FieldError("points_per_unit", "a revenue-based carrier needs it, by tier")


@dataclass(frozen=True, slots=True)
class FlightEarn:
    carriers: dict[str, CarrierEarn]
    # Qualifying credit per segment: miles follow distance x fare-class multiplier (distance
    # carriers) or distance (revenue carriers); spend follows the eligible fare.
    qualifying_miles: str | None = None
    qualifying_segments: str | None = None
    qualifying_spend: str | None = None


@dataclass(frozen=True, slots=True)
class PartnerEarn:
    points_per_unit: Decimal = Decimal(1)  # when the partner posts an amount
    category_multipliers: dict[str, Decimal] = field(default_factory=dict)
    daily_cap: int | None = None  # points per member per day; the excess is not credited

    def __post_init__(self) -> None:
        _non_negative(points_per_unit=self.points_per_unit, daily_cap=self.daily_cap)


@dataclass(frozen=True, slots=True)
class Promotion:
    id: str
    starts_on: date
    ends_on: date  # inclusive
    multiplier: Decimal
    applies_to: tuple[Source, ...] = SOURCES
    categories: tuple[str, ...] = ()  # empty: every category
    tiers: tuple[str, ...] = ()  # empty: every tier

    def __post_init__(self) -> None:
        if self.ends_on < self.starts_on:
            raise FieldError("ends_on", "is before starts_on")
        if self.multiplier < 1:
            raise FieldError("multiplier", "a promotion multiplier must be >= 1")


@dataclass(frozen=True, slots=True)
class Bonus:
    points: int
    within_days: int | None = None  # activation: second purchase within N days of the first

    def __post_init__(self) -> None:
        _non_negative(points=self.points, within_days=self.within_days)


@dataclass(frozen=True, slots=True)
class Earn:
    purchases: PurchaseEarn | None = None
    flights: FlightEarn | None = None
    partners: dict[str, PartnerEarn] = field(default_factory=dict)
    promotions: tuple[Promotion, ...] = ()
    welcome_bonus: Bonus | None = None  # on the first purchase
    activation_bonus: Bonus | None = None  # on a second purchase within `within_days`


@dataclass(frozen=True)
class Pending:
    days: int = 0  # points are locked this long (the return window)
    applies_to: tuple[Source, ...] = ("purchase",)

    def __post_init__(self) -> None:
        _non_negative(days=self.days)


class ExpiryPolicy(StrEnum):
    NEVER = "never"
    AFTER_EARNING = "after_earning"  # each lot expires N months after it was earned
    INACTIVITY = "inactivity"  # all lots expire N months after the last activity


@dataclass(frozen=True, slots=True)
class Expiry:
    policy: ExpiryPolicy = ExpiryPolicy.NEVER
    months: int = 0

    def __post_init__(self) -> None:
        if self.policy is not ExpiryPolicy.NEVER and self.months <= 0:
            raise FieldError("months", f"expiry policy {self.policy} needs months > 0")


@dataclass(frozen=True, slots=True)
class Transfers:
    enabled: bool = True
    min_tenure_days: int = 0
    min_points: int = 1
    max_per_transfer: int | None = None
    max_per_year: int | None = None  # per sender and calendar year, fee excluded
    fee_percent: Decimal = Decimal(0)  # of the points sent, rounded down, paid by the sender
    fee_minimum: int = 0

    def __post_init__(self) -> None:
        _non_negative(
            min_tenure_days=self.min_tenure_days,
            min_points=self.min_points,
            max_per_transfer=self.max_per_transfer,
            max_per_year=self.max_per_year,
            fee_percent=self.fee_percent,
            fee_minimum=self.fee_minimum,
        )


@dataclass(frozen=True, slots=True)
class Velocity:
    """Accrual above these daily limits is held (not credited) and raises an alert."""

    member_daily_points: int | None = None
    partner_daily_points: int | None = None  # per member and partner
    # A hold no operator decided within this many days is settled by `expired_holds`.
    hold_days: int = 30
    expired_holds: Literal["reject", "release"] = "reject"

    def __post_init__(self) -> None:
        _non_negative(
            member_daily_points=self.member_daily_points,
            partner_daily_points=self.partner_daily_points,
        )
        if self.hold_days < 1:
            raise FieldError("hold_days", "must be >= 1")


@dataclass(frozen=True, slots=True)
class Windows:
    retro_claim_days: int = 180
    refund_days: int = 365  # sales older than this can no longer be refunded
    cancellation_days: int = 365  # flown segments older than this can no longer be reversed
    partner_dedupe_days: int = 90  # a partner transaction id is remembered this long
    # Event and command ids are remembered this long past the event's time; an input older
    # than this (behind the member's or the clock's time) is rejected `too_late`.
    duplicate_horizon_days: int = 90

    def __post_init__(self) -> None:
        _non_negative(
            retro_claim_days=self.retro_claim_days,
            refund_days=self.refund_days,
            cancellation_days=self.cancellation_days,
            partner_dedupe_days=self.partner_dedupe_days,
        )
        if self.duplicate_horizon_days < 1:
            raise FieldError("duplicate_horizon_days", "must be >= 1")
        # A business key forgotten inside the horizon would let a re-sent event (new event
        # id, same sale/segment/partner transaction) credit twice.
        for name in ("refund_days", "cancellation_days", "partner_dedupe_days"):
            if getattr(self, name) < self.duplicate_horizon_days:
                raise FieldError(
                    name,
                    f"{getattr(self, name)} must be >= duplicate_horizon_days "
                    f"({self.duplicate_horizon_days}): its business key must outlive the horizon",
                )


@dataclass(frozen=True, slots=True)
class Valuation:
    """What a point is worth to finance: the liability report's deferred-revenue view
    (outstanding x value_per_point x (1 - expected breakage))."""

    currency: str
    value_per_point: Decimal  # in `currency`, e.g. 0.0125
    # Management's estimate of the share of points that will never be redeemed. When absent
    # the report estimates it from the history (see docs/liability.md).
    expected_breakage: Decimal | None = None

    def __post_init__(self) -> None:
        _non_negative(value_per_point=self.value_per_point)
        breakage = self.expected_breakage
        if breakage is not None and not Decimal(0) <= breakage < Decimal(1):
            raise FieldError("expected_breakage", f"must be in [0, 1), got {breakage}")


@dataclass(frozen=True)
class Program:
    name: str
    base_currency: str
    tiers: tuple[str, ...]  # lowest first
    currencies: Currencies = field(default_factory=Currencies)
    earn: Earn = field(default_factory=Earn)
    fx_rates: dict[str, Decimal] = field(default_factory=dict)  # units of base per unit
    pending: Pending = field(default_factory=Pending)
    expiry: Expiry = field(default_factory=Expiry)
    transfers: Transfers = field(default_factory=Transfers)
    velocity: Velocity = field(default_factory=Velocity)
    windows: Windows = field(default_factory=Windows)
    tier_rules: TierRules = field(default_factory=TierRules)
    grading: Grading | None = None
    status_match: StatusMatch | None = None
    retention_rules: tuple[RetentionRule, ...] = ()
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    # The attributes enrolments carry in `segment` (e.g. home_market): what segment_by may name.
    member_attributes: tuple[str, ...] = ()
    valuation: Valuation | None = None

    def __post_init__(self) -> None:
        if not self.tiers:
            raise FieldError("tiers", "at least one tier is needed")
        if len(set(self.tiers)) != len(self.tiers):
            raise FieldError("tiers", "names must be unique")
        for code, rate in self.fx_rates.items():
            if rate <= 0:
                raise FieldError(f"fx_rates.{code}", "must be > 0")
        self._check_tier_tables()
        self._check_qualifying()
        self._check_status_rules()

    def _check_tier_tables(self) -> None:
        tables: list[tuple[str, dict[str, Decimal]]] = []
        if self.earn.purchases:
            tables.append(("earn.purchases.points_per_unit", self.earn.purchases.points_per_unit))
        if self.earn.flights:
            for code, carrier in self.earn.flights.carriers.items():
                if carrier.method is FlightMethod.REVENUE:
                    tables.append(
                        (f"earn.flights.carriers.{code}.points_per_unit", carrier.points_per_unit)
                    )
        for path, table in tables:
            missing = [t for t in self.tiers if t not in table]
            extra = [t for t in table if t not in self.tiers]
            if missing or extra:
                raise FieldError(
                    path,
                    f"needs exactly the tiers {list(self.tiers)} "
                    f"(missing {missing}, unknown {extra})",
                )

    def _check_qualifying(self) -> None:
        declared = set(self.currencies.qualifying)
        named: list[tuple[str, str]] = []
        if self.earn.purchases:
            named += [
                (f"earn.purchases.qualifying_per_unit.{q}", q)
                for q in self.earn.purchases.qualifying_per_unit
            ]
        if self.earn.flights:
            f = self.earn.flights
            for field_name in ("qualifying_miles", "qualifying_segments", "qualifying_spend"):
                value = getattr(f, field_name)
                if value:
                    named.append((f"earn.flights.{field_name}", value))
        for path, currency in named:
            if currency not in declared:
                raise FieldError(
                    path,
                    f"{currency!r} is not declared in currencies.qualifying {sorted(declared)}",
                )

    def _check_status_rules(self) -> None:
        tiers, currencies = set(self.tiers), set(self.currencies.qualifying)
        tier_list, currency_list = list(self.tiers), sorted(currencies)
        rules = self.tier_rules
        for tier, alternatives in rules.thresholds.items():
            if tier not in tiers or tier == self.base_tier:
                raise FieldError(
                    f"tier_rules.thresholds.{tier}",
                    f"not a tier above the base tier (tiers: {tier_list})",
                )
            for index, alternative in enumerate(alternatives):
                unknown = sorted(set(alternative) - currencies)
                if unknown or not alternative:
                    raise FieldError(
                        f"tier_rules.thresholds.{tier}.{index}",
                        f"unknown or no qualifying currencies {unknown} (allowed: {currency_list})",
                    )
        if rules.rollover and rules.rollover.currency not in currencies:
            raise FieldError(
                "tier_rules.rollover.currency",
                f"{rules.rollover.currency!r} is not a qualifying currency {currency_list}",
            )
        if rules.lifetime:
            if rules.lifetime.tier not in tiers:
                raise FieldError(
                    "tier_rules.lifetime.tier", f"{rules.lifetime.tier!r} is not a tier {tier_list}"
                )
            for currency in rules.lifetime.cumulative:
                if currency not in currencies:
                    raise FieldError(
                        f"tier_rules.lifetime.cumulative.{currency}",
                        f"not a qualifying currency {currency_list}",
                    )
        for index, promotion in enumerate(self.earn.promotions):
            for tier in promotion.tiers:
                if tier not in tiers:
                    raise FieldError(
                        f"earn.promotions.{index}.tiers", f"{tier!r} is not a tier {tier_list}"
                    )
        self._check_grading(currencies)
        if self.status_match:
            for name, mapping in self.status_match.programmes.items():
                for theirs, ours in mapping.items():
                    if ours not in tiers:
                        raise FieldError(
                            f"status_match.programmes.{name}.{theirs}",
                            f"{ours!r} is not a tier {tier_list}",
                        )
            for currency in self.status_match.target:
                if currency not in currencies:
                    raise FieldError(
                        f"status_match.target.{currency}",
                        f"not a qualifying currency {currency_list}",
                    )
        for index, rule in enumerate(self.retention_rules):
            for name in ("tier_at_least", "tier_at_most"):
                named = getattr(rule.when, name)
                if named is not None and named not in tiers:
                    raise FieldError(
                        f"retention_rules.{index}.when.{name}",
                        f"{named!r} is not a tier {tier_list}",
                    )

    def _check_grading(self, currencies: set[str]) -> None:
        grading = self.grading
        if grading is None:
            return
        if grading.metric not in currencies | {"points_earned"}:
            raise FieldError(
                "grading.metric",
                f"{grading.metric!r} is not a qualifying currency or points_earned "
                f"(allowed: {[*sorted(currencies), 'points_earned']})",
            )
        attributes = list(self.member_attributes)
        for index, name in enumerate(grading.segment_by):
            if name not in attributes:
                raise FieldError(
                    f"grading.segment_by.{index}",
                    f"{name!r} is not a declared member attribute (member_attributes: "
                    f"{attributes})",
                )

    @cached_property
    def ranks(self) -> dict[str, int]:
        """Tier -> rank (0: the base tier). Read as a dict on the hot path: from the compiled
        rulebook a call of `rank`, a method of this interpreted class, costs more than the
        lookup itself (upgrade check and retention screens, after every input)."""
        return {tier: index for index, tier in enumerate(self.tiers)}

    @cached_property
    def tier_checks(self) -> tuple[tuple[int, str, tuple[tuple[tuple[str, int], ...], ...]], ...]:
        """Tier thresholds precompiled for the per-event upgrade check, highest tier first."""
        thresholds = self.tier_rules.thresholds
        return tuple(
            (rank, tier, tuple(tuple(alt.items()) for alt in thresholds.get(tier, ())))
            for rank, tier in reversed(list(enumerate(self.tiers)))
            if rank > 0
        )

    @cached_property
    def upgrade_gates(self) -> tuple[tuple[tuple[str, int], ...] | None, ...]:
        """Per tier rank: (currency, least credit) pairs, one per currency that opens some
        alternative of a higher tier. Credit below all of them meets no alternative above:
        the upgrade check after every input stops there. None: no such shortcut (an
        alternative with no condition)."""
        gates: list[tuple[tuple[str, int], ...] | None] = []
        for floor in range(len(self.tiers)):
            least: dict[str, int] = {}
            open_ended = False
            for rank, _, alternatives in self.tier_checks:
                if rank <= floor:
                    continue
                for alternative in alternatives:
                    if not alternative:
                        open_ended = True
                        continue
                    currency, minimum = alternative[0]
                    least[currency] = min(minimum, least.get(currency, minimum))
            gates.append(None if open_ended else tuple(least.items()))
        return tuple(gates)

    def rank(self, tier: str) -> int:
        return self.ranks[tier]

    @cached_property
    def hot(self) -> Hot:
        """What the rulebook reads for every input, in one compiled object (loyalty/hot.py)."""
        from loyalty.hot import Hot

        return Hot(self)

    def __getstate__(self) -> dict[str, Any]:
        # The compiled view is rebuilt on first use, not copied (it cannot be: it is built
        # from the finished programme).
        return {k: v for k, v in self.__dict__.items() if k != "hot"}

    @property
    def base_tier(self) -> str:
        return self.tiers[0]
