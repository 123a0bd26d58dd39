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

    async def test_the_full_status_round_trips_and_a_newer_one_replaces_it_whole(self) -> None:
        projection = await self.make()
        full = MemberStatus(
            member_id="m9",
            points=480,
            version=7,
            last_event_id="e7",
            pending=20,
            tier="gold",
            class_code="SE-K",
            stage="maturity",
            qualifying={"qualifying_miles": 51000, "qualifying_segments": 40},
        )
        await projection.apply([full])
        assert await projection.get("m9") == full
        later = MemberStatus(member_id="m9", points=500, version=8, last_event_id="e8")
        await projection.apply([later])
        assert await projection.get("m9") == later

    async def test_any_text_and_integers_round_trip_exactly(self) -> None:
        # The Redis backend hands values to its script as JSON and Lua writes numbers back as
        # text: quotes, backslashes, non-ASCII text, negatives and large integers must survive.
        projection = await self.make()
        odd = MemberStatus(
            member_id='m-"ü\\中',
            points=-1_234_567,
            version=9_007_199_254_740_000,
            last_event_id="e-\u00e9\n",
            pending=0,
            tier="or/\u00e9",
            class_code="",
            stage="maturity",
            qualifying={"qualifying_miles": 2_147_483_648_000, "ü": -1},
        )
        assert await projection.apply([odd]) == 1
        assert await projection.get(odd.member_id) == odd
        assert await projection.apply([odd]) == 0
