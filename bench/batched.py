"""A measurement for the engine redesign, not an engine: the same partition runners driven
straight from aiokafka in batches, without Faust.

One consumer assigned every partition of the input topics and the exchange topic (no group, no
rebalances, no table: checkpoints write the member records to a topic of their own, so their
cost is counted), `getmany` in batches of up to `MAX_RECORDS`, each runner's sends produced
through aiokafka and flushed at its checkpoints as the engine does. It reads a history already
on the topics (a backfill) and stops when every partition has applied the flush marker.

What it shows is the ceiling of the redesign's transport (batched consume and produce around
the unchanged runners) on the same broker and file as the engine: `make bench` prints it as
`batched_runner_eps` beside `backfill_eps`. What the engine would add on top (a consumer group
and rebalances, a changelog it restores from, acknowledgements) is not here.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import orjson

from config import Settings
from loyalty.program import Program
from streams.runner import Effects, Inbound, PartitionRunner
from streams.topics import TopicNames

MAX_RECORDS = 5_000
CHECKPOINT_S = 1.0


async def run_batched(settings: Settings, program: Program, marker: str) -> tuple[float, int]:
    """Seconds from the first fetch until every partition applied `marker`, and messages read."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    names = TopicNames(settings.namespace)
    partitions = settings.partitions
    sources = [*names.inputs, names.exchange]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await consumer.start()
    await producer.start()
    try:
        consumer.assign([TopicPartition(t, p) for t in sources for p in range(partitions)])
        await consumer.seek_to_beginning()
        runners = {
            p: PartitionRunner(
                p,
                partitions,
                program,
                names,
                checkpoint_every=settings.checkpoint_every,
                starts=dict.fromkeys(sources, 0),
            )
            for p in range(partitions)
        }
        state_topic = names.ledger  # any topic of the namespace: the writes are only counted
        last_checkpoint: dict[int, float] = defaultdict(time.monotonic)
        flushed: set[int] = set()
        read = 0
        started = time.perf_counter()
        while len(flushed) < partitions:
            batch = await consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
            now = time.monotonic()
            for tp, records in batch.items():
                runner = runners[tp.partition]
                for record in records:
                    read += 1
                    effects = runner.receive(
                        Inbound(tp.topic, tp.partition, record.offset, record.key, record.value)
                    )
                    if not effects.writes and now - last_checkpoint[tp.partition] >= CHECKPOINT_S:
                        runner.checkpoint(effects)
                    if effects.writes:
                        last_checkpoint[tp.partition] = now
                    await _perform(producer, effects, state_topic, tp.partition, marker, flushed)
        return time.perf_counter() - started, read
    finally:
        await consumer.stop()
        await producer.stop()


async def _perform(
    producer: Any,
    effects: Effects,
    state_topic: str,
    partition: int,
    marker: str,
    flushed: set[int],
) -> None:
    """The engine's order: sends; at a checkpoint flush, state records, flush, then the
    progress records."""
    for send in effects.sends:
        await producer.send(send.topic, send.value, send.key, partition=send.partition)
    if not effects.writes:
        return
    await producer.flush()
    for key, value in effects.writes.items():
        await producer.send(state_topic, value, key, partition=partition)
    await producer.flush()
    for send in effects.after:
        await producer.send(send.topic, send.value, send.key, partition=send.partition)
        if b'"flushed"' in send.value:
            record = orjson.loads(send.value)
            if record.get("kind") == "flushed" and record.get("marker") == marker:
                flushed.add(send.partition)
