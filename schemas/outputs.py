"""Output records on the engine's topics (and in `loyalty replay`'s files): ledger postings and
member events. Their producers live in the engine (`loyalty.state.Posting` dumped as is,
`edge.member_events`); these models are the contract consumers read, and tests validate every
record a replay writes against them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter


class LedgerPosting(BaseModel):
    """One ledger line (topic `ledger-postings`, file ledger.jsonl). Its id derives from its
    cause, so a replay produces it again with the same id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    posting_id: str
    member_id: str
    at: AwareDatetime  # event time of the cause (an expiry: the start of its due day)
    currency: str  # the points currency, a qualifying currency, or `<points>_held`
    points: int  # negative for debits
    kind: str  # earn, bonus_welcome, redeem, transfer_out, reverse, expire, adjust, hold, ...
    cause: str  # the input (event id) or time step that caused it
    lot_id: str | None  # the one lot touched, if exactly one
    draws: list[tuple[str, int]]  # debits: every lot drawn from, and ("debt", n)
    reason: str | None  # adjustments and holds: why
    operator_id: str | None  # adjustments and hold decisions: who


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    member_id: str
    at: AwareDatetime
    cause: str  # the event id that caused the change, or the clock's
    reason: str  # for people: why


class TierChanged(_Change):
    type: Literal["tier_changed"]
    from_: str = Field(alias="from")
    to: str


class ClassChanged(_Change):
    type: Literal["class_changed"]
    from_: str | None = Field(alias="from")
    to: str


class StatusMatchGranted(_Change):
    type: Literal["status_match_granted"]
    from_: str = Field(alias="from")
    to: str
    competitor: str
    ends_on: str
    target: dict[str, int]


class StatusMatchConfirmed(_Change):
    type: Literal["status_match_confirmed"]
    to: str
    confirmed_until: str


class StatusMatchExpired(_Change):
    type: Literal["status_match_expired"]
    from_: str = Field(alias="from")


class LifecycleStageChanged(_Change):
    type: Literal["lifecycle_stage_changed"]
    from_: str = Field(alias="from")
    to: str


class RetentionOfferIssued(_Change):
    type: Literal["retention_offer_issued"]
    rule: str
    offer: str | None


class BarrierTriggered(_Change):
    """A retention rule's flag or restriction (`rule` set), or a built-in barrier (soft
    landing, lifetime status, activity-extended expiry; no `rule`)."""

    type: Literal["barrier_triggered"]
    barrier: str
    rule: str | None = None


class PointsAdjusted(_Change):
    type: Literal["points_adjusted"]
    points: int
    operator_id: str


class AccrualHeld(_Change):
    type: Literal["accrual_held"]
    hold_id: str
    points: int
    source: str
    expires_on: str | None


class HoldSettled(_Change):
    """How a hold ended: an operator released or rejected it, it expired undecided, or the
    sale or flight it belonged to was reversed (voided)."""

    type: Literal["hold_released", "hold_rejected", "hold_expired", "hold_voided"]
    hold_id: str
    points: int
    credited: bool
    operator_id: str | None


MemberEventRecord = Annotated[
    TierChanged
    | ClassChanged
    | StatusMatchGranted
    | StatusMatchConfirmed
    | StatusMatchExpired
    | LifecycleStageChanged
    | RetentionOfferIssued
    | BarrierTriggered
    | PointsAdjusted
    | AccrualHeld
    | HoldSettled,
    Field(discriminator="type"),
]
MEMBER_EVENT: TypeAdapter[MemberEventRecord] = TypeAdapter(MemberEventRecord)
MEMBER_EVENT_MODELS: tuple[type[_Change], ...] = (
    TierChanged,
    ClassChanged,
    StatusMatchGranted,
    StatusMatchConfirmed,
    StatusMatchExpired,
    LifecycleStageChanged,
    RetentionOfferIssued,
    BarrierTriggered,
    PointsAdjusted,
    AccrualHeld,
    HoldSettled,
)
