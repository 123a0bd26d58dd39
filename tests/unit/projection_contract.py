"""The contract every `MemberProjection` backend passes (subclassed once per backend)."""

from __future__ import annotations

from schemas.status import MemberStatus
from streams.projection import MemberProjection


def status(member: str, version: int, points: int) -> MemberStatus:
    return MemberStatus(
        member_id=member, points=points, version=version, last_event_id=f"e{version}"
    )


class MemberProjectionContract:
    async def make(self) -> MemberProjection:
        raise NotImplementedError

    async def test_an_unknown_member_is_absent(self) -> None:
        projection = await self.make()
        assert await projection.get("nobody") is None

    async def test_a_newer_version_replaces_the_stored_one(self) -> None:
        projection = await self.make()
        assert await projection.apply([status("m1", 1, 10)]) == 1
        assert await projection.apply([status("m1", 2, 25)]) == 1
        assert await projection.get("m1") == status("m1", 2, 25)

    async def test_a_stale_or_repeated_version_changes_nothing(self) -> None:
        projection = await self.make()
        await projection.apply([status("m1", 5, 50)])
        assert await projection.apply([status("m1", 5, 99), status("m1", 3, 30)]) == 0
        assert await projection.get("m1") == status("m1", 5, 50)

    async def test_a_batch_keeps_the_newest_per_member_whatever_its_order(self) -> None:
        projection = await self.make()
        await projection.apply([status("m1", 3, 30), status("m2", 1, 5), status("m1", 2, 20)])
        assert await projection.get("m1") == status("m1", 3, 30)
        assert await projection.get("m2") == status("m2", 1, 5)

    async def test_an_empty_batch_stores_nothing(self) -> None:
        projection = await self.make()
        assert await projection.apply([]) == 0
