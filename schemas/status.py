"""Output records: member status (compacted topic, Redis) and ops records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MemberStatus(BaseModel):
    """Latest state of one member; `version` only grows, so consumers can drop stale copies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: str
    points: int  # redeemable (available) points
    version: int
    last_event_id: str | None
    # Status fields: filled by the rulebook engine; the walking skeleton leaves them empty.
    pending: int | None = None
    tier: str | None = None
    class_code: str | None = None
    stage: str | None = None
    qualifying: dict[str, int] = Field(default_factory=dict)
    schema_version: Literal[1] = 1


class DeadLetter(BaseModel):
    """An input that could not be decoded, with where it came from and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_topic: str
    partition: int
    offset: int
    error: str
    key: str | None
    value: str  # the raw bytes, decoded as UTF-8 with replacement, truncated
    schema_version: Literal[1] = 1


class OpsRecord(BaseModel):
    """What an operator sees on the ops topic: rejections (with a code) and duplicates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["rejected", "duplicate"]
    code: str
    message: str
    event_id: str | None
    member_id: str | None
    source_topic: str
    partition: int
    offset: int
    schema_version: Literal[1] = 1
