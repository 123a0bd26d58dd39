"""The walking skeleton end to end: purchases in real Kafka -> worker -> status topic -> Redis,
equal to the offline replay of the same messages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from config import Settings
from entrypoints.demo import sample_messages
from streams import codec
from streams.app import redis_projection
from streams.handlers import ReplayResult, Source, replay_purchases
from streams.topic_reader import Record, produce, read_until
from streams.topics import TopicNames, ensure_topics
from tests.integration.workers import running_worker, stop_worker

pytestmark = pytest.mark.integration
WAIT_S = 120.0


def latest_status(records: list[Record], topic: str) -> dict[str, tuple[int, int]]:
    latest: dict[str, tuple[int, int]] = {}
    for r in records:
        if r.topic == topic and r.value is not None:
            s = codec.decode_status(r.value)
            if s.version > latest.get(s.member_id, (0, -1))[1]:
                latest[s.member_id] = (s.points, s.version)
    return latest


def expected_for(
    names: TopicNames, messages: list[tuple[bytes | None, bytes]], settings: Settings
) -> ReplayResult:
    sources = [Source(names.purchases, 0, i, k, v) for i, (k, v) in enumerate(messages)]
    return replay_purchases(sources, settings.points_per_unit)


async def read_outputs(settings: Settings, expected: ReplayResult, side: int) -> list[Record]:
    names = TopicNames(settings.namespace)

    def done(records: list[Record]) -> bool:
        latest = latest_status(records, names.member_status)
        want = {m: (r["points"], r["version"]) for m, r in expected.members.items()}
        other = sum(1 for r in records if r.topic in (names.ops, names.dead_letters))
        return latest == want and other >= side

    return await read_until(
        settings.bootstrap_servers,
        [names.member_status, names.ops, names.dead_letters],
        done,
        WAIT_S,
    )


async def redis_view(
    settings: Settings, want: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    """The Redis read model of `want`'s members, once it has caught up (or after 30 s)."""
    projection = redis_projection(settings)
    view: dict[str, tuple[int, int]] = {}
    try:
        for _ in range(150):
            for member in want:
                stored = await projection.get(member)
                if stored is not None:
                    view[member] = (stored.points, stored.version)
            if view == want:
                break
            await asyncio.sleep(0.2)
    finally:
        await projection.client.aclose()
    return view


async def test_stream_balances_equal_offline_replay_and_reach_redis(
    settings: Settings, worker_env: dict[str, str], tmp_path: Path
) -> None:
    names = TopicNames(settings.namespace)
    await ensure_topics(settings)
    messages = sample_messages()
    expected = expected_for(names, messages, settings)
    with running_worker(worker_env, tmp_path / "worker.log") as worker:
        await produce(settings.bootstrap_servers, names.purchases, messages)
        side = (
            expected.counts["duplicate"]
            + expected.counts["rejected"]
            + expected.counts["dead_letter"]
        )
        records = await read_outputs(settings, expected, side)
        latest = latest_status(records, names.member_status)
        assert await redis_view(settings, latest) == latest
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()

    assert latest == {m: (r["points"], r["version"]) for m, r in expected.members.items()}
    ops = [orjson.loads(r.value or b"") for r in records if r.topic == names.ops]
    dead = [orjson.loads(r.value or b"") for r in records if r.topic == names.dead_letters]
    assert sorted(o["code"] for o in ops) == ["duplicate_event", "duplicate_event"]
    assert len(dead) == 2 and all(d["error"] and d["source_topic"] == names.purchases for d in dead)
    applied = sum(version for _, version in latest.values())
    assert len(messages) == applied + len(ops) + len(dead)


async def test_state_survives_a_worker_restart_and_redelivery_changes_nothing(
    settings: Settings, worker_env: dict[str, str], tmp_path: Path
) -> None:
    names = TopicNames(settings.namespace)
    await ensure_topics(settings)
    messages = [m for m in sample_messages() if m[1].startswith(b'{"event_id')][:40]
    first, second = messages[:20], messages[20:]
    log = tmp_path / "worker.log"
    with running_worker(worker_env, log) as worker:
        await produce(settings.bootstrap_servers, names.purchases, first)
        await read_outputs(settings, expected_for(names, first, settings), 0)
        stop_worker(worker)
    # The new worker must restore balances and seen event ids from the table changelog:
    # it gets the first half again (a redelivery) and then the second half.
    with running_worker(worker_env, log) as worker:
        await produce(settings.bootstrap_servers, names.purchases, first + second)
        expected = expected_for(names, first + first + second, settings)
        records = await read_outputs(settings, expected, expected.counts["duplicate"])
        assert worker.poll() is None, log.read_text()
    assert expected.counts["duplicate"] == len(first)
    assert latest_status(records, names.member_status) == {
        m: (r["points"], r["version"]) for m, r in expected.members.items()
    }
