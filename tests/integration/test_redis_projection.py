"""The Redis read model: the shared contract against real Redis, and catching up after an
outage while accrual carries on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config import Settings
from entrypoints.demo import sample_messages
from localinfra.process import free_port
from localinfra.redis_server import RedisServer
from streams.app import redis_projection
from streams.projection import MemberProjection, RedisMemberProjection
from streams.topic_reader import produce
from streams.topics import TopicNames, ensure_topics
from tests.integration.test_accrual_stream import expected_for, read_outputs, redis_view
from tests.integration.workers import running_worker
from tests.unit.projection_contract import MemberProjectionContract

pytestmark = pytest.mark.integration


class TestRedisMemberProjection(MemberProjectionContract):
    @pytest.fixture(autouse=True)
    async def _redis(self, infra_settings: Settings) -> AsyncIterator[None]:
        self.settings = infra_settings.model_copy(update={"namespace": f"t{uuid.uuid4().hex[:8]}"})
        self.made: list[RedisMemberProjection] = []
        yield
        for projection in self.made:
            await projection.client.aclose()

    async def make(self) -> MemberProjection:
        projection = redis_projection(self.settings)
        self.made.append(projection)
        return projection


async def test_accrual_goes_on_during_a_redis_outage_and_the_read_model_catches_up(
    settings: Settings, worker_env: dict[str, str], tmp_path: Path
) -> None:
    redis_settings = settings.model_copy(
        update={"state_dir": tmp_path / "own-redis", "redis_port": free_port()}
    )
    server = RedisServer(redis_settings)
    server.start()
    names = TopicNames(settings.namespace)
    await ensure_topics(settings)
    env = {**worker_env, "REDIS_URL": redis_settings.effective_redis_url}
    messages = [m for m in sample_messages() if m[1].startswith(b'{"event_id')][:40]
    try:
        with running_worker(env, tmp_path / "worker.log") as worker:
            await produce(settings.bootstrap_servers, names.purchases, messages[:10])
            first = expected_for(names, messages[:10], settings)
            await read_outputs(settings, first, 0)
            server.stop()
            # Redis is down: the status topic must still reach the full result.
            await produce(settings.bootstrap_servers, names.purchases, messages[10:])
            everything = expected_for(names, messages, settings)
            await read_outputs(settings, everything, 0)
            assert worker.poll() is None
            server.start()
            want = {m: (r["points"], r["version"]) for m, r in everything.members.items()}
            view_settings = settings.model_copy(
                update={"redis_url": redis_settings.effective_redis_url}
            )
            assert await redis_view(view_settings, want) == want
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
    finally:
        server.stop()
        await asyncio.sleep(0)
