from __future__ import annotations

from streams.projection import InMemoryMemberProjection, MemberProjection
from tests.unit.projection_contract import MemberProjectionContract


class TestInMemoryMemberProjection(MemberProjectionContract):
    async def make(self) -> MemberProjection:
        return InMemoryMemberProjection()
