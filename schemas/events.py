"""Input events: the wire contract (JSON; one event per Kafka message keyed by member id, or one
per line in a JSON Lines file). Every event has `event_id`, `type`, `occurred_at` (timezone-aware
ISO 8601), `schema_version` and, except `clock`, `member_id`. Unknown fields are refused.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/\-]+$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Airport = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# Bounded so a hostile or broken producer cannot make the engine compute with absurd numbers.
Money = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
Fare = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Points = Annotated[int, Field(gt=0, le=1_000_000_000)]
SignedPoints = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]
Text = Annotated[str, Field(max_length=500)]


class Cabin(StrEnum):
    ECONOMY = "economy"
    PREMIUM_ECONOMY = "premium_economy"
    BUSINESS = "business"
    FIRST = "first"


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Identifier
    occurred_at: AwareDatetime
    schema_version: Literal[1] = 1


class MemberEvent(Envelope):
    member_id: Identifier


class MemberEnrolled(MemberEvent):
    """A new member, with the attributes that place it in a segment (e.g. home_market)."""

    type: Literal["member_enrolled"]
    enrolled_on: date
    segment: dict[Identifier, Identifier] = Field(default_factory=dict, max_length=20)


class Purchase(MemberEvent):
    type: Literal["purchase"]
    merchant: Identifier
    category: Identifier
    amount: Money
    currency: CurrencyCode
    sale_id: Identifier


class Refund(MemberEvent):
    """Refund of a sale; without `amount`, everything not yet refunded."""

    type: Literal["refund"]
    sale_id: Identifier
    amount: Money | None = None
    currency: CurrencyCode | None = None


class FlightSegment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    booking_ref: Identifier
    carrier: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$")]
    flight_number: Annotated[str, Field(pattern=r"^[0-9]{1,4}[A-Z]?$")]
    origin: Airport
    destination: Airport
    flight_date: date
    distance_miles: Annotated[int, Field(gt=0, le=12_500)]
    fare_class: Annotated[str, Field(pattern=r"^[A-Z]$")]
    cabin: Cabin
    base_fare: Fare
    carrier_surcharges: Fare = Decimal(0)
    taxes: Fare = Decimal(0)  # reported for completeness; never earns
    currency: CurrencyCode


class FlightFlown(MemberEvent, FlightSegment):
    type: Literal["flight_flown"]


class FlightCancelled(MemberEvent):
    """A previously reported segment did not fly (or was refunded): its credit is reversed."""

    type: Literal["flight_cancelled"]
    booking_ref: Identifier
    carrier: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$")]
    flight_number: Annotated[str, Field(pattern=r"^[0-9]{1,4}[A-Z]?$")]
    origin: Airport
    destination: Airport
    flight_date: date


class PartnerAccrual(MemberEvent):
    """A partner's accrual: either an `amount` (with `currency`) or a number of `points`."""

    type: Literal["partner_accrual"]
    partner_id: Identifier
    partner_txn_id: Identifier
    category: Identifier
    amount: Money | None = None
    currency: CurrencyCode | None = None
    points: Points | None = None

    @model_validator(mode="after")
    def _amount_or_points(self) -> PartnerAccrual:
        if (self.amount is None) == (self.points is None):
            raise ValueError("exactly one of amount and points is required")
        if self.amount is not None and self.currency is None:
            raise ValueError("an amount needs its currency")
        return self


class MemberCommand(MemberEvent):
    """A command a client may retry: `command_id` is the client's own id for it, unique per
    member. A retry (any event id and time, same content) is a duplicate; the same command id
    with other content is rejected `command_id_conflict`."""

    command_id: Identifier


class Redeem(MemberCommand):
    type: Literal["redeem"]
    points: Points
    reward: Identifier


class TransferPoints(MemberCommand):
    type: Literal["transfer_points"]
    to_member_id: Identifier
    points: Points


class StatusMatchRequest(MemberEvent):
    type: Literal["status_match_request"]
    competitor: Identifier
    competitor_tier: Identifier
    evidence_ref: Identifier


class RetroClaim(MemberEvent):
    """A member claims a flown segment that was never credited."""

    type: Literal["retro_claim"]
    flight: FlightSegment


class ManualAdjustment(MemberCommand):
    """An agent's correction. `reason` and `operator_id` are mandatory in business terms: an
    adjustment without them is rejected with a reason code, not dropped as malformed."""

    type: Literal["manual_adjustment"]
    points: SignedPoints
    reason: Text = ""
    operator_id: Annotated[str, Field(max_length=128)] = ""


class HoldDecision(MemberCommand):
    """An operator releases (credits) or rejects an accrual held by the velocity limits; the
    hold id is on the `accrual_held` member event and the hold posting."""

    type: Literal["hold_decision"]
    hold_id: Annotated[str, Field(min_length=1, max_length=200)]
    decision: Literal["release", "reject"]
    reason: Text = ""
    operator_id: Annotated[str, Field(max_length=128)] = ""


class Clock(Envelope):
    """Advances event time for every member (unlocks and expiry)."""

    type: Literal["clock"]
    settle: bool = Field(
        default=True,
        description="Transfers between members settle at this tick (every partition meets "
        "here). False: time only passes, with no wait between partitions, unless the tick "
        "ends a grading period. `loyalty clock` sets it on every `--settle-every` boundary.",
    )


class TransferReceived(MemberEvent):
    """Internal: the credit side of an accepted transfer. Never accepted from outside."""

    type: Literal["transfer_received"]
    from_member_id: Identifier
    transfer_id: Identifier
    points: Points
    fee: Annotated[int, Field(ge=0)]


class TransferReturned(MemberEvent):
    """Internal: a transfer the recipient could not take, back to the sender."""

    type: Literal["transfer_returned"]
    transfer_id: Identifier
    points: Points
    reason: Text


_EXTERNAL = (
    MemberEnrolled
    | Purchase
    | Refund
    | FlightFlown
    | FlightCancelled
    | PartnerAccrual
    | Redeem
    | TransferPoints
    | StatusMatchRequest
    | RetroClaim
    | ManualAdjustment
    | HoldDecision
    | Clock
)
_INTERNAL = TransferReceived | TransferReturned
ExternalEvent = Annotated[_EXTERNAL, Field(discriminator="type")]
AnyEvent = Annotated[_EXTERNAL | _INTERNAL, Field(discriminator="type")]

EXTERNAL: TypeAdapter[ExternalEvent] = TypeAdapter(ExternalEvent)
ANY: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

EXTERNAL_MODELS: tuple[type[Envelope], ...] = (
    MemberEnrolled,
    Purchase,
    Refund,
    FlightFlown,
    FlightCancelled,
    PartnerAccrual,
    Redeem,
    TransferPoints,
    StatusMatchRequest,
    RetroClaim,
    ManualAdjustment,
    HoldDecision,
    Clock,
)
INTERNAL_MODELS: tuple[type[Envelope], ...] = (TransferReceived, TransferReturned)
