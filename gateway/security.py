"""Who is calling, checked on the raw request before anything else is looked at."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request

from gateway import signing
from gateway.credentials import Credentials, Principal, Role
from gateway.stores import GatewayStore


class Refused(Exception):
    """A request answered with a 4xx (or 503) and a reason; never a stack trace."""

    def __init__(
        self, status: int, error: str, detail: object, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {error}")
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


@dataclass(frozen=True)
class Caller:
    principal: Principal
    body: bytes
    signature: str


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused early when it is larger than `limit` (header or actual bytes)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "bad_content_length", "Content-Length is not a number")
        if int(declared) > limit:
            raise Refused(413, "body_too_large", f"bodies are limited to {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body_too_large", f"bodies are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticate(
    request: Request,
    credentials: Credentials,
    store: GatewayStore,
    role: Role,
    limit: int,
    skew_s: int,
) -> Caller:
    key_id = request.headers.get(signing.KEY_ID, "")
    stamp = request.headers.get(signing.TIMESTAMP, "")
    given = request.headers.get(signing.SIGNATURE, "")
    if not key_id or not stamp or not given:
        raise Refused(
            401,
            "unauthenticated",
            "X-Loyalty-Key-Id, X-Loyalty-Timestamp and X-Loyalty-Signature are required",
        )
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refused(415, "unsupported_media_type", "send application/json")
    body = await read_body(request, limit)
    found = credentials.lookup(key_id)
    if not stamp.isdigit() or len(stamp) > 12:
        raise Refused(401, "bad_timestamp", "X-Loyalty-Timestamp must be Unix seconds")
    if abs(time.time() - int(stamp)) > skew_s:
        raise Refused(401, "stale_timestamp", f"the timestamp is more than {skew_s}s off")
    # Same work for unknown keys as for known ones, so key ids cannot be probed by timing.
    principal, secret = found if found else (None, "x" * 32)
    expected = signing.sign(secret, stamp, request.method, request.url.path, body)
    if not signing.matches(expected, given) or principal is None:
        raise Refused(401, "bad_signature", "the signature does not match this request")
    if principal.role is not role:
        raise Refused(403, "forbidden", f"this endpoint needs {role} credentials")
    return Caller(principal, body, given)


async def check_replay_and_rate(
    caller: Caller,
    store: GatewayStore,
    skew_s: int,
    rate: float,
    burst: int,
    idempotent_retry: bool,
) -> None:
    allowed, wait_s = await store.take_token(caller.principal.key_id, rate, burst)
    if not allowed:
        raise Refused(
            429,
            "rate_limited",
            f"too many requests; retry in {wait_s:.1f}s",
            {"Retry-After": str(max(1, int(wait_s + 0.999)))},
        )
    fresh = await store.first_use(caller.principal.key_id, caller.signature, 2 * skew_s + 60)
    if not fresh and not idempotent_retry:
        raise Refused(
            409,
            "replayed_request",
            "this exact signed request was already received; sign a new one "
            "(or send an Idempotency-Key to retry safely)",
        )
