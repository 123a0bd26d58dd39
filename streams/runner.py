"""One partition of the engine: a `Book` driven by Kafka messages, as a plain state machine.

No Faust and no I/O here: `receive` takes one message and returns the effects (messages to
send, table records to write, messages to acknowledge). The Faust agent performs them in that
order, flushing sends before state is written and state before acks, so a crash can repeat
outputs (they carry deterministic ids) but never lose one; repeated inputs are duplicates
because the member state remembers event ids.

Order (see loyalty/ordering.py): every input topic carries a copy of every clock tick. The
inputs before tick T on all input topics of this partition form epoch T; they are applied in
event-time order, then the partition sends its follow-ups and a seal to every partition, waits
for every partition's seal, settles the follow-ups addressed to it, and lets time pass to T.
When T ends a grading period the partitions exchange segment histograms the same way, so the
thresholds are exactly those `loyalty replay` computes over all members.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson

from edge.member_events import STATUS_EVENTS, status_line
from edge.translate import Undecodable, decode_external
from loyalty import events as ev
from loyalty.book import Book, FollowUp, Outcome
from loyalty.inputs import Clock, Input, MemberInput
from loyalty.ordering import order_key
from loyalty.program import Program
from loyalty.rejections import Code, Rejected
from loyalty.state import MemberState, as_of_moment, unlocked
from schemas.status import OpsAlert, OpsGrading, OpsProgress, OpsRecord
from streams import exchange, state_codec
from streams.codec import dead_letter
from streams.partitioning import partition_of
from streams.topics import TopicNames

log = logging.getLogger(__name__)

CONTROL_KEY = b"\x00control"  # flush markers: {"flush": "<id>"} on every input partition
MEMBER_PREFIX = b"m:"
RUNNER_PREFIX = b"r:"
_POSTINGS = ev.POSTING_EVENTS


def member_key(member_id: str) -> bytes:
    return MEMBER_PREFIX + member_id.encode()


def runner_key(partition: int) -> bytes:
    return RUNNER_PREFIX + str(partition).encode()


@dataclass
class Inbound:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    ref: Any = None  # what the driver acknowledges


@dataclass(frozen=True)
class Send:
    topic: str
    key: bytes | None
    value: bytes
    partition: int


@dataclass
class Effects:
    """Performed in this order: `sends` (not awaited); at a checkpoint (`writes` non-empty):
    flush, write the table records, flush, then `acks`, then `after` (progress records that
    promise the state is durable)."""

    sends: list[Send] = field(default_factory=list)
    writes: dict[bytes, bytes] = field(default_factory=dict)
    acks: list[Any] = field(default_factory=list)
    after: list[Send] = field(default_factory=list)
    seek: list[tuple[str, int]] = field(default_factory=list)  # (topic, offset) to re-read

    def __bool__(self) -> bool:
        return bool(self.sends or self.writes or self.acks or self.after or self.seek)


@dataclass
class Tally:
    """received = applied + duplicates + rejected + dead_letters + watermarks."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead_letters: int = 0
    watermarks: int = 0  # clock copies on the data topics: they only mark time
    rejected_by_code: Counter[str] = field(default_factory=Counter)

    @property
    def reconciled(self) -> bool:
        outcomes = (
            self.applied + self.duplicates + self.rejected + self.dead_letters + self.watermarks
        )
        return self.received == outcomes


Kind = Literal["input", "tick", "repeat", "flush"]


@dataclass
class Item:
    kind: Kind
    message: Inbound
    payload: Any = None  # input | Clock | flush id


