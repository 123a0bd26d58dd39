"""The engine's transport: the partition runners driven from batches of records, consumed and
produced through aiokafka directly, inside the Faust worker.

Why not a Faust agent (measured, docs/stream.md "Transport"): with Faust 0.15 delivering each
message through its conductor, channel queue and stream (a `wait_first` per message), one
worker applied 1,927 events/s while the same runners fed by `getmany` batches applied 6,403
(`make bench`, 2026-11-30); the runners were a ninth of the agent's time. Around rebalances
Faust also dropped fetched records for good, which took a watchdog that sought partitions back.

So this loop owns what the agent and the member table did:
- one consumer in a group of its own (`<app id>-runners`), subscribed to every input topic and
  the exchange topic, with the range assignor: every topic has the same partition count, so a
  worker gets the same partitions of each (co-partitioning, which the runners need);
- the member state changelog (`<namespace>.member-state.v1`, compacted), written once per
  changed member per checkpoint, in a transaction of the partition's own writer (which fences
  a worker the group gave up on: streams/state_writer.py), and read back when a partition is
  assigned;
- the order the runners need: sends; at a checkpoint flush, the state transaction, then
  progress records; offsets committed after that (for operators' lag tools: where a partition
  resumes is the runner's own position in the changelog, sought on assignment).

Faust stays the application: worker, signals, tasks (this loop, the read model's feed), timers
(metrics).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from config import Settings
from loyalty.program import Program
from streams import state_codec
from streams.metrics import Meter
from streams.outbox import Outbox
from streams.runner import (
    MEMBER_PREFIX,
    Effects,
    Inbound,
    PartitionRunner,
    Send,
    Tally,
    runner_key,
)
from streams.state_writer import Fenced, StateWriter
from streams.topic_reader import UnstableEnd, end_offsets, read_all, wait_stable
from streams.topics import STATE_RECORD_BYTES, TopicNames

log = logging.getLogger(__name__)

# Records per fetch: large enough that a backlog is read in few round trips, small enough that
# a batch (and the lock a rebalance waits for) is done in well under a second.
MAX_RECORDS = 2_000
POLL_MS = 100
RESTORE_TIMEOUT_S = 3600.0
# How long a revocation waits for its handover's commit markers before it gives up keeping
# the partitions in memory (markers take milliseconds; a rebalance should not wait long).
_STABLE_S = 2.0
# The cyclic collector rescanned the long-lived member states again and again: with CPython's
# default (700, 10, 10) it cost the engine 10-12% of its time and added to the latency tail
# (measured A/B, 50k suite workload: 6.83 -> 6.00 s; p99 at 2,000/s 234/225 -> 214/192 ms).
# Cycles are still collected, only in larger batches; the rulebook makes none (a test checks).
GC_THRESHOLDS = (100_000, 50, 1_000)


@dataclass
class Checkpoint:
    """State records to write and progress records to send once the outputs before them are
    durable, and where each partition's sources resume (committed after the write)."""

    writes: list[Send] = field(default_factory=list)
    after: list[Send] = field(default_factory=list)
    commits: dict[TopicPartition, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.writes or self.after)


