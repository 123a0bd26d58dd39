"""A partition's member-state records, written in Kafka transactions.

The writer of partition p has the transactional id `<runners group>-state-<p>`, the same in
every worker. Starting it (InitProducerId) bumps the id's epoch: the broker aborts any
transaction an earlier holder left open and refuses every later write of that holder. So a
worker the group gave up on (paused past its session timeout) cannot write older states over
its partitions' new owner, whatever instant it wakes at: its next transaction fails with
`ProducerFenced`. Readers of the changelog read committed records only.

Measured reason (tests/integration/test_engine_stream.py, the zombie test): with the group
generation checked by an offset commit just before each write, the paused worker still wrote
a stale checkpoint in 1 of 3 runs (it was paused between the check and the write).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, ProducerFenced

from streams.outbox import Outbox
from streams.topics import STATE_RECORD_BYTES


class Fenced(Exception):
    """Another worker holds these partitions now: their state must not be written."""

    def __init__(self, partitions: set[int]) -> None:
        super().__init__(f"partitions {sorted(partitions)} are no longer held")
        self.partitions = partitions


class StateWriter:
    """`transactional_id` None: plain writes, unfenced (a broker without transactions)."""

    def __init__(
        self, bootstrap: str, topic: str, partition: int, transactional_id: str | None
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.transactional = transactional_id is not None
        self.producer: Any = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            transactional_id=transactional_id,
            acks="all",
            max_request_size=STATE_RECORD_BYTES,
            max_batch_size=512 * 1024,
            linger_ms=0,
        )

    async def start(self) -> None:
        """Fences every earlier writer of this partition (see the module docstring)."""
        await asyncio.wait_for(self.producer.start(), 60)

    async def write(self, records: list[tuple[bytes | None, bytes]]) -> None:
        """One transaction: all the records, or (on any failure) none of them."""
        producer = self.producer
        if not self.transactional:
            await self._send_all(records)
            return
        try:
            await producer.begin_transaction()
            try:
                await self._send_all(records)
            except ProducerFenced:
                raise
            except BaseException:
                await _quietly(producer.abort_transaction())
                raise
            await producer.commit_transaction()
        except ProducerFenced as exc:
            raise Fenced({self.partition}) from exc

    async def _send_all(self, records: list[tuple[bytes | None, bytes]]) -> None:
        outbox = Outbox(self.producer)
        for key, value in records:
            outbox.add(self.topic, self.partition, key, value)
        await outbox.flush()

    async def stop(self) -> None:
        await _quietly(self.producer.stop())


async def _quietly(work: Any) -> None:
    with contextlib.suppress(KafkaError, ProducerFenced):
        await work
