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
    held: int = 0  # accruals held for review (velocity limits), not yet credited
    in_flight: int = 0  # points transferred out, not yet delivered (they settle at a clock)
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
    """What an operator sees on the ops topic for one input: a rejection (with its code) or a
    duplicate, with where the input came from."""

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


class OpsAlert(BaseModel):
    """A rulebook alert (velocity hold, returned transfer, ...), for operators."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["alert"] = "alert"
    member_id: str
    at: str
    code: str
    message: str
    cause: str
    schema_version: Literal[1] = 1


class OpsGrading(BaseModel):
    """Thresholds one clock computed for a segment, from every partition's histogram."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["grading"] = "grading"
    period: str
    segment: str
    members: int
    thresholds: list[int | None]
    partition: int
    schema_version: Literal[1] = 1


class OpsProgress(BaseModel):
    """A partition finished a clock or a flush marker: how far event time has got."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["clock_applied", "flushed"]
    marker: str  # the clock's event id, or the flush marker's id
    partition: int
    members: int
    schema_version: Literal[1] = 1


class OpsMetrics(BaseModel):
    """Published periodically by every worker (also exposed as Prometheus metrics)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["metrics"] = "metrics"
    worker: str
    at: str  # wall clock of the worker: metrics are about the process, not event time
    received: int
    applied: int
    duplicates: int
    rejected: int
    dead_letters: int
    watermarks: int  # clock copies on the data topics (received = the five outcomes)
    reconciled: bool
    events_per_second: float
    rejected_by_code: dict[str, int]
    lag: dict[str, int]  # "topic:partition" -> messages behind
    schema_version: Literal[1] = 1
