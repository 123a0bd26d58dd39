"""The engine on real Kafka (and Redis): a generated workload through `loyalty worker`
processes equals `loyalty replay` of the same file, with one worker, with two sharing the
partitions, after a worker is killed mid-stream, and through a Redis outage."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from config import Settings
from edge.program_file import load_program
from entrypoints.replay import replay
from entrypoints.verify_stream import (
    StreamResult,
    collect,
    differences,
    produce_file,
    watched,
    workers,
)
from localinfra.process import free_port
from localinfra.redis_server import RedisServer
from streams.app import redis_projection
from streams.projection_loop import group_id
from streams.topic_reader import Record, end_offsets, read_all, read_until, wait_stable
from streams.topics import TopicNames, ensure_topics
from workload.generator import Workload, settling_only_every

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "programs" / "airline.yaml"
WAIT_S = 240.0


def workload(
    tmp_path: Path,
    members: int = 80,
    events: int = 3000,
    seed: int = 5,
    settle_nth: int = 1,
    tail: bytes = b"",
) -> Path:
    path = tmp_path / "events.jsonl"
    lines = Workload(members, events, seed, load_program(PROGRAM)).lines()
    with path.open("wb") as out:
        out.writelines(settling_only_every(lines, settle_nth))
        out.write(tail)
    replay(path, load_program(PROGRAM), tmp_path / "replay", progress=False)
    return path


def engine_settings(settings: Settings) -> Settings:
    # Small checkpoints: the runs cross many of them, and a crash replays only a little.
    return settings.model_copy(update={"checkpoint_every": 300, "program": PROGRAM})


async def run_file(
    settings: Settings, events: Path, tmp_path: Path, count: int = 1
) -> StreamResult:
    """One worker runs every agent; several run the engine only, beside a projection-only
    worker (the layout that keeps Redis writes off the engine's cores)."""
    await ensure_topics(settings)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    role = "all" if count == 1 else "engine"
    projection = {**_env(settings), "LOYALTY_ROLE": "projection"}
    with (
        workers(
            settings, PROGRAM, count, tmp_path, {**_env(settings), "LOYALTY_ROLE": role}
        ) as procs,
        workers(settings, PROGRAM, int(count > 1), tmp_path, projection, "projection") as more,
    ):
        await produce_file(settings, events, marker)
        result = await watched(collect(settings, marker, WAIT_S), procs, tmp_path)
        await assert_redis_has(settings, result)
        assert all(p.poll() is None for p in more)
        return result


def _env(settings: Settings) -> dict[str, str]:
    return {"LOYALTY_CHECKPOINT_EVERY": str(settings.checkpoint_every)}


def assert_equal_to_replay(tmp_path: Path, result: StreamResult) -> None:
    assert differences(tmp_path / "replay", result, load_program(PROGRAM)) == []
    assert len(result.members) >= 30  # a real comparison, not an empty one
    # The read model's feed follows the state: each member's latest status is its state's.
    stale = {
        m: (s.version, result.statuses[m].version if m in result.statuses else None)
        for m, s in result.members.items()
        if m not in result.statuses or result.statuses[m].version != s.version
    }
    assert stale == {}


# Two workers on a history where only every fifth clock settles transfers: the clocks between
# are no barrier, and transfers wait for the next settling one, in the stream as in replay.
@pytest.mark.parametrize(("count", "settle_nth"), [(1, 1), (2, 5)])
async def test_the_stream_equals_replay(
    settings: Settings, tmp_path: Path, count: int, settle_nth: int
) -> None:
    settings = engine_settings(settings)
    events = workload(tmp_path, settle_nth=settle_nth)
    result = await run_file(settings, events, tmp_path, count)
    assert_equal_to_replay(tmp_path, result)
    # Every partition took part in the grading, and thresholds agree across partitions.
    gradings = [o for o in result.ops if o.get("kind") == "grading"]
    by_key: dict[tuple[str, str], set[str]] = {}
    for g in gradings:
        by_key.setdefault((g["period"], g["segment"]), set()).add(orjson.dumps(g["thresholds"]))
    assert gradings and all(len(v) == 1 for v in by_key.values())
    assert {g["partition"] for g in gradings} == set(range(settings.partitions))
    assert result.dead_letters > 0  # the workload's malformed lines, with their reasons


async def assert_redis_has(settings: Settings, result: StreamResult) -> None:
    projection = redis_projection(settings)
    try:
        for _ in range(100):
            stored = {m: await projection.get(m) for m in result.statuses}
            if all(
                s is not None and s.version == result.statuses[m].version for m, s in stored.items()
            ):
                break
            await asyncio.sleep(0.3)
        for member, status in result.statuses.items():
            got = stored[member]
            assert got is not None, member
            assert (got.points, got.tier, got.version) == (
                status.points,
                status.tier,
                status.version,
            )
            assert got.points == result.members[member].available(
                result.members[member].as_of.date()
            )
    finally:
        await projection.client.aclose()


async def test_a_killed_worker_is_replaced_and_the_result_is_unchanged(
    settings: Settings, tmp_path: Path
) -> None:
    settings = engine_settings(settings)
    events = workload(tmp_path, members=60, events=3000, seed=9)
    first_half, second_half = halves(events, tmp_path)
    await ensure_topics(settings)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    first = tmp_path / "first"
    first.mkdir()
    with workers(settings, PROGRAM, 1, first, _env(settings)) as procs:
        await produce_file(settings, first_half, None)
        await wait_for_clocks(settings, 50, procs, first)
        await produce_file(settings, second_half, marker)
        # Further on: the worker is killed while it applies the second half.
        ops = await read_all(settings.bootstrap_servers, [TopicNames(settings.namespace).ops])
        applied = sum(b"clock_applied" in (r.value or b"") for r in ops)
        await wait_for_clocks(settings, applied + 40, procs, first)
        procs[0].send_signal(signal.SIGKILL)  # no clean shutdown, no final checkpoint
        procs[0].wait()
    # The replacement restores from the changelog what the killed worker wrote, and replays
    # (idempotently) what it applied after its last checkpoint.
    with workers(settings, PROGRAM, 1, first, _env(settings)) as procs:
        result = await watched(collect(settings, marker, WAIT_S), procs, first)
    assert_equal_to_replay(tmp_path, result)


def halves(events: Path, tmp_path: Path) -> tuple[Path, Path]:
    lines = events.read_bytes().splitlines(keepends=True)
    first_half, second_half = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first_half.write_bytes(b"".join(lines[: len(lines) // 2]))
    second_half.write_bytes(b"".join(lines[len(lines) // 2 :]))
    return first_half, second_half


async def wait_for_clocks(
    settings: Settings, records: int, procs: list[Any], logs: Path, name: str = "worker"
) -> None:
    """Until `records` clock_applied records (one per partition per tick) are on `ops`."""

    def enough(rs: list[Record]) -> bool:
        return sum(b"clock_applied" in (r.value or b"") for r in rs) >= records

    await wait_on_ops(settings, enough, procs, logs, name)


async def wait_on_ops(
    settings: Settings,
    done: Callable[[list[Record]], bool],
    procs: list[Any],
    logs: Path,
    name: str = "worker",
) -> None:
    """Until `done` holds for the `ops` records, failing if a worker exits or time runs out."""
    names = TopicNames(settings.namespace)
    found = await watched(
        read_until(settings.bootstrap_servers, [names.ops], done, WAIT_S), procs, logs, name
    )
    assert done(found)  # read_until returns at its timeout too


async def test_accrual_goes_on_during_a_redis_outage_and_the_read_model_catches_up(
    settings: Settings, tmp_path: Path
) -> None:
    redis_settings = settings.model_copy(
        update={"state_dir": tmp_path / "own-redis", "redis_port": free_port()}
    )
    server = RedisServer(redis_settings)
    server.start()
    settings = engine_settings(
        settings.model_copy(update={"redis_url": redis_settings.effective_redis_url})
    )
    events = workload(tmp_path, members=40, events=1500, seed=3)
    await ensure_topics(settings)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    try:
        with workers(settings, PROGRAM, 1, tmp_path, _env(settings)) as procs:
            server.stop()
            # Redis is down for the whole run: the stream must still finish.
            await produce_file(settings, events, marker)
            result = await watched(collect(settings, marker, WAIT_S), procs, tmp_path)
            assert_equal_to_replay(tmp_path, result)
            server.start()
            await assert_redis_has(settings, result)
            assert all(p.poll() is None for p in procs)
    finally:
        server.stop()


async def wait_until_both_hold(settings: Settings, procs: list[Any], logs: Path) -> None:
    """Until two workers hold partitions (each reports lag for the partitions it holds)."""

    def both_hold(records: list[Record]) -> bool:
        return sum(bool(m["lag"]) for m in _metrics(records).values()) >= 2

    await wait_on_ops(settings, both_hold, procs, logs)


def _metrics(records: list[Record]) -> dict[str, dict[str, Any]]:
    """The latest metrics record of each worker."""
    latest: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.value and b'"metrics"' in r.value:
            record = orjson.loads(r.value)
            if record.get("kind") == "metrics":
                latest[record["worker"]] = record
    return latest


async def test_workers_joining_and_leaving_mid_stream_hand_their_partitions_over(
    settings: Settings, tmp_path: Path
) -> None:
    """The engine loop's own consumer group (not Faust's): a worker that joins takes
    partitions from a running one (restored from the changelog, or kept in memory by the
    worker that had them), and a worker stopped with SIGTERM while input still arrives writes
    its state and leaves; the result is the replay's."""
    settings = engine_settings(settings)
    events = workload(tmp_path, members=60, events=3000, seed=11, settle_nth=3)
    await ensure_topics(settings)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    env = {**_env(settings), "LOYALTY_ROLE": "engine", "LOYALTY_METRICS_INTERVAL_S": "0.3"}
    async with second_joins_mid_stream(settings, env, events, marker, tmp_path) as (first, second):
        first[0].send_signal(signal.SIGTERM)  # while the second half is being applied
        assert first[0].wait(timeout=60) == 0  # a clean stop
        result = await watched(collect(settings, marker, WAIT_S), second, tmp_path, "second")
    assert_equal_to_replay(tmp_path, result)


@asynccontextmanager
async def second_joins_mid_stream(
    settings: Settings, env: dict[str, str], events: Path, marker: str, tmp_path: Path
) -> AsyncIterator[tuple[list[Any], list[Any]]]:
    """A first worker applies the first half of `events`; a second joins; once both hold
    partitions, the second half (ending with `marker`) is produced. Yields both workers."""
    first_half, second_half = halves(events, tmp_path)
    with workers(settings, PROGRAM, 1, tmp_path, env, "first") as first:
        await produce_file(settings, first_half, None)
        await wait_for_clocks(settings, 50, first, tmp_path, "first")
        with workers(settings, PROGRAM, 1, tmp_path, env, "second") as second:
            await wait_until_both_hold(settings, [*first, *second], tmp_path)
            await produce_file(settings, second_half, marker)
            yield first, second


async def test_a_stopped_worker_writes_its_state_so_the_next_one_resumes_exactly_there(
    settings: Settings, tmp_path: Path
) -> None:
    """No checkpoint falls due during the run (no flush marker, limits out of reach): only
    the shutdown writes the state. The changelog then says every input was consumed, and a
    new worker finishes the file equal to replay."""
    settings = engine_settings(settings)
    # A last tick after every event, so that everything the file holds is applied.
    last = b'{"event_id":"last-tick","type":"clock","occurred_at":"2030-01-01T00:00:00+00:00"}\n'
    events = workload(tmp_path, members=40, events=1500, seed=4, tail=last)
    await ensure_topics(settings)
    names = TopicNames(settings.namespace)
    env = {
        "LOYALTY_CHECKPOINT_EVERY": "100000000",
        "LOYALTY_CHECKPOINT_INTERVAL_S": "3600",
        "LOYALTY_METRICS_INTERVAL_S": "0.3",
    }
    with workers(settings, PROGRAM, 1, tmp_path, env, "first") as first:
        sent = await produce_file(settings, events, None)

        def all_applied(records: list[Record]) -> bool:
            return any(
                m["received"] == sent and m["reconciled"] for m in _metrics(records).values()
            )

        await wait_on_ops(settings, all_applied, first, tmp_path, "first")
        first[0].send_signal(signal.SIGTERM)
        assert first[0].wait(timeout=60) == 0
    ends = await end_offsets(settings.bootstrap_servers, list(names.inputs))
    # The worker's last commit returned before its markers reached the changelog.
    await wait_stable(settings.bootstrap_servers, [names.member_state], 30)
    state = await read_all(settings.bootstrap_servers, [names.member_state], 30)
    records = {r.key: r.value for r in state if r.key and r.key.startswith(b"r:")}
    assert len(records) == settings.partitions
    for key, value in records.items():
        assert value is not None
        partition = int(key[2:])
        positions = orjson.loads(value)["positions"]
        for topic in names.inputs:
            assert positions[topic] == ends[(topic, partition)], (topic, partition)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    empty = tmp_path / "nothing.jsonl"
    empty.write_bytes(b"")
    with workers(settings, PROGRAM, 1, tmp_path, _env(settings), "next") as procs:
        await produce_file(settings, empty, marker)
        result = await watched(collect(settings, marker, WAIT_S), procs, tmp_path, "next")
    assert_equal_to_replay(tmp_path, result)


async def read_model_members(settings: Settings) -> int:
    """Members of the read model's consumer group once it is stable (0 while it rebalances)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group_id(settings)])
        _, _, state, _, _, members, *_ = response.groups[0]
        return len(members) if state == "Stable" else 0
    finally:
        await admin.close()


async def test_projection_workers_share_the_read_model_and_hand_it_over_when_one_stops(
    settings: Settings, tmp_path: Path
) -> None:
    """The read model's own consumer group (streams/projection_loop.py): a projection worker
    that joins shares the member-status partitions with a running one; the first stopped with
    SIGTERM while statuses still arrive hands its partitions over. Redis ends with every
    member's latest status, and the group's committed offsets reach the end of member-status
    (they are committed only after a batch is stored)."""
    settings = engine_settings(settings)
    events = workload(tmp_path, members=60, events=3000, seed=13, settle_nth=3)
    first_half, second_half = halves(events, tmp_path)
    await ensure_topics(settings)
    names = TopicNames(settings.namespace)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    engine = {**_env(settings), "LOYALTY_ROLE": "engine"}
    projection = {**_env(settings), "LOYALTY_ROLE": "projection"}
    with (
        workers(settings, PROGRAM, 1, tmp_path, engine, "engine") as procs,
        workers(settings, PROGRAM, 1, tmp_path, projection, "first") as first,
    ):
        await produce_file(settings, first_half, None)
        await wait_for_clocks(settings, 50, procs, tmp_path, "engine")
        with workers(settings, PROGRAM, 1, tmp_path, projection, "second") as second:
            for _ in range(200):
                if await read_model_members(settings) == 2:
                    break
                await asyncio.sleep(0.2)
            assert await read_model_members(settings) == 2
            await produce_file(settings, second_half, marker)
            first[0].send_signal(signal.SIGTERM)  # while statuses of the second half arrive
            assert first[0].wait(timeout=60) == 0  # a clean stop
            result = await watched(collect(settings, marker, WAIT_S), procs, tmp_path, "engine")
            await assert_redis_has(settings, result)
            assert all(p.poll() is None for p in [*procs, *second])
            ends = await end_offsets(settings.bootstrap_servers, [names.member_status])
            ends = {tp: end for tp, end in ends.items() if end}  # nothing to commit in empty ones
            for _ in range(100):
                committed = await committed_offsets(settings)
                if committed == ends:
                    break
                await asyncio.sleep(0.2)
            assert committed == ends
    assert_equal_to_replay(tmp_path, result)


async def committed_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id(settings))
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


async def test_a_worker_the_group_gave_up_on_writes_no_state_when_it_wakes(
    settings: Settings, tmp_path: Path
) -> None:
    """A zombie: the first worker is paused (SIGSTOP) past its session timeout while it has
    unwritten work, the second takes all its partitions and goes on, then the first wakes
    with timed checkpoints due. Its state must not land over the new owner's: in the
    changelog, every partition's runner positions only move forward. The result is still the
    replay's."""
    settings = engine_settings(settings)
    events = workload(tmp_path, members=60, events=3000, seed=17, settle_nth=3)
    await ensure_topics(settings)
    names = TopicNames(settings.namespace)
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    env = {
        **_env(settings),
        "LOYALTY_ROLE": "engine",
        "LOYALTY_METRICS_INTERVAL_S": "0.3",
        "LOYALTY_CHECKPOINT_INTERVAL_S": "0.5",
    }
    async with second_joins_mid_stream(settings, env, events, marker, tmp_path) as (first, second):
        first[0].send_signal(signal.SIGSTOP)  # in the middle of the second half
        try:

            def one_holds_all(records: list[Record]) -> bool:
                return any(
                    len({key.rsplit(":", 1)[1] for key in m["lag"]}) == settings.partitions
                    for m in _metrics(records).values()
                )

            await wait_on_ops(settings, one_holds_all, second, tmp_path, "second")
            result = await watched(collect(settings, marker, WAIT_S), second, tmp_path, "second")
        finally:
            first[0].send_signal(signal.SIGCONT)
        await asyncio.sleep(4)  # the zombie's timed checkpoints fall due (0.5 s apart)
    assert_equal_to_replay(tmp_path, result)
    await wait_stable(settings.bootstrap_servers, [names.member_state], 30)
    state = await read_all(settings.bootstrap_servers, [names.member_state], 30)
    runner_records = [r for r in state if r.key and r.key.startswith(b"r:") and r.value]
    assert len({r.key for r in runner_records}) == settings.partitions
    latest: dict[tuple[bytes, str], int] = {}
    for r in runner_records:  # in offset order per partition
        assert r.value is not None
        for topic, position in orjson.loads(r.value)["positions"].items():
            before = latest.get((r.key, topic), 0)
            assert position >= before, (r.key, topic, before, position)
            latest[(r.key, topic)] = position
