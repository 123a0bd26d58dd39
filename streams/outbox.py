"""Records gathered per topic-partition into aiokafka batches, handed over in order (the engine
loop's outputs, and each partition's state transaction in streams/state_writer.py)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class Outbox:
    """Records gathered per topic-partition into aiokafka batches: one future per batch
    instead of one per record. Measured: `producer.send` per record (its future, its
    metadata tuple, its `done` callback) was 17% of the worker's time (py-spy, 2026-12-01).

    aiokafka takes a partition's next batch only when the one before has left for the broker
    (`send_batch` waits), so each partition has a drain task handing its batches over in
    order while the loop goes on adding: what gathers during one round trip is the next
    batch, as in the producer's own `send`."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self.batches: dict[tuple[str, int], deque[Any]] = {}  # full ones first, the open last
        self.draining: dict[tuple[str, int], asyncio.Task[None]] = {}
        self.failed: Exception | None = None

    def add(self, topic: str, partition: int, key: bytes | None, value: bytes) -> None:
        queue = self.batches.get((topic, partition))
        if queue is None:
            queue = self.batches[(topic, partition)] = deque()
        if not queue or queue[-1].append(key=key, value=value, timestamp=None) is None:
            batch = self.producer.create_batch()
            # An empty batch takes any record (up to the producer's max_request_size).
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"a record of {len(value)} bytes for {topic} is too large")
            queue.append(batch)

    def submit(self) -> None:
        """Start handing over what was added (it leaves after the producer's linger)."""
        if self.failed is not None:
            raise self.failed
        for tp, queue in self.batches.items():
            if queue and tp not in self.draining:
                self.draining[tp] = asyncio.ensure_future(self._drain(tp, queue))

    async def _drain(self, tp: tuple[str, int], queue: deque[Any]) -> None:
        topic, partition = tp
        try:
            while queue:
                batch = queue.popleft()
                future = await self.producer.send_batch(batch, topic, partition=partition)
                future.add_done_callback(self._delivered)
        except Exception as exc:  # the loop sees it at its next submit or flush
            self.failed = exc
            raise
        finally:
            del self.draining[tp]

    def _delivered(self, future: asyncio.Future[Any]) -> None:
        # A batch the producer gave up on (after its retries) must not pass silently: the
        # state written after it would make its outputs unrepeatable. The loop fails at its
        # next submit or flush, and the next worker replays since the last checkpoint.
        if not future.cancelled() and future.exception() is not None and self.failed is None:
            self.failed = future.exception()  # type: ignore[assignment]

    async def flush(self) -> None:
        """Until everything added so far is acknowledged by the broker."""
        self.submit()
        while self.draining:
            await asyncio.gather(*self.draining.values(), return_exceptions=True)
        if self.failed is not None:
            raise self.failed
        await self.producer.flush()
        await asyncio.sleep(0)  # the delivery callbacks of the batches just acknowledged
        if self.failed is not None:
            raise self.failed
