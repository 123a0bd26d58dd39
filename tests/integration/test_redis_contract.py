"""The Redis read model: the shared projection contract against real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from config import Settings
from streams.app import redis_projection
from streams.projection import MemberProjection, RedisMemberProjection
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
