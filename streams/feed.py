"""Input lines (JSON Lines, as `loyalty generate` writes them) to Kafka messages.

Each event goes to its type's topic, keyed by member id. A clock goes to every partition of
every input topic: that copy is each source's watermark. A flush marker does the same without
being a clock (it ends the input for now, e.g. the end of a file), so the tail after the last
clock is applied without inventing a clock replay never saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from streams.partitioning import partition_of
from streams.runner import CONTROL_KEY
from streams.topics import TopicNames


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes
    partition: int


def messages_for_line(line: bytes, names: TopicNames, partitions: int) -> list[Outgoing]:
    value = line.rstrip(b"\r\n")
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        event = None
    kind = event.get("type") if isinstance(event, dict) else None
    if kind == "clock":
        return [
            Outgoing(topic, None, value, partition)
            for topic in names.inputs
            for partition in range(partitions)
        ]
    member = event.get("member_id") if isinstance(event, dict) else None
    if isinstance(member, str) and member:
        return [
            Outgoing(names.for_type(kind), member.encode(), value, partition_of(member, partitions))
        ]
    # No member id: the engine dead-letters or rejects it wherever it lands.
    return [Outgoing(names.for_type(kind), None, value, 0)]


def flush_messages(names: TopicNames, partitions: int, marker: str) -> list[Outgoing]:
    value = orjson.dumps({"flush": marker})
    return [
        Outgoing(topic, CONTROL_KEY, value, partition)
        for topic in names.inputs
        for partition in range(partitions)
    ]


def file_messages(lines: Iterator[bytes], names: TopicNames, partitions: int) -> Iterator[Outgoing]:
    for line in lines:
        if line.strip():
            yield from messages_for_line(line, names, partitions)
