"""Producing accepted requests to Kafka: acks=all, idempotent producer, bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class KafkaUnavailable(Exception):
    """Kafka could not take the messages; the client gets 503 and retries."""


class Publisher:
    def __init__(self, bootstrap: str, timeout_s: float = 10.0) -> None:
        self.bootstrap = bootstrap
        self.timeout_s = timeout_s
        self._producer: Any = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> Any:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                from aiokafka import AIOKafkaProducer

                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=2,
                    request_timeout_ms=int(self.timeout_s * 1000),
                )
                try:
                    await asyncio.wait_for(producer.start(), self.timeout_s)
                except Exception as exc:
                    await _quietly_stop(producer)
                    raise KafkaUnavailable(f"Kafka at {self.bootstrap} is unreachable") from exc
                self._producer = producer
        return self._producer

    async def publish(self, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
        """Deliver every message or raise KafkaUnavailable. Event ids are deterministic, so a
        client retry after a 503 is absorbed by the engine even if part of a batch landed."""
        producer = await self._ensure()
        try:
            async with asyncio.timeout(self.timeout_s):
                await producer.client.fetch_all_metadata()  # fail fast before writing anything
                futures = [
                    await producer.send(topic, key=key, value=value) for key, value in messages
                ]
                await asyncio.gather(*futures)
        except Exception as exc:
            raise KafkaUnavailable(
                f"Kafka did not take the messages: {type(exc).__name__}"
            ) from exc

    async def ready(self) -> bool:
        try:
            producer = await self._ensure()
            async with asyncio.timeout(2):
                await producer.client.fetch_all_metadata()
            return True
        except Exception:
            return False

    async def close(self) -> None:
        if self._producer is not None:
            await _quietly_stop(self._producer)
            self._producer = None


async def _quietly_stop(producer: Any) -> None:
    with contextlib.suppress(Exception):
        await producer.stop()
