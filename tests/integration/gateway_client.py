"""A signing client for the gateway tests."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from gateway.signing import signed_headers

PARTNER_KEYS = {
    "hotel-co": ("hotel-key-1", "hotel-secret-0123456789-0123456789-abcdef"),
    "car-co": ("car-key-1", "car-secret-0123456789-0123456789-abcdefghij"),
}
SERVICE_KEY = ("booking-key-1", "booking-secret-0123456789-0123456789-abcd")
CREDENTIALS = {
    "partners": {name: [{"key_id": k, "secret": s}] for name, (k, s) in PARTNER_KEYS.items()},
    "services": {"booking": [{"key_id": SERVICE_KEY[0], "secret": SERVICE_KEY[1]}]},
}


class Signer:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: tuple[str, str] = PARTNER_KEYS["hotel-co"],
        skew: int = 0,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        content = raw if raw is not None else (b"" if body is None else orjson.dumps(body))
        sent = signed_headers(key[0], key[1], int(time.time()) + skew, method, path, content)
        if signature is not None:
            sent["x-loyalty-signature"] = signature
        sent.update(headers or {})
        return await self.client.request(method, path, content=content, headers=sent)

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, body, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, None, **kw)
