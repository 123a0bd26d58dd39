"""Request and response bodies of the gateway (the HTTP side of the wire contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.events import CurrencyCode, FlightSegment, Identifier, Money, Points, SignedPoints


def with_examples(*examples: dict[str, Any]) -> ConfigDict:
    """Strict model config carrying request/response examples for the OpenAPI spec."""
    return ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": list(examples)})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccrualIn(Strict):
    """One accrual as a partner posts it. `occurred_at` defaults to the time of receipt."""

    model_config = with_examples(
        {
            "member_id": "M0001234",
            "partner_txn_id": "H-2026-000981",
            "category": "hotel",
            "amount": "412.50",
            "currency": "EUR",
            "occurred_at": "2026-11-20T18:30:00Z",
        }
    )

    member_id: Identifier
    partner_txn_id: Identifier
    category: Identifier
    amount: Money | None = None
    currency: CurrencyCode | None = None
    points: Points | None = None
    occurred_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _amount_or_points(self) -> AccrualIn:
        if (self.amount is None) == (self.points is None):
            raise ValueError("exactly one of amount and points is required")
        if self.amount is not None and self.currency is None:
            raise ValueError("an amount needs its currency")
        return self


class AccrualBatchIn(Strict):
    accruals: Annotated[list[AccrualIn], Field(min_length=1, max_length=1000)]


class CommandIn(Strict):
    occurred_at: AwareDatetime | None = None


class RetriableCommandIn(CommandIn):
    """`command_id`: the client's id for this command, unique per member; send the same one
    on every retry and the engine carries the command out once."""

    command_id: Identifier


class RedemptionIn(RetriableCommandIn):
    model_config = with_examples(
        {"command_id": "rd-2026-000417", "points": 25000, "reward": "award-seat-CPH-LHR"}
    )

    points: Points
    reward: Identifier


class TransferIn(RetriableCommandIn):
    model_config = with_examples(
        {"command_id": "tr-2026-000088", "to_member_id": "M0004321", "points": 5000}
    )

    to_member_id: Identifier
    points: Points


class StatusMatchIn(CommandIn):
    model_config = with_examples(
        {"competitor": "oceanic", "competitor_tier": "gold", "evidence_ref": "scan-7731"}
    )

    competitor: Identifier
    competitor_tier: Identifier
    evidence_ref: Identifier


class RetroClaimIn(CommandIn):
    flight: FlightSegment


class AdjustmentIn(RetriableCommandIn):
    """A manual adjustment: the reason and the operator are mandatory."""

    model_config = with_examples(
        {
            "command_id": "adj-2026-004711",
            "points": 1500,
            "reason": "goodwill: 5h delay on SK1415",
            "operator_id": "agent-17",
        }
    )

    points: SignedPoints
    reason: Annotated[str, Field(min_length=3, max_length=500, pattern=r"\S")]
    operator_id: Identifier

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentIn:
        if self.points == 0:
            raise ValueError("an adjustment of 0 points changes nothing")
        return self


class HoldDecisionIn(RetriableCommandIn):
    """Release (credit) or reject an accrual held by the velocity limits."""

    model_config = with_examples(
        {
            "command_id": "hold-2026-000031",
            "hold_id": "pa:hotel-co:H-2026-000981/hold",
            "decision": "release",
            "reason": "verified with the hotel: genuine group booking",
            "operator_id": "agent-17",
        }
    )

    hold_id: Annotated[str, Field(min_length=1, max_length=200)]
    decision: Literal["release", "reject"]
    reason: Annotated[str, Field(min_length=3, max_length=500, pattern=r"\S")]
    operator_id: Identifier


class Accepted(Strict):
    model_config = with_examples({"status": "accepted", "event_ids": ["pa:hotel-co:H-2026-000981"]})

    status: str = "accepted"
    event_ids: list[str]


class Balances(Strict):
    redeemable: int | None
    pending: int | None
    qualifying: dict[str, int]
    held: int = 0  # accruals held for review
    in_flight: int = 0  # transferred out, not yet delivered


class MemberView(Strict):
    model_config = with_examples(
        {
            "member_id": "M0001234",
            "tier": "gold",
            "class_code": "SE-K",
            "lifecycle_stage": "maturity",
            "version": 4182,
            "balances": {
                "redeemable": 48210,
                "pending": 1250,
                "qualifying": {"qualifying_miles": 51320, "qualifying_segments": 44},
                "held": 0,
                "in_flight": 5000,
            },
        }
    )

    member_id: str
    tier: str | None
    class_code: str | None
    lifecycle_stage: str | None
    balances: Balances
    version: int


class Problem(Strict):
    """Every error: a machine-readable code and a human detail (field paths for 422)."""

    model_config = with_examples(
        {
            "error": "invalid_body",
            "detail": [{"loc": ["amount"], "msg": "Input should be greater than 0"}],
        }
    )

    error: str
    detail: Any
