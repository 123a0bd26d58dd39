"""The agents: the engine (inputs -> partition runners -> outputs), the metrics timer and the
Redis projection. Rules live in `loyalty/`, the stream protocol in `streams/runner.py`."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from time import monotonic
from typing import Any

from faust.types import TP
from pydantic import ValidationError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config import Settings
from loyalty.program import Program
from streams import codec, state_codec
from streams.metrics import Meter
from streams.partitioning import partition_of
from streams.projection import MemberProjection
from streams.runner import MEMBER_PREFIX, Inbound, PartitionRunner, runner_key
from streams.topics import TopicNames

log = logging.getLogger(__name__)

PROJECTION_BATCH = 500
PROJECTION_WITHIN_S = 0.2
PROJECTION_MAX_BACKOFF_S = 5.0
# A seek is not instant: messages fetched before it keep arriving for a while. So seeks of one
# topic-partition are this far apart, and a partition is called quiet after this long.
RESYNC_S = 1.0
BUSY_RESYNC_S = 30.0
_OUTAGES = (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError, BusyLoadingError)


class Runners:
    """The partition runners of this worker, built from the member table on first use after
    every rebalance (Faust seeks back to the committed offsets then, so whatever a dropped
    runner held unacknowledged is delivered again)."""

    def __init__(self, settings: Settings, program: Program, table: Any, meter: Meter) -> None:
        self.settings = settings
        self.program = program
        self.table = table
        self.meter = meter
        self.names = TopicNames(settings.namespace)
        self.by_partition: dict[int, PartitionRunner] = {}
        self.read: dict[tuple[str, int], int] = {}  # next offset per topic-partition
        self.heard: dict[tuple[str, int], float] = {}  # when a message last arrived
        self.sought: dict[tuple[str, int], float] = {}  # when we last sought
        self.resyncs = 0
        self.generation = 0  # counts rebalances: a runner restored across one is stale
        # Encoded member states by partition, read from the table once after a rebalance.
        self._stored: dict[int, list[bytes]] | None = None
        # Messages delivered to the engine agent but not yet taken by it: while there are
        # any, a partition that has "heard nothing" is only waiting its turn, not stalled.
        self.backlog: Callable[[], int] = lambda: 0

    def owns(self, partition: int, consumer: Any) -> bool:
        """Whether this worker holds the partition now. Around a rebalance the agent and the
        watchdog can still see a partition that was just revoked; a runner built for it would
        write the new owner's changelog partition."""
        return any(
            tp.partition == partition and tp.topic == self.names.clock
            for tp in consumer.assignment()
        )

    async def get(self, partition: int, consumer: Any) -> PartitionRunner | None:
        """The partition's runner, restored from the table on first use; None when this worker
        does not hold the partition (any more)."""
        runner = self.by_partition.get(partition)
        if runner is None:
            generation = self.generation
            if not self.owns(partition, consumer):
                return None
            topics = [*self.names.inputs, self.names.exchange]
            earliest = await consumer.earliest_offsets(*(TP(t, partition) for t in topics))
            starts = {tp.topic: int(offset) for tp, offset in earliest.items()}
            if generation != self.generation or not self.owns(partition, consumer):
                return None  # a rebalance happened while we waited
            # The watchdog may have built it while this coroutine waited.
            runner = self.by_partition.get(partition)
            if runner is None:
                runner = self.by_partition[partition] = self._restore(partition, starts)
                now = monotonic()
                for topic in topics:  # quiet is counted from here
                    self.heard.setdefault((topic, partition), now)
        return runner

    async def seek(self, consumer: Any, topic: str, partition: int, offset: int) -> None:
        now = monotonic()
        key = (topic, partition)
        if now - self.sought.get(key, -RESYNC_S) < RESYNC_S:
            return
        self.sought[key] = now
        self.resyncs += 1
        log.warning("partition %d: seeking %s back to offset %d", partition, topic, offset)
        # `seek_wait`, not `seek`: Faust's plain seek calls aiokafka from this thread while the
        # consumer thread's fetcher works on the same buffers (seen: KeyError in aiokafka's
        # fetched_records, and the fetcher dead for good). seek_wait runs in that thread.
        try:
            await consumer.seek_wait({TP(topic, partition): offset})
        except Exception as exc:  # revoked meanwhile, or the position timed out: retried
            log.warning("partition %d: seek of %s failed: %r", partition, topic, exc)

    async def watchdog(self, app: Any) -> None:
        """The runners' positions, not Faust's offsets, say what must be read next. Around a
        rebalance Faust can lose messages for good: its fetch loop records a read offset for
        a message it could not deliver while flow was paused and drops anything up to it, and
        records fetched for a partition Faust does not count as active yet are discarded while
        the fetch position moves on. Either way nothing more arrives for that partition. So a
        partition that is behind its high watermark and has heard nothing for a while is
        sought back to its runner's position (a needless seek only re-reads messages, which
        the runner skips as redelivered)."""
        consumer = app.consumer
        if app.rebalancing:
            return  # tables are recovering; Faust seeks to the committed offsets after
        # While the agent has messages queued, a partition that heard nothing is usually only
        # waiting its turn: a seek then re-reads for nothing (harmless, but it cost ~1 s per
        # clock under load). So a busy agent gets far longer before a partition counts as lost.
        quiet_s = RESYNC_S if not self.backlog() else BUSY_RESYNC_S
        now = monotonic()
        topics = {*self.names.inputs, self.names.exchange}
        assigned = {tp.partition for tp in consumer.assignment() if tp.topic in topics}
        for partition in sorted(assigned):
            # A partition whose every message was dropped never gets a first event.
            runner = await self.get(partition, consumer)
            if runner is None or app.rebalancing:
                return
            for topic, position in list(runner.positions.items()):
                tp = TP(topic, partition)
                try:
                    highwater = consumer.highwater(tp)
                except (KeyError, AssertionError):
                    continue
                if (
                    highwater is not None
                    and position < int(highwater)
                    and now - self.heard.get((topic, partition), now) >= quiet_s
                ):
                    await self.seek(consumer, topic, partition, position)

    def _restore(self, partition: int, starts: dict[str, int]) -> PartitionRunner:
        partitions = self.settings.partitions
        if self._stored is None:
            # One pass over the table per rebalance, not one per partition: the keys are
            # sorted out by partition here and handed to each runner as it is built.
            self._stored = {}
            for key, value in self.table.items():
                if key.startswith(MEMBER_PREFIX):
                    member = key[len(MEMBER_PREFIX) :].decode()
                    self._stored.setdefault(partition_of(member, partitions), []).append(value)
        states = [state_codec.decode(v) for v in self._stored.pop(partition, [])]
        record = self.table.get(runner_key(partition))
        log.info("partition %d: restored %d members", partition, len(states))
        return PartitionRunner(
            partition,
            partitions,
            self.program,
            self.names,
            states,
            record,
            checkpoint_every=self.settings.checkpoint_every,
            starts=starts,
        )

    def drop_all(self) -> None:
        log.info("rebalance: dropping runners of partitions %s", sorted(self.by_partition))
        for runner in self.by_partition.values():
            self.meter.retire(runner.tally)
        self.by_partition.clear()
        self.read.clear()
        self.heard.clear()
        self.generation += 1
        self._stored = None