class EngineLoop:
    """The runners of this worker's partitions and the consume/apply/produce loop around
    them. `run` is started as a Faust task; `stop` is called on shutdown."""

    def __init__(self, settings: Settings, program: Program, meter: Meter) -> None:
        self.settings = settings
        self.program = program
        self.meter = meter
        self.names = TopicNames(settings.namespace)
        self.sources = [*self.names.inputs, self.names.exchange]
        self.by_partition: dict[int, PartitionRunner] = {}
        self.read: dict[tuple[str, int], int] = {}  # next offset per topic-partition (lag)
        self.last_checkpoint: dict[int, float] = {}
        self.last_status: dict[int, float] = {}
        self.parked: dict[int, tuple[PartitionRunner, int]] = {}  # see on_revoked
        self.writers: dict[int, StateWriter] = {}  # per partition held: see state_writer.py
        self.group_id = ""
        self.consumer: Any = None
        self.producer: Any = None
        self.outbox: Outbox = None  # type: ignore[assignment]  # set by start
        # Held while a batch is applied or a checkpoint written; a rebalance and the shutdown
        # take it, so they never see a runner halfway through a batch.
        self.lock = asyncio.Lock()
        self.stopping = False

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self, group_id: str) -> None:
        self.group_id = group_id
        gc.set_threshold(*GC_THRESHOLDS)
        s = self.settings
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            partition_assignment_strategy=(RangePartitionAssignor,),
            max_partition_fetch_bytes=STATE_RECORD_BYTES,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            rebalance_timeout_ms=10_000,
        )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            acks="all",
            linger_ms=2,
            max_batch_size=512 * 1024,
            max_request_size=STATE_RECORD_BYTES,
        )
        await self.producer.start()
        self.outbox = Outbox(self.producer)
        await self.consumer.start()
        self.consumer.subscribe(self.sources, listener=_Listener(self))

    async def stop(self) -> None:
        """Write every partition's state and leave the group: whoever takes the partitions
        over resumes exactly here, with nothing delivered twice."""
        self.stopping = True
        if self.consumer is None:
            return
        async with self.lock:
            try:
                await self._handover(set(self.by_partition))
            except (KafkaError, Fenced) as exc:  # the next owner replays since the last one
                log.warning("final checkpoint not written: %r", exc)
            await self._drop(set(self.by_partition))
        # Outside the lock: leaving the group waits for a rebalance in progress, whose
        # listener takes the lock.
        await self.consumer.stop()
        await self.producer.stop()

    async def run(self) -> None:
        try:
            while not self.stopping:
                batch = await self.consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
                async with self.lock:
                    if self.stopping:
                        return
                    done = await self._apply(batch)
                    done = self._due(monotonic(), done)
                    try:
                        commits = await self._write(done)
                    except Fenced as fenced:
                        # The group gave this worker up (a pause past its session timeout):
                        # another owns them now and replays since their last checkpoint.
                        log.warning("%s: dropped without a checkpoint", fenced)
                        await self._drop(fenced.partitions)
                        commits = {}
                await self._commit(commits)
        except asyncio.CancelledError:
            raise
        except Exception:
            if self.stopping:
                return
            # A dead loop in a live process would look healthy and apply nothing. Exiting lets
            # the supervisor start a fresh worker; state and outputs are safe (checkpoints,
            # idempotent ids).
            log.critical("the engine loop failed: exiting", exc_info=True)
            logging.shutdown()
            os._exit(70)

    # -- the loop -----------------------------------------------------------------------------
    async def _apply(self, batch: dict[Any, list[Any]]) -> Checkpoint:
        done = Checkpoint()
        add = self.outbox.add
        now = monotonic()
        for tp, records in batch.items():
            topic, partition = tp.topic, tp.partition
            runner = self.by_partition.get(partition)
            if runner is None:
                continue  # revoked since the fetch: the new owner reads it
            self.read[(topic, partition)] = records[-1].offset + 1
            for record in records:
                effects = runner.receive(
                    Inbound(topic, partition, record.offset, record.key, record.value)
                )
                for s in effects.sends:
                    add(s.topic, s.partition, s.key, s.value)
                if effects.writes:
                    self._collect(runner, effects, done)
                    self.last_checkpoint[partition] = now
                if effects.seek:
                    # A gap: records between the runner's position and this one were not
                    # delivered (not seen with this consumer, kept as the runner's guard).
                    for source, offset in effects.seek:
                        log.warning("partition %d: seeking %s to %d", partition, source, offset)
                        self.consumer.seek(TopicPartition(source, partition), offset)
                    break
            self.outbox.submit()  # outputs leave as their partition's records are done
        return done

    def _due(self, now: float, done: Checkpoint) -> Checkpoint:
        """Checkpoints and status publications on time, so a quiet partition does not hold
        its state for long and the read model follows within the status interval."""
        interval = self.settings.checkpoint_interval_s
        status_interval = self.settings.status_interval_s
        add = self.outbox.add
        # One timed checkpoint per round, the partitions' turns spread over the interval: a
        # checkpoint encodes every member changed since the last, and four at once stalled
        # the loop for ~150 ms (2,500 members at 2,000 events/s), a fourth of that alone.
        count = max(len(self.by_partition), 1)
        due = [
            p
            for p in self.by_partition
            if now - self.last_checkpoint.setdefault(p, now - interval * (p % count) / count)
            >= interval
        ]
        turn = min(due, key=self.last_checkpoint.__getitem__, default=None)
        for partition, runner in self.by_partition.items():
            if partition == turn:
                if runner.unwritten():
                    self._checkpoint(runner, done)
                    self.last_status[partition] = now
                self.last_checkpoint[partition] = now
            elif (
                now - self.last_status.setdefault(partition, now) >= status_interval
                and runner.unpublished
            ):
                for s in runner.publish().sends:
                    add(s.topic, s.partition, s.key, s.value)
                self.last_status[partition] = now
        return done

    def _checkpoint(self, runner: PartitionRunner, done: Checkpoint) -> None:
        effects = runner.checkpoint()
        for s in effects.sends:  # its status records: outputs like any other
            self.outbox.add(s.topic, s.partition, s.key, s.value)
        self._collect(runner, effects, done)

    def _collect(self, runner: PartitionRunner, effects: Effects, done: Checkpoint) -> None:
        """Its sends are in the outbox already; they are flushed before the state is written."""
        p = runner.partition
        done.writes += [
            Send(self.names.member_state, key, value, p) for key, value in effects.writes.items()
        ]
        done.after += effects.after
        for source, offset in runner.resume_at().items():
            done.commits[TopicPartition(source, p)] = offset

    async def _write(self, done: Checkpoint) -> dict[TopicPartition, int]:
        """Outputs, then state (a transaction per partition), then progress records; returns
        the offsets to commit. Raises `Fenced` for partitions another worker holds now: their
        state is not written (and their progress records not sent)."""
        outbox = self.outbox
        if not done:
            outbox.submit()  # status records of a checkpoint without state to write
            return {}
        await outbox.flush()  # outputs before the state that makes them unrepeatable
        by_partition: dict[int, list[tuple[bytes | None, bytes]]] = {}
        for s in done.writes:
            by_partition.setdefault(s.partition, []).append((s.key, s.value))
        results = await asyncio.gather(
            *(self.writers[p].write(records) for p, records in by_partition.items()),
            return_exceptions=True,
        )
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, Fenced):
                raise r
        fenced = {p for r in results if isinstance(r, Fenced) for p in r.partitions}
        for s in done.after:  # progress records promise durable state
            if s.partition not in fenced:
                outbox.add(s.topic, s.partition, s.key, s.value)
        outbox.submit()
        if fenced:
            raise Fenced(fenced)
        return done.commits

    async def _commit(self, commits: dict[TopicPartition, int]) -> None:
        """Offsets after the state they match: for operators' lag tools only (a worker
        resumes from the positions in the changelog)."""
        if not commits:
            return
        try:
            await self.consumer.commit(commits)
        except (CommitFailedError, IllegalStateError) as exc:
            log.info("offset commit skipped: %r", exc)  # revoked meanwhile: harmless

    async def _handover(self, partitions: set[int]) -> None:
        done = Checkpoint()
        for p in sorted(partitions):
            runner = self.by_partition.get(p)
            if runner is not None:
                self._checkpoint(runner, done)
        await self._commit(await self._write(done))

    # -- rebalances ---------------------------------------------------------------------------
    async def on_revoked(self, revoked: set[Any]) -> None:
        partitions = {tp.partition for tp in revoked}
        async with self.lock:
            handed = partitions & set(self.by_partition)
            self.parked.clear()
            try:
                await self._handover(handed)
            except Fenced as fenced:  # the next owner replays since the last checkpoint
                log.warning("%s: dropped without a checkpoint", fenced)
            except KafkaError as exc:
                log.warning("checkpoint on revocation failed: %r", exc)
            else:
                # Kept for the assignment that follows: a partition this worker gets back,
                # whose changelog nobody wrote since, goes on from memory instead of being
                # read back (every rebalance revokes every partition first).
                if handed:
                    topic = self.names.member_state
                    try:
                        # Where the changelog ends once the handover's commit markers are
                        # in: read at once, the end could still lack them, and the same
                        # partition assigned back would never match it (read back instead).
                        ends = await wait_stable(
                            self.settings.bootstrap_servers, [topic], _STABLE_S, handed
                        )
                    except UnstableEnd as exc:
                        log.warning("not kept for a later assignment: %s", exc)
                        ends = {}
                    for p in handed:
                        end = ends.get((topic, p))
                        if end is not None:
                            self.parked[p] = (self.by_partition[p], end)
            await self._drop(partitions)

    async def _drop(self, partitions: set[int]) -> None:
        for p in sorted(partitions):
            writer = self.writers.pop(p, None)
            if writer is not None:
                await writer.stop()
            runner = self.by_partition.pop(p, None)
            if runner is not None:
                self.meter.retire(runner.tally)
            self.last_checkpoint.pop(p, None)
            self.last_status.pop(p, None)
        for key in [k for k in self.read if k[1] in partitions]:
            del self.read[key]

    async def on_assigned(self, assigned: set[Any]) -> None:
        by_partition: dict[int, set[str]] = {}
        for tp in assigned:
            by_partition.setdefault(tp.partition, set()).add(tp.topic)
        wanted = set(self.sources)
        complete = sorted(p for p, topics in by_partition.items() if topics == wanted)
        broken = sorted(set(by_partition) - set(complete))
        if broken:
            # The range assignor gives every topic's partition p to one worker when all topics
            # have the same partition count (ensure_topics checks it); anything else is a bug.
            log.critical("partitions %s assigned without all their topics", broken)
        async with self.lock:
            if self.stopping:
                return
            # The writers first: starting them fences every earlier writer of these
            # partitions, so what is read back below is final.
            starting = [p for p in complete if p not in self.writers]
            for p in starting:
                self.writers[p] = StateWriter(
                    self.settings.bootstrap_servers,
                    self.names.member_state,
                    p,
                    f"{self.group_id}-state-{p}" if self.settings.state_transactions else None,
                )
            await asyncio.gather(*(self.writers[p].start() for p in starting))
            fresh = [p for p in complete if p not in self.by_partition]
            kept = await self._unpark(fresh)
            fresh = [p for p in fresh if p not in kept]
            if fresh:
                await self._restore(fresh)
            for p in complete:
                runner = self.by_partition[p]
                for source in self.sources:
                    self.consumer.seek(TopicPartition(source, p), runner.positions[source])
                    # Lag is reported for every partition held, read from or not.
                    self.read[(source, p)] = runner.positions[source]
            log.info("partitions %s assigned (kept %s, restored %s)", complete, kept, fresh)

    async def _unpark(self, partitions: list[int]) -> list[int]:
        """The parked runners that can go on: their changelog ends where they left it."""
        parked, self.parked = self.parked, {}
        candidates = [p for p in partitions if p in parked]
        if not candidates:
            return []
        topic = self.names.member_state
        ends = await end_offsets(self.settings.bootstrap_servers, [topic])
        kept = []
        for p in candidates:
            runner, end = parked[p]
            if ends.get((topic, p)) == end:
                runner.tally = Tally()  # its counts so far were retired with it
                self.by_partition[p] = runner
                kept.append(p)
        return kept

    async def _restore(self, partitions: list[int]) -> None:
        starts = await self.consumer.beginning_offsets(
            [TopicPartition(t, p) for t in self.sources for p in partitions]
        )
        stored = await read_changelog(self.settings, self.names.member_state, partitions)
        for p in partitions:
            values = stored.get(p, {})
            states = [
                state_codec.decode(v) for k, v in values.items() if k.startswith(MEMBER_PREFIX)
            ]
            runner = PartitionRunner(
                p,
                self.settings.partitions,
                self.program,
                self.names,
                states,
                values.get(runner_key(p)),
                checkpoint_every=self.settings.checkpoint_every,
                starts={tp.topic: int(o) for tp, o in starts.items() if tp.partition == p},
            )
            log.info("partition %d: restored %d members", p, len(states))
            self.by_partition[p] = runner


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, loop: EngineLoop) -> None:
        self.loop = loop

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        await self.loop.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[Any]) -> None:
        await self.loop.on_assigned(assigned)


async def read_changelog(
    settings: Settings, topic: str, partitions: list[int]
) -> dict[int, dict[bytes, bytes]]:
    """The latest value per key of the given changelog partitions, read to their end."""
    latest: dict[int, dict[bytes, bytes]] = {p: {} for p in partitions}
    # No timeout of its own that could cut a large restore short: the group's rebalance
    # timeout does not run while a member works in its assignment callback.
    records = await read_all(
        settings.bootstrap_servers, [topic], RESTORE_TIMEOUT_S, set(partitions)
    )
    for r in records:  # in offset order per partition: the last one wins
        if r.key is not None and r.value is not None:
            latest[r.partition][r.key] = r.value
    return latest
