"""Input events. JSON on the wire, one event per Kafka message keyed by member id."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# Bounded so a hostile or broken producer cannot make the engine compute with absurd numbers.
Money = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]


class Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Identifier
    member_id: Identifier
    occurred_at: AwareDatetime
    schema_version: Literal[1] = 1


class Purchase(Event):
    type: Literal["purchase"] = "purchase"
    merchant: Identifier
    category: Identifier
    amount: Money
    currency: CurrencyCode
    sale_id: Identifier