def register_engine(app: Any, inputs: Any, runners: Runners) -> Any:
    """The one engine agent: every input topic and the partition exchange, one partition
    runner per partition. Sends are not awaited one by one: they are queued, flushed once per
    step, then state is written and the step's messages acknowledged."""
    producer = app.producer

    @app.on_partitions_revoked.connect
    async def on_revoked(app: Any, revoked: Any, **kwargs: Any) -> None:
        runners.drop_all()

    @app.agent(inputs, name="engine", concurrency=1)
    async def engine(stream: Any) -> None:
        manual = stream.noack()
        queue = stream.channel.queue
        runners.backlog = queue.qsize
        table = runners.table
        interval = runners.settings.checkpoint_interval_s
        last_checkpoint: dict[int, float] = {}
        async for event in manual.events():
            message = event.message
            partition = message.partition
            now = monotonic()
            runners.read[(message.topic, partition)] = message.offset + 1
            runners.heard[(message.topic, partition)] = now
            runner = await runners.get(partition, app.consumer)
            if runner is None:
                # A revoked partition's message (unacknowledged): its new owner reads it from
                # the committed offsets.
                continue
            effects = runner.receive(
                Inbound(
                    message.topic,
                    partition,
                    message.offset,
                    message.key,
                    message.value,
                    event,
                )
            )
            for topic, offset in effects.seek:
                await runners.seek(app.consumer, topic, partition, offset)
            if effects.writes:
                last_checkpoint[partition] = now
            elif now - last_checkpoint.setdefault(partition, now) >= interval:
                # Also on time, so a quiet partition does not hold its messages for long.
                # Only here, inside one of the partition's own events: Faust writes the
                # changelog (and a RocksDB store) to the current event's partition.
                runner.checkpoint(effects)
                last_checkpoint[partition] = now
            for send in effects.sends:
                await producer.send(send.topic, send.key, send.value, send.partition, None, None)
            if not effects.writes:
                continue
            # Outputs are durable before the state that makes them unrepeatable, and the state
            # before the acknowledgements: a crash repeats outputs, never loses one.
            await producer.flush()
            for key, value in effects.writes.items():
                table[key] = value
            await producer.flush()
            for acked in effects.acks:
                await manual.ack(acked)
            for send in effects.after:
                await producer.send(send.topic, send.key, send.value, send.partition, None, None)

    return engine


