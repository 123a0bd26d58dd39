"""The read model's feed: `member-status` records into Redis, in batches, inside the Faust
worker (as the engine loop is).

Why not a Faust agent (measured, 2026-12-01): the `project-member-status` agent read its stream
with `stream.take(500, within=0.2)`, and in 1 of 14 `make demo` runs it stopped taking: its
group's committed offsets stayed below the end of `member-status` (73 of 85, 50 of 55, ...) and
26 of 60 members kept an older status in Redis for good, while the stream itself equalled the
replay. Faust's `take` hands records between its drainer and the agent through shared futures;
nothing in this project's code could make it resume. (Speed was not the reason; `make bench`
measured the worker +5% events per CPU second with this loop, the Redis writes being batched
already, projection.py.)

Here one `getmany` batch is decoded and stored in one call (the store is idempotent and keeps
the newest version per member), then its offsets are committed: delivery is at least once. A
rebalance or a stop between the two only makes the next owner store the batch again.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from pydantic import ValidationError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config import Settings
from schemas.status import MemberStatus
from streams import codec
from streams.projection import MemberProjection
from streams.topics import TopicNames

log = logging.getLogger(__name__)

MAX_RECORDS = 5_000  # a status record is ~250 bytes; Redis gets them 500 per script call
POLL_MS = 100
MAX_BACKOFF_S = 5.0
OUTAGES = (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError, BusyLoadingError)


def group_id(settings: Settings) -> str:
    """One group for every worker that projects (`--role all` or `projection`): together they
    share the member-status partitions, and each status is stored by one of them."""
    return f"{settings.namespace}.{settings.app_id}-read-model"


class ProjectionLoop:
    def __init__(self, settings: Settings, projection: MemberProjection) -> None:
        self.settings = settings
        self.projection = projection
        self.topic = TopicNames(settings.namespace).member_status
        self.consumer: Any = None
        self.stopping = False

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=group_id(self.settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            rebalance_timeout_ms=10_000,
        )
        await self.consumer.start()

    async def stop(self) -> None:
        """Leave the group (what was stored and not committed is stored again by the next
        owner: idempotent)."""
        self.stopping = True
        if self.consumer is not None:
            await self.consumer.stop()

    async def run(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            if self.stopping:  # e.g. the consumer stopped under a pending fetch
                return
            # As the engine loop does: say which part failed and exit, so the supervisor starts
            # a fresh worker; nothing is lost (offsets follow the store). (Left to Faust, the
            # worker would stop with 1 and a generic crash.)
            log.critical("the read model's feed failed: exiting", exc_info=True)
            logging.shutdown()
            os._exit(70)

    async def _run(self) -> None:
        while not self.stopping:
            batch = await self.consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
            if not batch:
                continue
            if not await self._store(self._decode(batch)):
                return  # stopping during an outage: nothing committed, redelivered later
            offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
            try:
                await self.consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                # Partitions moved while the batch was stored: their new owner stores it again.
                log.info("projection offsets not committed (%s); redelivered to the owner", exc)

    def _decode(self, batch: dict[TopicPartition, list[Any]]) -> list[MemberStatus]:
        statuses = []
        for tp, records in batch.items():
            for record in records:
                try:
                    statuses.append(codec.decode_status(record.value or b""))
                except ValidationError as exc:
                    # Our own topic: a bad record here is a bug upstream, not member input.
                    log.error(
                        "skipping undecodable member-status record %s[%d]@%d: %s",
                        tp.topic,
                        tp.partition,
                        record.offset,
                        exc,
                    )
        return statuses

    async def _store(self, statuses: list[MemberStatus]) -> bool:
        """Retry through a Redis outage: only the read model waits (the engine goes on), and
        the backlog is stored when Redis returns. False if the worker stops meanwhile."""
        backoff = 0.1
        while not self.stopping:
            try:
                await self.projection.apply(statuses)
                return True
            except OUTAGES as exc:
                log.warning("read model unavailable (%s); retrying in %.1fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        return False
