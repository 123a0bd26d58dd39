"""The read model's feed (streams/projection_loop.py) in a real worker: a failure that is not a
Redis outage ends the process with the engine loop's exit code (70) and says which part failed,
so a supervisor restarts it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from config import Settings
from entrypoints.verify_stream import workers
from schemas.status import MemberStatus
from streams.app import redis_projection
from streams.topic_reader import produce
from streams.topics import TopicNames, ensure_topics

pytestmark = pytest.mark.integration
PROGRAM = Path(__file__).resolve().parents[2] / "programs" / "airline.yaml"


async def test_a_feed_that_cannot_store_exits_the_worker(
    settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(settings)
    projection = redis_projection(settings)
    try:
        # Not a hash: Redis answers the feed's script with WRONGTYPE, which no retry mends.
        await projection.client.set(projection.key("M1"), "something else")
    finally:
        await projection.client.aclose()
    status = MemberStatus(member_id="M1", points=10, version=1, last_event_id="e1")
    await produce(
        settings.bootstrap_servers,
        TopicNames(settings.namespace).member_status,
        [(b"M1", status.model_dump_json().encode())],
    )
    env = {"LOYALTY_ROLE": "projection"}
    with workers(settings, PROGRAM, 1, tmp_path, env, "projection") as procs:
        assert await asyncio.to_thread(procs[0].wait, 60) == 70
    assert "the read model's feed failed" in (tmp_path / "projection-0.log").read_text()
