"""Redis-backed gateway state: idempotency keys, seen signatures (replay), rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# Token bucket: refill at `rate` per second up to `burst`; take one token or say how long to
# wait. Uses the server's clock so every gateway replica shares one bucket per key.
_TOKEN_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now_ms
tokens = math.min(burst, tokens + (now_ms - at) * rate / 1000)
local allowed, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now_ms)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait_ms}
"""


@dataclass(frozen=True)
class Stored:
    body_hash: str
    status: int
    response: dict[str, Any] | None  # None while the first request is still in flight


class GatewayStore:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._bucket = client.register_script(_TOKEN_BUCKET)

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    # -- idempotency ---------------------------------------------------------------------------
    def _idem(self, scope: str, key: str) -> str:
        return f"{self.prefix}:gw:idem:{scope}:{key}"

    async def claim(self, scope: str, key: str, body_hash: str, ttl_s: int) -> Stored | None:
        """Reserve the key for this request; returns what is stored if it was taken."""
        pending = orjson.dumps({"body_hash": body_hash, "status": 0, "response": None})
        if await self.client.set(self._idem(scope, key), pending, nx=True, ex=ttl_s):
            return None
        raw = await self.client.get(self._idem(scope, key))
        if raw is None:  # expired between the two calls: claim again
            return await self.claim(scope, key, body_hash, ttl_s)
        stored = orjson.loads(raw)
        return Stored(stored["body_hash"], stored["status"], stored["response"])

    async def complete(
        self,
        scope: str,
        key: str,
        body_hash: str,
        status: int,
        response: dict[str, Any],
        ttl_s: int,
    ) -> None:
        value = orjson.dumps({"body_hash": body_hash, "status": status, "response": response})
        await self.client.set(self._idem(scope, key), value, ex=ttl_s)

    async def release(self, scope: str, key: str) -> None:
        await self.client.delete(self._idem(scope, key))

    # -- replay ----------------------------------------------------------------------------------
    async def first_use(self, key_id: str, signature: str, ttl_s: int) -> bool:
        """True the first time a signature is seen inside its validity window."""
        return bool(
            await self.client.set(
                f"{self.prefix}:gw:sig:{key_id}:{signature}", b"1", nx=True, ex=ttl_s
            )
        )

    # -- rate limit ------------------------------------------------------------------------------
    async def take_token(self, key: str, rate: float, burst: int) -> tuple[bool, float]:
        allowed, wait_ms = await self._bucket(
            keys=[f"{self.prefix}:gw:rate:{key}"], args=[rate, burst]
        )
        return bool(allowed), int(wait_ms) / 1000

    # -- read model ------------------------------------------------------------------------------
    async def member(self, member_id: str) -> dict[str, str] | None:
        raw = await self.client.hgetall(f"{self.prefix}:member:{member_id}")
        if not raw:
            return None
        return {_text(k): _text(v) for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
