"""The member read model that booking systems and partners query.

Port: `MemberProjection`. Backends: `RedisMemberProjection` (production) and
`InMemoryMemberProjection` (unit tests); both pass the same contract tests.
Updates are idempotent and monotone: a status whose version is not newer than the stored one
changes nothing, so redelivered or reordered status records can never roll a member back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import orjson

from schemas.status import MemberStatus

# One call per batch: KEYS are the members' hashes, ARGV[i] the JSON array of KEYS[i]'s
# version and field/value pairs (`hash_fields`). Each hash is replaced whole unless it holds
# the same or a newer version, so a field the newer status no longer has (e.g. pending back to
# none) does not linger. Measured: one `EVALSHA` per member with its ~20 arguments cost ~24 us
# per status, nearly all in redis-py packing the arguments in Python; one argument per member
# (encoded by orjson) and one call per batch leaves the work to Redis (its Lua cjson).
# Lua numbers reach `HSET` as their shortest decimal text, the same text as Python's `str`
# for the integers stored here (all far below 2^53).
_SET_IF_NEWER = """
local stored = 0
for i, key in ipairs(KEYS) do
  local fields = cjson.decode(ARGV[i])
  local current = redis.call('HGET', key, 'version')
  if not (current and tonumber(current) >= fields[1]) then
    redis.call('DEL', key)
    redis.call('HSET', key, 'version', unpack(fields))
    stored = stored + 1
  end
end
return stored
"""
# Members per call: a script holds Redis for its duration (~1-2 ms per hundred members).
SCRIPT_BATCH = 500

# The read model's hash fields; the gateway's member lookup reads the same names.
QUALIFYING_PREFIX = "q:"


def hash_fields(status: MemberStatus) -> list[str | int]:
    """Field/value pairs after the version (ARGV[2:])."""
    fields: list[str | int] = [
        status.version,
        "points",
        status.points,
        "last_event_id",
        status.last_event_id or "",
        "held",
        status.held,
        "in_flight",
        status.in_flight,
    ]
    for name in ("pending", "tier", "class_code", "stage"):
        value = getattr(status, name)
        if value is not None:
            fields += [name, value]
    for currency, amount in sorted(status.qualifying.items()):
        fields += [QUALIFYING_PREFIX + currency, amount]
    return fields


def from_hash(member_id: str, fields: dict[str, str]) -> MemberStatus:
    return MemberStatus(
        member_id=member_id,
        points=int(fields["points"]),
        version=int(fields["version"]),
        last_event_id=fields.get("last_event_id") or None,
        pending=int(fields["pending"]) if "pending" in fields else None,
        tier=fields.get("tier"),
        class_code=fields.get("class_code"),
        stage=fields.get("stage"),
        held=int(fields.get("held", 0)),
        in_flight=int(fields.get("in_flight", 0)),
        qualifying={
            k.removeprefix(QUALIFYING_PREFIX): int(v)
            for k, v in fields.items()
            if k.startswith(QUALIFYING_PREFIX)
        },
    )


class MemberProjection(Protocol):
    async def apply(self, statuses: Sequence[MemberStatus]) -> int:
        """Store each status unless a newer version is stored; returns how many were stored."""

    async def get(self, member_id: str) -> MemberStatus | None:
        """The stored status of one member, or None if unknown."""


def newest_per_member(statuses: Iterable[MemberStatus]) -> list[MemberStatus]:
    newest: dict[str, MemberStatus] = {}
    for status in statuses:
        held = newest.get(status.member_id)
        if held is None or status.version > held.version:
            newest[status.member_id] = status
    return list(newest.values())


class InMemoryMemberProjection:
    def __init__(self) -> None:
        self.members: dict[str, MemberStatus] = {}

    async def apply(self, statuses: Sequence[MemberStatus]) -> int:
        stored = 0
        for status in newest_per_member(statuses):
            held = self.members.get(status.member_id)
            if held is None or status.version > held.version:
                self.members[status.member_id] = status
                stored += 1
        return stored

    async def get(self, member_id: str) -> MemberStatus | None:
        return self.members.get(member_id)


class RedisMemberProjection:
    """One hash per member at `<prefix>:member:<id>`, written by a compare-and-set script."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_SET_IF_NEWER)

    def key(self, member_id: str) -> str:
        return f"{self.prefix}:member:{member_id}"

    async def apply(self, statuses: Sequence[MemberStatus]) -> int:
        batch = newest_per_member(statuses)
        stored = 0
        for start in range(0, len(batch), SCRIPT_BATCH):
            chunk = batch[start : start + SCRIPT_BATCH]
            stored += int(
                await self._script(
                    keys=[self.key(status.member_id) for status in chunk],
                    args=[orjson.dumps(hash_fields(status)) for status in chunk],
                )
            )
        return stored

    async def get(self, member_id: str) -> MemberStatus | None:
        raw = await self.client.hgetall(self.key(member_id))
        if not raw:
            return None
        return from_hash(member_id, {_text(k): _text(v) for k, v in raw.items()})


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
