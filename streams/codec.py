"""Translation at the edge for the engine's own records: dead letters and member status."""

from __future__ import annotations

from schemas.status import DeadLetter, MemberStatus

MAX_RAW_KEPT = 4096  # bytes of an undecodable value copied into its dead letter


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


def decode_status(raw: bytes) -> MemberStatus:
    return MemberStatus.model_validate_json(raw)
