"""`loyalty verify-stream EVENTS.jsonl --program P.yaml`: the stream engine against replay.

Runs `loyalty replay` on the file, produces the same file to the running broker in a fresh
namespace (clock ticks to every input partition, a flush marker at the end), runs N engine
workers on it, waits until every partition has applied the flush marker, then compares the
final member states (from the member table's changelog) and the set of ledger postings with
replay's. Prints the member count compared and every difference; exit 1 on any.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from config import Settings
from edge.program_file import load_program
from entrypoints.replay import member_json, replay
from loyalty.program import Program
from loyalty.state import MemberState
from schemas.status import MemberStatus
from streams import state_codec
from streams.feed import file_messages, flush_messages
from streams.runner import MEMBER_PREFIX
from streams.topic_reader import Record, read_all, read_until, wait_stable
from streams.topics import TopicNames, ensure_topics

MAX_SHOWN = 20
T = TypeVar("T")


@dataclass
class StreamResult:
    members: dict[str, MemberState]
    postings: set[bytes]
    ops: list[dict[str, Any]]
    dead_letters: int
    statuses: dict[str, MemberStatus] = field(default_factory=dict)  # newest per member
    member_events: list[dict[str, Any]] = field(default_factory=list)


async def produce_file(
    settings: Settings, path: Path, marker: str | None, idempotent: bool = True
) -> int:
    """Send the file's events in order (explicit partitions), then the flush marker (unless
    None); returns the number of messages sent (flush marker copies included)."""
    from aiokafka import AIOKafkaProducer

    names = TopicNames(settings.namespace)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        # Retries must not reorder or repeat within a partition (the embedded fallback broker
        # cannot initialise producer ids, hence the switch).
        enable_idempotence=idempotent,
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await asyncio.wait_for(producer.start(), 60)
    sent = 0
    try:
        with path.open("rb") as lines:
            outgoing = file_messages(iter(lines), names, settings.partitions)
            pending = []
            for out in outgoing:
                pending.append(
                    await producer.send(out.topic, out.value, out.key, partition=out.partition)
                )
                sent += 1
                if len(pending) >= 20_000:
                    await asyncio.gather(*pending)
                    pending.clear()
            flush = [] if marker is None else flush_messages(names, settings.partitions, marker)
            for out in flush:
                pending.append(
                    await producer.send(out.topic, out.value, out.key, partition=out.partition)
                )
                sent += 1
            await asyncio.gather(*pending)
    finally:
        await asyncio.wait_for(producer.stop(), 30)
    return sent


async def wait_flushed(settings: Settings, marker: str, timeout_s: float) -> list[Record]:
    """The ops records, once every partition has reported the flush marker."""
    names = TopicNames(settings.namespace)

    def flushed(records: list[Record]) -> set[int]:
        done = set()
        for r in records:
            if r.value and b'"flushed"' in r.value:
                record = orjson.loads(r.value)
                if record.get("kind") == "flushed" and record.get("marker") == marker:
                    done.add(record["partition"])
        return done

    records = await read_until(
        settings.bootstrap_servers,
        [names.ops],
        lambda rs: len(flushed(rs)) == settings.partitions,
        timeout_s,
    )
    missing = set(range(settings.partitions)) - flushed(records)
    if missing:
        raise TimeoutError(
            f"partitions {sorted(missing)} did not apply flush marker {marker} in {timeout_s:.0f} s"
        )
    return records


async def collect(settings: Settings, marker: str, timeout_s: float) -> StreamResult:
    names = TopicNames(settings.namespace)
    ops = await wait_flushed(settings, marker, timeout_s)
    topics = [
        names.member_state,
        names.ledger,
        names.dead_letters,
        names.member_status,
        names.member_events,
    ]
    # A worker reports a flush once its state transaction is committed, but the commit's
    # markers reach the changelog's partitions after that: read before they do, and a
    # committed reader stops at the transaction before them (a stale result, not the
    # engine's).
    await wait_stable(settings.bootstrap_servers, topics, timeout_s)
    records = await read_all(settings.bootstrap_servers, topics, timeout_s)
    latest: dict[bytes, bytes | None] = {}
    postings: set[bytes] = set()
    dead = 0
    statuses: dict[str, MemberStatus] = {}
    member_events = []
    changelog = names.member_state
    for r in records:
        if r.topic == changelog and r.key is not None:
            latest[r.key] = r.value  # in offset order per partition: the last one wins
        elif r.topic == names.ledger and r.value is not None:
            postings.add(r.value)
        elif r.topic == names.dead_letters:
            dead += 1
        elif r.topic == names.member_events and r.value is not None:
            member_events.append(orjson.loads(r.value))
        elif r.topic == names.member_status and r.value is not None:
            status = MemberStatus.model_validate_json(r.value)
            known = statuses.get(status.member_id)
            if known is None or status.version > known.version:
                statuses[status.member_id] = status
    members = {}
    for key, value in latest.items():
        if key.startswith(MEMBER_PREFIX) and value is not None:
            state = state_codec.decode(value)
            members[state.member_id] = state
    return StreamResult(
        members,
        postings,
        [orjson.loads(r.value) for r in ops if r.value],
        dead,
        statuses,
        sorted(member_events, key=lambda e: (e["at"], e["member_id"], e["type"])),
    )


def differences(replay_dir: Path, result: StreamResult, program: Program) -> list[str]:
    found: list[str] = []
    expected = {}
    for line in (replay_dir / "members.jsonl").read_bytes().splitlines():
        record = orjson.loads(line)
        expected[record["member_id"]] = record
    for member_id in sorted(set(expected) | set(result.members)):
        want = expected.get(member_id)
        state = result.members.get(member_id)
        got = None if state is None else orjson.loads(orjson.dumps(member_json(state, program)))
        if want != got:
            found.append(f"member {member_id}: replay {_short(want)} != stream {_short(got)}")
    ledger = set((replay_dir / "ledger.jsonl").read_bytes().splitlines())
    for posting in sorted(ledger - result.postings)[:MAX_SHOWN]:
        found.append(f"posting only in replay: {posting.decode()}")
    for posting in sorted(result.postings - ledger)[:MAX_SHOWN]:
        found.append(f"posting only in the stream: {posting.decode()}")
    if ledger != result.postings:
        found.append(
            f"ledger: replay {len(ledger)} postings, stream {len(result.postings)}, "
            f"{len(ledger ^ result.postings)} differ"
        )
    return found


def _short(record: dict[str, Any] | None) -> str:
    text = "absent" if record is None else orjson.dumps(record).decode()
    return text if len(text) <= 300 else text[:300] + "..."


@contextmanager
def workers(
    settings: Settings,
    program_path: Path,
    count: int,
    logs: Path,
    extra_env: dict[str, str] | None = None,
    name: str = "worker",
    command: list[str] | None = None,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` worker processes on the settings' namespace; logs and state directories are
    `<logs>/<name>-<n>`. `command`: another worker program (a benchmark's baseline)."""
    env = {
        **os.environ,
        "LOYALTY_NAMESPACE": settings.namespace,
        "LOYALTY_KAFKA_BOOTSTRAP": settings.bootstrap_servers,
        "LOYALTY_PARTITIONS": str(settings.partitions),
        "LOYALTY_PROGRAM": str(program_path.resolve()),
        "LOYALTY_METRICS_PORT": "0",
        "REDIS_URL": settings.effective_redis_url,
        "LOYALTY_METRICS_INTERVAL_S": str(settings.metrics_interval_s),
        **(extra_env or {}),
    }
    procs: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        for n in range(count):
            # A state directory per worker: RocksDB locks a table partition's files, and two
            # workers on one machine may both hold a partition (one of them as a standby).
            state = logs / f"{name}-{n}"
            state.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context((logs / f"{name}-{n}.log").open("ab"))
            procs.append(
                subprocess.Popen(
                    command or [sys.executable, "-m", "entrypoints.cli", "worker"],
                    env={**env, "LOYALTY_STATE_DIR": str(state)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        try:
            yield procs
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def watched(
    work: Coroutine[Any, Any, T],
    procs: list[subprocess.Popen[bytes]],
    logs: Path,
    name: str = "worker",
) -> T:
    """Await `work`, failing at once (with the log's tail) if a worker process exits."""
    task = asyncio.ensure_future(work)
    while not task.done():
        for n, proc in enumerate(procs):
            if proc.poll() is not None:
                task.cancel()
                tail = (logs / f"{name}-{n}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker {n} exited with {proc.returncode}:\n{tail}")
        await asyncio.wait([task], timeout=1.0)
    return task.result()


async def warm_up(
    settings: Settings, procs: list[subprocess.Popen[bytes]], logs: Path, name: str = "worker"
) -> None:
    """Until every partition has answered a flush marker: the workers have started, joined
    and taken their partitions (so a benchmark's clock starts after that)."""
    marker = f"warmup-{uuid.uuid4().hex[:6]}"
    empty = logs / "empty.jsonl"
    empty.write_bytes(b"")
    await produce_file(settings, empty, marker)
    await watched(wait_flushed(settings, marker, 300), procs, logs, name)


def verify_stream(
    events: Path,
    program_path: Path,
    settings: Settings,
    worker_count: int = 1,
    timeout_s: float = 600.0,
    keep: Path | None = None,
) -> int:
    program = load_program(program_path)
    settings = settings.model_copy(update={"namespace": f"verify-{uuid.uuid4().hex[:8]}"})
    work = keep or Path(tempfile.mkdtemp(prefix="loyalty-verify-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    summary = replay(events, program, work / "replay", progress=False)
    replayed = time.monotonic()
    asyncio.run(ensure_topics(settings))
    marker = f"flush-{uuid.uuid4().hex[:8]}"
    with workers(settings, program_path, worker_count, work) as procs:
        produced = asyncio.run(produce_file(settings, events, marker))
        result = asyncio.run(watched(collect(settings, marker, timeout_s), procs, work))
    streamed = time.monotonic()
    found = differences(work / "replay", result, program)
    print(
        f"compared {len(result.members)} members (replay {summary.members}) and "
        f"{len(result.postings)} distinct ledger postings; namespace {settings.namespace}, "
        f"{settings.partitions} partitions, {worker_count} worker(s)"
    )
    print(
        f"replay {replayed - started:.1f} s; stream {streamed - replayed:.1f} s for "
        f"{produced} messages ({summary.received} events); outputs in {work}"
    )
    for line in found[:MAX_SHOWN]:
        print("DIFF", line)
    if len(found) > MAX_SHOWN:
        print(f"... {len(found) - MAX_SHOWN} more differences")
    print("stream == replay" if not found else f"{len(found)} differences")
    return 1 if found else 0
