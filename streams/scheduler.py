"""The clock scheduler: the one place where wall time becomes event time.

Every `every` it publishes a clock tick to every partition of every input topic (the copies
are each source's watermark; see streams/feed.py). A tick stands for a boundary `lag` behind
the wall clock, so events produced up to `lag` late still land before the tick that covers
them. Tick ids are derived from the boundary, so a restarted or doubled scheduler repeats a
tick (a duplicate for the engine) instead of inventing a new one, and it never publishes a
boundary at or before the last tick already on the clock topic: event time does not go back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson

from config import Settings
from schemas.events import Clock
from streams.feed import messages_for_line
from streams.topics import TopicNames

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def boundary(now: datetime, every: timedelta, lag: timedelta) -> datetime:
    """The latest multiple of `every` (from the Unix epoch) at or before `now - lag`."""
    return EPOCH + ((now - lag - EPOCH) // every) * every


def tick_id(at: datetime) -> str:
    """Derived from the boundary, so a repeated tick has the same id. Sub-second boundaries
    (`--every` below a second, or not whole seconds) carry their microseconds: two ticks in
    one second under one id would be one clock sent with two times, which the engine rejects
    (`event_id_conflict`), leaving one tick a second."""
    if at.microsecond:
        return f"tick-{at:%Y%m%dT%H%M%S.%fZ}"
    return f"tick-{at:%Y%m%dT%H%M%SZ}"


def settles(at: datetime, settle_every: timedelta | None) -> bool:
    """Whether the tick at `at` settles transfers: on every multiple of `settle_every` from
    the Unix epoch (every tick without it). A function of the tick's time alone, so a repeated
    tick (a restarted or doubled scheduler) carries the same content and stays a duplicate."""
    return settle_every is None or (at - EPOCH) % settle_every == timedelta(0)


SETTLE_EVERY = timedelta(seconds=2)  # a transfer lands within about this long by default


def default_settle_every(every: timedelta) -> timedelta:
    """The shortest multiple of `every` that is at least `SETTLE_EVERY` (ticks every minute
    settle at each tick; four a second settle every eighth)."""
    return every * max(1, -(-SETTLE_EVERY // every))


def tick_line(at: datetime, settle_every: timedelta | None = None) -> bytes:
    settle = settles(at, settle_every)
    tick = Clock(type="clock", event_id=tick_id(at), occurred_at=at, settle=settle)
    return tick.model_dump_json().encode()


def due(last: datetime | None, at: datetime) -> bool:
    return last is None or at > last


async def last_tick(settings: Settings) -> datetime | None:
    """The time of the newest tick on the clock topic's partition 0 (every tick has a copy
    there), or None when it holds none."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    tp = TopicPartition(TopicNames(settings.namespace).clock, 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False, group_id=None
    )
    await asyncio.wait_for(consumer.start(), 30)
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        # Flush markers share the topic: look back over a few records for the newest tick.
        consumer.seek(tp, max(end - 64, 0))
        newest: datetime | None = None
        position = max(end - 64, 0)
        while position < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for message in batch.get(tp, []):
                position = message.offset + 1
                try:
                    record = orjson.loads(message.value or b"")
                except orjson.JSONDecodeError:
                    continue
                if isinstance(record, dict) and record.get("type") == "clock":
                    newest = datetime.fromisoformat(record["occurred_at"])
        return newest
    finally:
        await asyncio.wait_for(consumer.stop(), 30)


async def run_scheduler(
    settings: Settings,
    every: timedelta,
    lag: timedelta,
    once: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    settle_every: timedelta | None = None,
) -> int:
    """Publish ticks until cancelled (or one round with `once`); returns the ticks published.
    Only ticks on a `settle_every` boundary settle transfers (see `settles`); the others
    cost the engine no round between partitions."""
    from aiokafka import AIOKafkaProducer

    names = TopicNames(settings.namespace)
    last = await last_tick(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=True
    )
    await asyncio.wait_for(producer.start(), 60)
    published = 0
    try:
        while True:
            at = boundary(now(), every, lag)
            if due(last, at):
                line = tick_line(at, settle_every)
                copies = messages_for_line(line, names, settings.partitions)
                sent = [
                    await producer.send(m.topic, m.value, m.key, partition=m.partition)
                    for m in copies
                ]
                await asyncio.gather(*sent)
                last = at
                published += 1
                log.info("tick %s published to %d partitions", at.isoformat(), len(copies))
            elif last is not None and at < last:
                log.warning("wall clock is behind the last tick %s; waiting", last.isoformat())
            if once:
                return published
            wait = (at + every + lag - now()).total_seconds()
            await asyncio.sleep(min(max(wait, 0.05), every.total_seconds()))
    finally:
        await asyncio.wait_for(producer.stop(), 30)
