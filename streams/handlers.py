"""What the accrual agent does with one input message, as a function the tests can call.

Returns the outputs to emit; the agent only decodes Kafka metadata and sends these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loyalty.accrual import purchase_points
from loyalty.balance import credit
from schemas.status import OpsRecord
from streams import codec


@dataclass(frozen=True)
class Source:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class Outcome:
    kind: str  # "applied", "duplicate", "rejected" or "dead_letter"
    member_id: str | None = None
    new_record: dict[str, Any] | None = None  # table value to store (applied only)
    status: bytes | None = None  # member-status value (applied only)
    ops: bytes | None = None  # ops-topic value (duplicate, rejected)
    dead_letter: bytes | None = None


def handle_purchase(
    source: Source, current: dict[str, Any] | None, points_per_unit: int
) -> Outcome:
    """Decode, decide and fold one purchase message. `current` is the member's table value."""
    try:
        purchase = codec.decode_purchase(source.value)
    except codec.Undecodable as exc:
        return Outcome(
            "dead_letter",
            dead_letter=codec.dead_letter(
                source.topic, source.partition, source.offset, source.key, source.value, str(exc)
            ),
        )
    if source.key != purchase.member_id.encode():
        # A wrongly keyed event sits in another member's partition: applying it would split the
        # member's state across partitions, so it is refused and shown to operators.
        return _ops(
            source,
            "rejected",
            "key_mismatch",
            f"message key {source.key!r} is not the member id {purchase.member_id!r}",
            purchase.event_id,
            purchase.member_id,
        )
    balance = codec.balance_from_record(purchase.member_id, current)
    updated = credit(balance, purchase.event_id, purchase_points(purchase.amount, points_per_unit))
    if updated is None:
        return _ops(
            source,
            "duplicate",
            "duplicate_event",
            f"event {purchase.event_id} was already applied",
            purchase.event_id,
            purchase.member_id,
        )
    return Outcome(
        "applied",
        member_id=purchase.member_id,
        new_record=codec.balance_to_record(updated),
        status=codec.status_bytes(updated),
    )


def _ops(
    source: Source, kind: str, code: str, message: str, event_id: str | None, member_id: str | None
) -> Outcome:
    record = OpsRecord(
        kind="duplicate" if kind == "duplicate" else "rejected",
        code=code,
        message=message,
        event_id=event_id,
        member_id=member_id,
        source_topic=source.topic,
        partition=source.partition,
        offset=source.offset,
    )
    return Outcome(kind, member_id=member_id, ops=codec.ops_record(record))


@dataclass
class ReplayResult:
    members: dict[str, dict[str, Any]]
    counts: dict[str, int]


def replay_purchases(sources: list[Source], points_per_unit: int) -> ReplayResult:
    """Apply messages in order without Kafka: what the stream must end up with."""
    members: dict[str, dict[str, Any]] = {}
    counts = {"received": 0, "applied": 0, "duplicate": 0, "rejected": 0, "dead_letter": 0}
    for source in sources:
        key = source.key.decode("utf-8", "replace") if source.key is not None else None
        outcome = handle_purchase(source, members.get(key) if key else None, points_per_unit)
        counts["received"] += 1
        counts[outcome.kind] += 1
        if outcome.kind == "applied" and outcome.member_id and outcome.new_record is not None:
            members[outcome.member_id] = outcome.new_record
    return ReplayResult(members, counts)
