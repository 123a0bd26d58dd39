"""Translation at the edge: raw Kafka bytes <-> wire models <-> domain state."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from loyalty.balance import MemberBalance
from schemas.events import Purchase
from schemas.status import DeadLetter, MemberStatus, OpsRecord

MAX_RAW_KEPT = 4096  # bytes of an undecodable value copied into its dead letter


class Undecodable(Exception):
    """Raw bytes that are not a valid event; the message is the operator-facing reason."""


def decode_purchase(raw: bytes | None) -> Purchase:
    if raw is None:
        raise Undecodable("empty message value (tombstone) on an input topic")
    try:
        return Purchase.model_validate_json(raw)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:10]
        )
        raise Undecodable(f"invalid purchase: {details}") from None


def dead_letter(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, error: str
) -> bytes:
    record = DeadLetter(
        source_topic=topic,
        partition=partition,
        offset=offset,
        error=error,
        key=None if key is None else key.decode("utf-8", "replace"),
        value=(value or b"")[:MAX_RAW_KEPT].decode("utf-8", "replace"),
    )
    return record.model_dump_json().encode()


def ops_record(record: OpsRecord) -> bytes:
    return record.model_dump_json().encode()


def balance_to_record(balance: MemberBalance) -> dict[str, Any]:
    """The table value (JSON in the changelog)."""
    return {
        "points": balance.points,
        "version": balance.version,
        "last_event_id": balance.last_event_id,
        "recent": list(balance.recent_event_ids),
    }


def balance_from_record(member_id: str, record: dict[str, Any] | None) -> MemberBalance:
    if not record:
        return MemberBalance(member_id=member_id)
    return MemberBalance(
        member_id=member_id,
        points=int(record["points"]),
        version=int(record["version"]),
        last_event_id=record.get("last_event_id"),
        recent_event_ids=tuple(record.get("recent", ())),
    )


def status_bytes(balance: MemberBalance) -> bytes:
    return orjson.dumps(status_of(balance).model_dump())


def status_of(balance: MemberBalance) -> MemberStatus:
    return MemberStatus(
        member_id=balance.member_id,
        points=balance.points,
        version=balance.version,
        last_event_id=balance.last_event_id,
    )


def decode_status(raw: bytes) -> MemberStatus:
    return MemberStatus.model_validate_json(raw)
