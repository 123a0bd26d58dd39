"""Request signing: HMAC-SHA256 over the timestamp, method, path and the exact body.

    signature = hex(HMAC-SHA256(secret, f"{timestamp}\\n{METHOD}\\n{path}\\n".encode() + body))

sent as `X-Loyalty-Key-Id`, `X-Loyalty-Timestamp` (Unix seconds) and `X-Loyalty-Signature`.
Binding method and path stops a signed body from being replayed against another endpoint or
another partner's path.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_ID = "x-loyalty-key-id"
TIMESTAMP = "x-loyalty-timestamp"
SIGNATURE = "x-loyalty-signature"


def sign(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}\n{method.upper()}\n{path}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    key_id: str, secret: str, timestamp: int, method: str, path: str, body: bytes
) -> dict[str, str]:
    """Headers a client sends (used by tests and documented for partners)."""
    stamp = str(timestamp)
    return {
        KEY_ID: key_id,
        TIMESTAMP: stamp,
        SIGNATURE: sign(secret, stamp, method, path, body),
        "content-type": "application/json",
    }


def matches(expected: str, given: str) -> bool:
    """Constant-time comparison (a timing side channel must not reveal the signature)."""
    return hmac.compare_digest(expected.encode(), given.encode())