@dataclass
class Phase:
    """Where the partition is within a clock: idle, waiting for seals, or for histograms."""

    step: Literal["idle", "settling", "grading"] = "idle"
    clock: Clock | None = None
    period: str | None = None

    def as_json(self) -> dict[str, Any]:
        clock = self.clock
        return {
            "step": self.step,
            "clock": None if clock is None else [clock.event_id, clock.at.isoformat()],
            "period": self.period,
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> Phase:
        c = d["clock"]
        clock = None if c is None else Clock(c[0], datetime.fromisoformat(c[1]))
        return Phase(d["step"], clock, d["period"])


class PartitionRunner:
    def __init__(
        self,
        partition: int,
        partitions: int,
        program: Program,
        names: TopicNames,
        states: Iterable[MemberState] = (),
        record: bytes | None = None,
        checkpoint_every: int = 5000,
        starts: dict[str, int] | None = None,
    ) -> None:
        self.partition = partition
        # A checkpoint writes every member changed since the last one and acknowledges what
        # was consumed; between checkpoints nothing is acknowledged, so a crash replays from
        # the last checkpoint (outputs again, with the same ids). Fewer checkpoints, fewer
        # state writes: a member touched on every clock is written once per checkpoint.
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self._dirty: set[str] = set()  # changed since the last checkpoint
        self._unpublished: set[str] = set()  # changed since the last status publication
        self._held: list[Any] = []
        self._after: list[Send] = []
        self.partitions = partitions
        self.names = names
        self.book = Book(program)
        self.phase = Phase()
        marks = None
        # Next offset to apply per source topic (this partition): the checkpoint's position,
        # else where the topic starts. Faust can hand over a few messages from the old
        # position before it seeks back to the committed offsets after a rebalance; with the
        # positions those are recognised (a gap) instead of being applied out of order.
        self.positions: dict[str, int] = dict(starts or {})
        if record is not None:
            d = orjson.loads(record)
            marks = state_codec.decode_marks(orjson.dumps(d["book"]))
            self.phase = Phase.from_json(d["phase"])
            self.positions.update(d["positions"])
        self.book.restore(states, marks)
        self.book.touched.clear()
        self.inputs: dict[str, deque[Item]] = {t: deque() for t in names.inputs}
        self.queued_marks: dict[str, set[str]] = {t: set() for t in names.inputs}
        self.queued_clocks: dict[str, dict[str, Clock]] = {t: {} for t in names.inputs}
        self.bounds: dict[str, int] = dict.fromkeys(names.inputs, 0)  # marks queued per source
        self.exchanged: dict[int, deque[tuple[exchange.Exchanged, Inbound]]] = {
            p: deque() for p in range(partitions)
        }
        self.tally = Tally()
        self.redelivered = 0  # messages before the checkpoint's position, skipped
        self.gaps = 0  # messages after the position, left for redelivery
        self._flushed = False  # the last step applied a flush marker
        self._last_event: dict[str, str] = {}  # member -> latest input event id (status)
        self._effects = Effects()

    def describe(self) -> str:
        """One line for operators: where the partition is and what it waits for."""
        waiting = ""
        clock = self.phase.clock
        if clock is not None:
            kind = exchange.Seal if self.phase.step == "settling" else exchange.Histograms
            missing = [
                p
                for p, queue in self.exchanged.items()
                if not any(isinstance(r, kind) and r.clock_id == clock.event_id for r, _ in queue)
            ]
            waiting = f" {clock.event_id} waiting for partitions {missing}"
        queued = {t.rsplit(".", 2)[-2]: len(q) for t, q in self.inputs.items()}
        marks = {t.rsplit(".", 2)[-2]: n for t, n in self.bounds.items()}
        return (
            f"partition {self.partition}: {self.phase.step}{waiting}; queued {queued}; "
            f"marks {marks}; positions {self.positions}; redelivered {self.redelivered}, "
            f"gaps {self.gaps}"
        )

    # -- intake -------------------------------------------------------------------------------
    def receive(self, message: Inbound) -> Effects:
        self._effects = effects = Effects()
        expected = self.positions.get(message.topic)
        if expected is not None and message.offset != expected:
            if message.offset < expected:
                # Covered by the checkpoint (delivered again after a restart): acknowledge.
                self.redelivered += 1
                self._held.append(message.ref)
            else:
                # Ahead of the position: messages in between were skipped on the way (Faust
                # skips, and acknowledges, what passes while flow is paused in a rebalance,
                # and seeks back only where an offset was committed). The driver seeks back
                # (rate-limited: messages fetched before the seek still arrive for a while).
                self.gaps += 1
                effects.seek.append((message.topic, expected))
            return effects
        self.positions[message.topic] = message.offset + 1
        self._since_checkpoint += 1
        self._flushed = False
        if message.topic == self.names.exchange:
            self._receive_exchange(message)
        elif not self._receive_input(message) and self.phase.step == "idle":
            # An ordinary input cannot complete anything: only a tick, a flush marker or an
            # exchange record can. Skipping the check keeps the per-message cost flat.
            return effects
        flushed = False
        while self._advance():
            flushed = flushed or self._flushed
        if flushed or self._since_checkpoint >= self.checkpoint_every:
            self._checkpoint_into(effects)
        return effects

    def checkpoint(self, effects: Effects | None = None) -> Effects:
        """Write the changed state and acknowledge what it covers (the driver calls this on a
        timer too, so a quiet partition does not hold messages for long). Adds to `effects`
        when given, e.g. those `receive` just returned."""
        effects = Effects() if effects is None else effects
        self._checkpoint_into(effects)
        return effects

    def unwritten(self) -> bool:
        """Whether a checkpoint now would write or acknowledge anything."""
        return bool(self._since_checkpoint or self._dirty or self._held or self._after)

    def publish(self, effects: Effects | None = None) -> Effects:
        """The status of every member changed since the last publication: one record per
        changed member per call (not per step), so the read model follows within the
        driver's status interval for a fraction of the messages. Checkpoints publish too."""
        effects = Effects() if effects is None else effects
        for member_id in sorted(self._unpublished):
            state = self.book.members.get(member_id)
            if state is not None:
                effects.sends.append(
                    Send(
                        self.names.member_status,
                        member_id.encode(),
                        status_json(state, self._last_event.get(member_id)),
                        self.partition,
                    )
                )
        self._unpublished.clear()
        return effects

    @property
    def unpublished(self) -> bool:
        return bool(self._unpublished)

    def _checkpoint_into(self, effects: Effects) -> None:
        self.publish(effects)
        # A member's whole state is encoded, so a member changed on every step costs one
        # encoding per checkpoint: checkpoints are further apart than publications.
        for member_id in sorted(self._dirty):
            state = self.book.members.get(member_id)
            if state is not None:
                effects.writes[member_key(member_id)] = state_codec.encode(state)
        effects.writes[runner_key(self.partition)] = self.record()
        effects.acks += self._held
        effects.after += self._after
        self._dirty.clear()
        self._held = []
        self._after = []
        self._since_checkpoint = 0

    def _receive_exchange(self, message: Inbound) -> None:
        try:
            record = exchange.decode(message.value or b"")
        except (ValueError, KeyError, TypeError) as exc:
            # Written by the engine itself: a bad record is a bug. Shown, and skipped so the
            # partition is not stuck behind it.
            self._dead_letter(message, f"undecodable exchange record: {exc}")
            return
        # Per sending partition, records keep their order: its follow-ups precede its seal.
        if 0 <= record.source < self.partitions:
            self.exchanged[record.source].append((record, message))
        else:
            self._dead_letter(message, f"exchange record from unknown partition {record.source}")

    def _receive_input(self, message: Inbound) -> bool:
        """Queue one input message; True when it was a tick or flush marker."""
        self.tally.received += 1
        queue = self.inputs.get(message.topic)
        if queue is None:
            self._dead_letter(message, f"not an input topic of this engine: {message.topic}")
            return False
        if message.key == CONTROL_KEY:
            try:
                marker = str(orjson.loads(message.value or b"")["flush"])
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                self._dead_letter(message, f"invalid control record: {exc!r}")
                return False
            self._queue_mark(message, queue, "flush", marker)
            return True
        raw = message.value
        if raw is None:
            self._dead_letter(message, "empty message value (tombstone) on an input topic")
            return False
        try:
            inp = decode_external(raw)
        except Undecodable as exc:
            self._dead_letter(message, str(exc))
            return False
        if isinstance(inp, Clock):
            refused = self._clock_problem(message.topic, inp)
            if refused is not None:
                self._reject_now(message, inp, refused.code, refused.message)
                return False
            self._queue_mark(message, queue, "tick", inp)
            return True
        problem = self._misplaced(message, inp)
        if problem is not None:
            self._reject_now(message, inp, "wrong_partition", problem)
            return False
        queue.append(Item("input", message, inp))
        return False

    def _clock_problem(self, topic: str, clock: Clock) -> Rejected | None:
        """A tick that must not count: its id was used for another time, or it is older than
        the duplicate horizon. Judged against the ticks applied and those still queued."""
        queued = self.queued_clocks[topic].get(clock.event_id)
        if queued is not None:
            if queued.at == clock.at:
                return None
            return Rejected(Code.EVENT_ID_CONFLICT, f"clock {clock.event_id}: another time queued")
        status = self.book.clock_status(clock)
        if status in ("new", "duplicate"):
            return None
        return self.book.clock_rejection(clock, status)

    def _queue_mark(self, message: Inbound, queue: deque[Item], kind: Kind, payload: Any) -> None:
        mark_id = payload.event_id if isinstance(payload, Clock) else payload
        queued = self.queued_marks[message.topic]
        if mark_id in queued or (isinstance(payload, Clock) and self.book.knows_clock(mark_id)):
            queue.append(Item("repeat", message, payload))  # a redelivered or repeated tick
            return
        queued.add(mark_id)
        if isinstance(payload, Clock):
            self.queued_clocks[message.topic][mark_id] = payload
        queue.append(Item(kind, message, payload))
        self.bounds[message.topic] += 1

    def _misplaced(self, message: Inbound, inp: MemberInput) -> str | None:
        if message.key != inp.member_id.encode():
            return f"message key {message.key!r} is not the member id {inp.member_id!r}"
        if inp.member_id in self.book.members:
            return None  # placed here when it enrolled (murmur2 in Python: 1% of a worker)
        if partition_of(inp.member_id, self.partitions) != self.partition:
            return f"member {inp.member_id} belongs to another partition than {self.partition}"
        return None

    # -- progress -----------------------------------------------------------------------------
    def _advance(self) -> bool:
        if self.phase.step == "settling":
            return self._settle()
        if self.phase.step == "grading":
            return self._grade()
        return self._close_epoch()

    def _close_epoch(self) -> bool:
        if not all(self.bounds.values()):
            return False  # some source has not reached the next tick yet
        items: list[Item] = []
        marks: list[Item] = []
        for topic, queue in self.inputs.items():
            while queue[0].kind not in ("tick", "flush"):
                items.append(queue.popleft())
            mark = queue.popleft()
            marks.append(mark)
            self.bounds[topic] -= 1
            self.queued_marks[topic].discard(_mark_id(mark))
            self.queued_clocks[topic].pop(_mark_id(mark), None)
        mark = next((m for m in marks if m.message.topic == self.names.clock), marks[0])
        if len({_mark_id(m) for m in marks}) > 1:
            self._alert(
                "tick_mismatch",
                f"input topics disagree on the next tick: {sorted({_mark_id(m) for m in marks})}"
                f"; using {_mark_id(mark)}",
            )
        self._apply_epoch(items)
        for m in marks:
            self._count_mark(m, m is mark)
        acks = [it.message for it in items] + [m.message for m in marks]
        self._flushed = mark.kind == "flush"
        if mark.kind == "flush":
            self._progress("flushed", str(mark.payload))
            self._finish(acks)
            return True
        clock: Clock = mark.payload
        self.book.begin_clock(clock)
        if not self.book.synchronises(clock):
            # Time passes member by member: no partition waits for another. A barrier round
            # cost p50 42 ms, p99 419 ms at 2,000 events/s with 0.25 s ticks (docs/stream.md).
            self._emit_events(self.book.advance(clock))
            self._progress("clock_applied", clock.event_id)
            self._finish(acks)
            return True
        pending, dispatched = self.book.dispatch_pending()
        self._emit_events(dispatched)
        for follow_up in pending:
            member = follow_up.member_id
            self._send(
                self.names.exchange,
                member.encode(),
                exchange.encode_follow_up(self.partition, follow_up),
                partition_of(member, self.partitions),
            )
        seal = exchange.encode_seal(exchange.Seal(self.partition, clock.event_id))
        for target in range(self.partitions):
            self._send(self.names.exchange, None, seal, target)
        self.phase = Phase("settling", clock)
        self._finish(acks)
        return True

    def _apply_epoch(self, items: list[Item]) -> None:
        entries = []
        for item in items:
            if item.kind == "input":
                entries.append((order_key(item.payload, item.message.offset), item))
            else:  # a repeated tick: nothing to apply
                self._count_mark(item, False)
        entries.sort(key=lambda entry: entry[0])
        for _, item in entries:
            inp = item.payload
            outcome = self.book.handle(inp)
            self._last_event[inp.member_id] = inp.event_id
            self._count(outcome, item.message)
            self._emit(outcome)

    def _settle(self) -> bool:
        clock = self.phase.clock
        assert clock is not None
        seals = [self._find(p, exchange.Seal, clock.event_id) for p in range(self.partitions)]
        if any(index is None for index in seals):
            return False
        follow_ups: list[FollowUp] = []
        acks: list[Inbound] = []
        for p, index in enumerate(seals):
            queue = self.exchanged[p]
            assert index is not None
            for _ in range(index + 1):
                record, message = queue.popleft()
                acks.append(message)
                if isinstance(record, exchange.Forwarded):
                    follow_ups.append(record.follow_up)
        for outcome in self.book.settle(follow_ups, clock):
            self._last_event[outcome.input.member_id] = outcome.input.event_id  # type: ignore[union-attr]
            self._emit(outcome)
        self._emit_events(self.book.advance(clock))
        periods = self.book.close_period(clock)
        if periods is None:
            self.phase = Phase()
            self._progress("clock_applied", clock.event_id)
        else:
            histograms = exchange.Histograms(
                self.partition, clock.event_id, self.book.segment_histograms(periods)
            )
            encoded = exchange.encode_histograms(histograms)
            for target in range(self.partitions):
                self._send(self.names.exchange, None, encoded, target)
            self.phase = Phase("grading", clock, ",".join(periods))
        self._finish(acks)
        return True

    def _grade(self) -> bool:
        clock = self.phase.clock
        assert clock is not None
        found = [self._find(p, exchange.Histograms, clock.event_id) for p in range(self.partitions)]
        if any(index is None for index in found):
            return False
        parts = []
        acks: list[Inbound] = []
        for p, index in enumerate(found):
            assert index is not None
            record, message = self.exchanged[p][index]
            del self.exchanged[p][index]
            assert isinstance(record, exchange.Histograms)
            parts.append(record.part)
            acks.append(message)
        before = len(self.book.gradings)
        self._emit_events(self.book.grade_with(parts, clock.at, clock.event_id))
        for result in self.book.gradings[before:]:
            self._ops(
                OpsGrading(
                    period=result.period,
                    segment=result.segment,
                    members=sum(result.histogram.values()),
                    thresholds=result.thresholds,
                    partition=self.partition,
                ).model_dump_json()
            )
        del self.book.gradings[before:]  # reported; the stream does not keep them
        self.phase = Phase()
        self._progress("clock_applied", clock.event_id)
        self._finish(acks)
        return True

    def _find(self, source: int, kind: type, clock_id: str) -> int | None:
        """Index of the first `kind` record for `clock_id` from `source`; records of clocks
        already done (redelivered after a restart) are dropped on the way."""
        queue = self.exchanged[source]
        index = 0
        while index < len(queue):
            record, message = queue[index]
            if isinstance(record, exchange.Seal | exchange.Histograms):
                if record.clock_id == clock_id and isinstance(record, kind):
                    return index
                if record.clock_id != clock_id and self.book.knows_clock(record.clock_id):
                    del queue[index]
                    self._held.append(message.ref)
                    continue
                if kind is exchange.Seal and isinstance(record, exchange.Histograms):
                    index += 1  # an earlier clock's histograms, still wanted by nobody
                    continue
                if kind is exchange.Seal:
                    # A seal for a clock this partition has not reached: the ticks differ.
                    self._alert("seal_out_of_order", f"seal for {record.clock_id} from {source}")
                    return None
            elif kind is exchange.Histograms:
                index += 1  # a follow-up for the next clock, sent after the histograms
                continue
            index += 1
        return None

    # -- effects ------------------------------------------------------------------------------
    def _finish(self, acks: list[Inbound]) -> None:
        """End of a step: its members are written and its messages acknowledged at the next
        checkpoint."""
        self._dirty |= self.book.touched
        self._unpublished |= self.book.touched
        self.book.touched.clear()
        self._held += [m.ref for m in acks]

    def record(self) -> bytes:
        marks = orjson.loads(state_codec.encode_marks(self.book.marks()))
        return orjson.dumps(
            {"book": marks, "phase": self.phase.as_json(), "positions": self.resume_at()}
        )

    def resume_at(self) -> dict[str, int]:
        """Where a restored runner resumes: the oldest message still queued (consumed, not yet
        applied) per topic, else the next offset. Exchange records applied after an older
        queued one come again; they are stale seals or duplicate follow-ups by then."""
        at = dict(self.positions)
        for topic, queue in self.inputs.items():
            if queue:
                at[topic] = queue[0].message.offset
        queued = [m.offset for q in self.exchanged.values() for _, m in q]
        if queued:
            at[self.names.exchange] = min(queued)
        return at

    def _send(self, topic: str, key: bytes | None, value: bytes, partition: int) -> None:
        self._effects.sends.append(Send(topic, key, value, partition))

    def _ops(self, value: str | bytes, key: bytes | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        self._send(self.names.ops, key, data, self.partition)

    def _emit(self, outcome: Outcome) -> None:
        self._emit_events(outcome.events)

    def _emit_events(self, events: list[tuple[str, ev.DomainEvent]]) -> None:
        p = self.partition
        for member_id, event in events:
            kind = type(event)
            if kind in _POSTINGS:  # a hold's posting is also a member event
                line = event.posting.line()  # type: ignore[union-attr]
                self._send(self.names.ledger, member_id.encode(), line, p)
            if kind in STATUS_EVENTS:
                record = status_line(event)
                self._send(self.names.member_events, member_id.encode(), record, p)
            elif isinstance(event, ev.AlertRaised):
                alert = OpsAlert(
                    member_id=event.member_id,
                    at=event.at.isoformat(),
                    code=event.code,
                    message=event.message,
                    cause=event.cause,
                )
                self._ops(alert.model_dump_json(), member_id.encode())

    def _count(self, outcome: Outcome, message: Inbound) -> None:
        tally = self.tally
        if outcome.kind == "applied":
            tally.applied += 1
            return
        inp = outcome.input
        member = getattr(inp, "member_id", None)
        if outcome.kind == "duplicate":
            tally.duplicates += 1
            self._ops_record(message, "duplicate", "duplicate", "already applied", inp, member)
            return
        rejection = outcome.rejection
        assert rejection is not None
        tally.rejected += 1
        tally.rejected_by_code[rejection.code] += 1
        self._ops_record(message, "rejected", rejection.code, rejection.message, inp, member)

    def _count_mark(self, item: Item, applied: bool) -> None:
        if item.kind == "repeat":
            self.tally.duplicates += 1
        elif applied:  # the one copy that counts as the tick (or flush) itself
            self.tally.applied += 1
        else:
            self.tally.watermarks += 1

    def _ops_record(
        self,
        message: Inbound,
        kind: Literal["rejected", "duplicate"],
        code: str,
        text: str,
        inp: Any,
        member: str | None,
    ) -> None:
        record = OpsRecord(
            kind=kind,
            code=str(code),
            message=text,
            event_id=getattr(inp, "event_id", None),
            member_id=member,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )
        self._ops(record.model_dump_json(), message.key)

    def _reject_now(self, message: Inbound, inp: Input, code: str, text: str) -> None:
        self.tally.rejected += 1
        self.tally.rejected_by_code[code] += 1
        self._ops_record(message, "rejected", code, text, inp, getattr(inp, "member_id", None))
        self._held.append(message.ref)

    def _dead_letter(self, message: Inbound, error: str) -> None:
        if message.topic != self.names.exchange:
            self.tally.dead_letters += 1
        value = dead_letter(
            message.topic, message.partition, message.offset, message.key, message.value, error
        )
        self._send(self.names.dead_letters, message.key, value, self.partition)
        self._held.append(message.ref)

    def _alert(self, code: str, text: str) -> None:
        log.error("partition %d: %s: %s", self.partition, code, text)
        alert = OpsAlert(member_id="", at="", code=code, message=text, cause="engine")
        self._ops(alert.model_dump_json())

    def _progress(self, kind: Literal["clock_applied", "flushed"], marker: str) -> None:
        record = OpsProgress(
            kind=kind, marker=marker, partition=self.partition, members=len(self.book.members)
        )
        # Sent after the next checkpoint: a progress record promises durable state.
        self._after.append(
            Send(self.names.ops, None, record.model_dump_json().encode(), self.partition)
        )


def _mark_id(item: Item) -> str:
    payload = item.payload
    return payload.event_id if isinstance(payload, Clock) else str(payload)


def status_json(state: MemberState, last_event_id: str | None) -> bytes:
    """A `MemberStatus` record, written by orjson from a dict in the model's field order: the
    same bytes as `MemberStatus(...).model_dump_json()` at half the cost (validating the
    model was most of a status publication, 6.5 -> 3.2 us per member on the bench workload).
    A property test holds the two equal, so the model stays the contract."""
    available, pending = unlocked(state, as_of_moment(state).ordinal)
    return orjson.dumps(
        {
            "member_id": state.member_id,
            "points": available,
            "version": state.version,
            "last_event_id": last_event_id,
            "pending": pending,
            "tier": state.tier,
            "class_code": state.class_code,
            "stage": state.stage,
            "qualifying": state.qualifying,
            "held": sum(h.points for h in state.held),
            "in_flight": sum(state.in_flight.values()),
            "schema_version": 1,
        }
    )