def register_metrics(app: Any, runners: Runners, interval_s: float) -> None:
    ops_topic = runners.names.ops

    @app.timer(interval=RESYNC_S)
    async def watchdog() -> None:
        fetcher = app._fetcher
        if fetcher.crashed:
            # Faust logs "We experienced a crash" and then keeps the process up with nothing
            # consuming. Exiting lets the supervisor start a fresh worker; state and outputs
            # are safe (checkpoints, idempotent ids).
            log.critical("the consumer's fetcher crashed (%r): exiting", fetcher.crash_reason)
            os._exit(70)
        await runners.watchdog(app)

    @app.timer(interval=interval_s)
    async def publish_metrics() -> None:
        lag = {}
        consumer = app.consumer
        for (topic, partition), offset in list(runners.read.items()):
            try:
                highwater = consumer.highwater(TP(topic, partition))
            except (KeyError, AssertionError):
                continue
            if highwater is not None:
                lag[(topic, partition)] = max(int(highwater) - offset, 0)
        report = runners.meter.report([r.tally for r in runners.by_partition.values()], lag)
        if log.isEnabledFor(logging.INFO):  # describe() walks the partition's queues
            for runner in list(runners.by_partition.values()):
                log.info("%s", runner.describe())
        await app.producer.send(
            ops_topic, None, report.model_dump_json().encode(), None, None, None
        )


def register_projection(app: Any, member_status: Any, projection: MemberProjection) -> Any:
    @app.agent(member_status, name="project-member-status", concurrency=1)
    async def project_member_status(stream: Any) -> None:
        async for values in stream.take(PROJECTION_BATCH, within=PROJECTION_WITHIN_S):
            statuses = []
            for raw in values:
                try:
                    statuses.append(codec.decode_status(raw))
                except ValidationError as exc:
                    # Our own topic: a bad record here is a bug upstream, not member input.
                    log.error("skipping undecodable member-status record: %s", exc)
            await _apply_until_stored(projection, statuses)

    return project_member_status


async def _apply_until_stored(projection: MemberProjection, statuses: list[Any]) -> None:
    """Retry through a Redis outage. Only this agent waits; accrual goes on, and the backlog
    is projected when Redis returns (offsets are committed only after a batch is stored)."""
    backoff = 0.1
    while True:
        try:
            await projection.apply(statuses)
            return
        except _OUTAGES as exc:
            log.warning("read model unavailable (%s); retrying in %.1fs", exc, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, PROJECTION_MAX_BACKOFF_S)
