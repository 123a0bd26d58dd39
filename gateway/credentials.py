"""Partner and service credentials, from a YAML or JSON file (`LOYALTY_GATEWAY_CREDENTIALS`).

    partners:
      hotel-co:
        - {key_id: hotel-co-2026, secret: "<random, >= 32 chars>"}
    services:
      booking:
        - {key_id: booking-1, secret: "<random, >= 32 chars>"}

Several keys per principal allow rotation. Secrets are held as `SecretStr`: never logged, never
returned, compared in constant time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Role(StrEnum):
    PARTNER = "partner"
    SERVICE = "service"


class KeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str = Field(min_length=3, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    secret: SecretStr = Field(min_length=32)


class CredentialsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partners: dict[str, list[KeyEntry]] = Field(default_factory=dict)
    services: dict[str, list[KeyEntry]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    role: Role
    name: str  # partner id or service name
    key_id: str


class Credentials:
    def __init__(self, data: CredentialsFile) -> None:
        self._keys: dict[str, tuple[Principal, SecretStr]] = {}
        for role, table in ((Role.PARTNER, data.partners), (Role.SERVICE, data.services)):
            for name, entries in table.items():
                for entry in entries:
                    if entry.key_id in self._keys:
                        raise ValueError(f"key id {entry.key_id} is used twice")
                    self._keys[entry.key_id] = (Principal(role, name, entry.key_id), entry.secret)

    @classmethod
    def load(cls, path: Path) -> Credentials:
        return cls(CredentialsFile.model_validate(yaml.safe_load(path.read_text()) or {}))

    def lookup(self, key_id: str) -> tuple[Principal, str] | None:
        found = self._keys.get(key_id)
        if found is None:
            return None
        principal, secret = found
        return principal, secret.get_secret_value()
