"""Programme rules for status: tiers, relative classification (grading), status match,
retention rules and lifecycle stages. Part of `Program`; plain frozen data like the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from loyalty.program_errors import FieldError

# Wire names of the inputs a retention rule may wait for (loyalty.book.INPUT_TYPES).
InputType = Literal[
    "member_enrolled",
    "purchase",
    "refund",
    "flight_flown",
    "flight_cancelled",
    "partner_accrual",
    "redeem",
    "transfer_points",
    "transfer_received",
    "transfer_returned",
    "status_match_request",
    "retro_claim",
    "manual_adjustment",
    "hold_decision",
]


class PeriodKind(StrEnum):
    CALENDAR_YEAR = "calendar_year"
    ANNIVERSARY = "anniversary"  # from the member's enrolment day


@dataclass(frozen=True, slots=True)
class Rollover:
    """Surplus qualifying credit above the threshold of the tier kept carries into the next
    period, up to `cap`."""

    currency: str
    cap: int

    def __post_init__(self) -> None:
        if self.cap < 0:
            raise FieldError("cap", "must be >= 0")


@dataclass(frozen=True, slots=True)
class Lifetime:
    """Lifetime status: `tier` for good after `periods` periods at it or above, or once the
    cumulative qualifying totals reach `cumulative` (any one of them)."""

    tier: str
    periods: int | None = None
    cumulative: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TierRules:
    period: PeriodKind = PeriodKind.CALENDAR_YEAR
    # tier -> alternatives; each alternative maps qualifying currency -> minimum, all of which
    # must be met. E.g. gold: [{miles: 50000, spend: 3000}, {segments: 60, spend: 3000}] is
    # "(50,000 miles OR 60 segments) AND spend >= 3,000".
    thresholds: dict[str, tuple[dict[str, int], ...]] = field(default_factory=dict)
    soft_landing: bool = False  # at most one tier down per period
    rollover: Rollover | None = None
    lifetime: Lifetime | None = None


@dataclass(frozen=True, slots=True)
class Band:
    code: str  # the class-code part, e.g. "K"
    name: str  # key, ordinary, prospective ...
    share: Decimal  # of the segment's members, top band first


@dataclass(frozen=True, slots=True)
class Grading:
    """Relative classification inside a segment, re-run every period."""

    segment_by: tuple[str, ...]  # enrolment attributes forming the segment
    metric: str  # a qualifying currency, or "points_earned"
    bands: tuple[Band, ...]
    period_months: int = 3  # 3 = quarters, aligned on January
    min_segment_size: int = 5  # smaller segments are not ranked
    small_segment_band: str | None = None  # band code for them; default: the last band

    def __post_init__(self) -> None:
        if not self.bands:
            raise FieldError("bands", "grading needs at least one band")
        if sum(b.share for b in self.bands) != 1:
            raise FieldError("bands", "band shares must add up to 1")
        for index, band in enumerate(self.bands):
            if band.share <= 0:
                raise FieldError(f"bands.{index}.share", "must be > 0")
        if 12 % self.period_months:
            raise FieldError("period_months", "must divide 12 (1, 2, 3, 4, 6 or 12)")
        codes = [b.code for b in self.bands]
        if len(set(codes)) != len(codes):
            raise FieldError("bands", "band codes must be unique")
        if self.small_segment_band is not None and self.small_segment_band not in codes:
            raise FieldError(
                "small_segment_band", f"{self.small_segment_band!r} is not a band code {codes}"
            )

    @property
    def default_band(self) -> str:
        return self.small_segment_band or self.bands[-1].code


@dataclass(frozen=True, slots=True)
class StatusMatch:
    programmes: dict[str, dict[str, str]]  # competitor -> its tier -> our tier
    challenge_days: int = 90
    target: dict[str, int] = field(default_factory=dict)  # qualifying credit to earn in the window
    once_every_years: int = 3

    def __post_init__(self) -> None:
        if self.challenge_days <= 0 or self.once_every_years < 0:
            raise FieldError(
                "challenge_days" if self.challenge_days <= 0 else "once_every_years",
                "challenge_days must be > 0 and once_every_years >= 0",
            )


class LifecycleStage(StrEnum):
    EXPLORATION = "exploration"
    DEVELOPMENT = "development"
    MATURITY = "maturity"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    window_days: int = 90  # activity is compared between the latest and the previous window
    exploration_days: int = 60  # newly enrolled
    maturity_min_activity: int = 6  # activity events in the latest window to count as mature
    decline_drop_percent: int = 50  # latest window down by more than this on the previous
    inactive_days: int = 180  # or no activity at all for this long

    def __post_init__(self) -> None:
        for name in ("window_days", "inactive_days"):
            if getattr(self, name) <= 0:
                raise FieldError(name, "must be > 0")
        if self.exploration_days < 0:
            raise FieldError("exploration_days", "must be >= 0")
        if not 0 < self.decline_drop_percent <= 100:
            raise FieldError("decline_drop_percent", "must be in 1..100")


@dataclass(frozen=True, slots=True)
class Condition:
    """All given fields must hold. Metrics are the member's at evaluation time."""

    tier_at_least: str | None = None
    tier_at_most: str | None = None
    stage_in: tuple[LifecycleStage, ...] = ()
    balance_at_least: int | None = None
    tenure_days_at_least: int | None = None
    periods_at_tier_at_least: int | None = None  # periods held at `tier_at_least` or above
    activity_drop_percent_at_least: int | None = None  # latest window vs previous
    inactive_days_at_least: int | None = None


class RuleAction(StrEnum):
    FLAG = "flag"  # a barrier_triggered record for operators
    RETENTION_OFFER = "retention_offer"  # a retention_offer_issued record with `offer`
    RESTRICT_TRANSFERS = "restrict_transfers"  # outbound transfers limited to `max_transfer`


@dataclass(frozen=True, slots=True)
class RetentionRule:
    id: str
    when: Condition
    action: RuleAction
    offer: str | None = None
    max_transfer: int = 0  # restrict_transfers: 0 blocks outbound transfers
    cooldown_days: int = 90  # a rule fires again only after this long (while it holds)
    # Evaluate only after these input types (e.g. ["transfer_points"]); empty: after every
    # event and at clock events.
    only_after: tuple[InputType, ...] = ()

    def __post_init__(self) -> None:
        if self.action is RuleAction.RETENTION_OFFER and not self.offer:
            raise FieldError("offer", f"rule {self.id}: a retention_offer needs an offer code")
