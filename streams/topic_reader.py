"""Reading topics back from the start, without a consumer group (demo, tests, verification).

Committed records only: the member-state changelog is written in transactions, and a
transaction a fenced worker left open or aborted must never be read back (streams/state_writer.py).
On topics written without transactions this is the same as reading everything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


async def read_until(
    bootstrap: str,
    topics: list[str],
    done: Callable[[list[Record]], bool],
    timeout_s: float,
) -> list[Record]:
    """Read every partition of `topics` from offset 0 until `done(records)` or the timeout."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await asyncio.wait_for(consumer.start(), 30)
    records: list[Record] = []
    try:
        await _assign_from_start(consumer, topics)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not done(records) and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            for tp, messages in batch.items():
                records.extend(
                    Record(tp.topic, tp.partition, m.offset, m.key, m.value) for m in messages
                )
        return records
    finally:
        await asyncio.wait_for(consumer.stop(), 30)


async def _assign_from_start(
    consumer: Any, topics: list[str], only: set[int] | None = None
) -> list[Any]:
    """Assign every partition of `topics` (or those in `only`) to `consumer`, positioned at
    their start."""
    from aiokafka import TopicPartition

    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        if only is None or p in only
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return partitions


async def _partitions(consumer: object, topic: str) -> set[int]:
    """Partitions of a topic this consumer is not subscribed to (asks the cluster)."""
    from aiokafka import AIOKafkaConsumer

    assert isinstance(consumer, AIOKafkaConsumer)
    client = consumer._client  # aiokafka has no public call for an unsubscribed topic
    for _ in range(50):
        await client.add_topic(topic)
        await client.force_metadata_update()
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await asyncio.sleep(0.1)
    raise LookupError(f"topic {topic} has no partitions (does it exist?)")


async def produce(
    bootstrap: str,
    topic: str,
    messages: list[tuple[bytes | None, bytes]],
    idempotent: bool = True,
    timeout_s: float = 60.0,
) -> None:
    """Send keyed messages with acks=all and (on real Kafka) the idempotent producer; waits
    for delivery. The embedded fallback broker cannot initialise producer ids."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, linger_ms=5
    )
    await asyncio.wait_for(producer.start(), timeout_s)
    try:
        async with asyncio.timeout(timeout_s):
            futures = [await producer.send(topic, key=key, value=value) for key, value in messages]
            await asyncio.gather(*futures)
    finally:
        await asyncio.wait_for(producer.stop(), 30)


async def read_all(
    bootstrap: str,
    topics: list[str],
    timeout_s: float = 120.0,
    partitions: set[int] | None = None,
) -> list[Record]:
    """Everything in `topics` now (only `partitions` of them, when given): every partition
    from its start to its current end."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        isolation_level="read_committed",
    )
    await asyncio.wait_for(consumer.start(), 30)
    records: list[Record] = []
    try:
        async with asyncio.timeout(timeout_s):
            assigned = await _assign_from_start(consumer, topics, partitions)
            ends = await consumer.end_offsets(assigned)
            remaining = set(assigned)
            while remaining:
                # By position, not by the last record's offset: compaction leaves gaps.
                for tp in list(remaining):
                    if await consumer.position(tp) >= ends[tp]:
                        remaining.discard(tp)
                if not remaining:
                    break
                batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=50_000)
                for tp, messages in batch.items():
                    records.extend(
                        Record(tp.topic, tp.partition, m.offset, m.key, m.value) for m in messages
                    )
        return records
    finally:
        await asyncio.wait_for(consumer.stop(), 30)


async def end_offsets(
    bootstrap: str, topics: list[str], committed: bool = False
) -> dict[tuple[str, int], int]:
    """The next offset of every partition of `topics`: the high watermark, or with
    `committed` the last stable offset (where a `read_committed` reader stops: before the
    first record of a transaction not yet committed or aborted)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed" if committed else "read_uncommitted",
    )
    await asyncio.wait_for(consumer.start(), 30)
    try:
        assigned = await _assign_from_start(consumer, topics)
        ends = await consumer.end_offsets(assigned)
        return {(tp.topic, tp.partition): int(offset) for tp, offset in ends.items()}
    finally:
        await asyncio.wait_for(consumer.stop(), 30)


class UnstableEnd(TimeoutError):
    """A partition whose committed end stayed behind the records written to it."""


async def wait_stable(
    bootstrap: str,
    topics: list[str],
    timeout_s: float = 30.0,
    partitions: set[int] | None = None,
) -> dict[tuple[str, int], int]:
    """Wait until every record now in `topics` (only `partitions` of them, when given) is
    decided: each partition's last stable offset has reached the high watermark seen on
    entry. A transaction's commit returns to its producer once the coordinator has logged
    it; the commit markers reach the partitions after that, and until they do a
    `read_committed` reader stops before the transaction. So a reader that wants what a
    writer has committed (a worker reported its state durable) waits here first. Returns
    the last stable offsets (with no later writes, the high watermarks: markers included);
    raises `UnstableEnd`, naming the partitions and both offsets, when a transaction stays
    open past the timeout."""
    from aiokafka import AIOKafkaConsumer

    marks = await end_offsets(bootstrap, topics)
    if partitions is not None:
        marks = {tp: mark for tp, mark in marks.items() if tp[1] in partitions}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await asyncio.wait_for(consumer.start(), 30)
    try:
        assigned = await _assign_from_start(consumer, topics, partitions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            stable = {
                (tp.topic, tp.partition): int(offset)
                for tp, offset in (await consumer.end_offsets(assigned)).items()
            }
            behind = {
                tp: (stable.get(tp, 0), mark)
                for tp, mark in marks.items()
                if stable.get(tp, 0) < mark
            }
            if not behind:
                return stable
            if loop.time() >= deadline:
                described = ", ".join(
                    f"{topic}[{p}] committed end {lso} < high watermark {hw}"
                    for (topic, p), (lso, hw) in sorted(behind.items())
                )
                raise UnstableEnd(f"a transaction open after {timeout_s:.0f} s: {described}")
            await asyncio.sleep(0.05)
    finally:
        await asyncio.wait_for(consumer.stop(), 30)
