"""Local infrastructure started by the project: `loyalty infra up | down | status`.

Test fixtures and `make demo` use the same functions, so what a developer runs by hand is what
the tests run against.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from config import BrokerMode, Settings
from localinfra.kafka import KafkaBroker, metadata_ok, pinned_version
from localinfra.process import InfraError
from localinfra.redis_server import RedisServer, ping, redis_version
from localinfra.tansu import LIMITS_WARNING, TansuBroker

__all__ = ["InfraError", "InfraStatus", "down", "resolve_broker_mode", "status", "up"]


@dataclass(frozen=True)
class InfraStatus:
    broker: str  # "kafka", "embedded", "external" or "stopped"
    broker_detail: str
    bootstrap: str
    broker_up: bool
    redis: str  # "local", "external" or "stopped"
    redis_detail: str
    redis_url: str
    redis_up: bool

    def lines(self) -> list[str]:
        return [
            f"broker: {self.broker:<9} {'up' if self.broker_up else 'down':<5}"
            f"{self.bootstrap}  {self.broker_detail}",
            f"redis:  {self.redis:<9} {'up' if self.redis_up else 'down':<5}"
            f"{self.redis_url}  {self.redis_detail}",
        ]


def resolve_broker_mode(settings: Settings) -> BrokerMode:
    has_jvm = shutil.which("java") is not None and shutil.which("mvn") is not None
    if settings.broker is BrokerMode.KAFKA and not has_jvm:
        missing = "java" if shutil.which("java") is None else "mvn"
        raise InfraError(f"LOYALTY_BROKER=kafka but {missing} is not on PATH")
    if settings.broker is BrokerMode.AUTO:
        return BrokerMode.KAFKA if has_jvm else BrokerMode.EMBEDDED
    return settings.broker


def up(settings: Settings) -> InfraStatus:
    """Start whatever is not external and not running yet; idempotent."""
    if settings.kafka_bootstrap is None:
        if resolve_broker_mode(settings) is BrokerMode.KAFKA:
            KafkaBroker(settings).start()
        else:
            print(LIMITS_WARNING)
            TansuBroker(settings).start()
    elif not metadata_ok(settings.kafka_bootstrap):
        raise InfraError(f"external Kafka at {settings.kafka_bootstrap} does not answer")
    if settings.redis_url is None:
        RedisServer(settings).start()
    return status(settings)


def down(settings: Settings) -> list[str]:
    """Stop every process `up` started (whatever the broker mode now); returns what stopped."""
    stopped = []
    for name, component in (
        ("redis", RedisServer(settings)),
        ("kafka", KafkaBroker(settings)),
        ("embedded broker", TansuBroker(settings)),
    ):
        if component.stop():
            stopped.append(name)
    return stopped


def status(settings: Settings) -> InfraStatus:
    kafka, tansu = KafkaBroker(settings), TansuBroker(settings)
    if settings.kafka_bootstrap is not None:
        broker, detail = "external", ""
    elif kafka.process.pid() is not None:
        broker, detail = "kafka", f"Apache Kafka {kafka.running_version() or pinned_version()}"
    elif tansu.process.pid() is not None:
        broker, detail = "embedded", "Tansu (memory only)"
    else:
        broker, detail = "stopped", ""
    broker_up = broker != "stopped" and metadata_ok(settings.bootstrap_servers)

    redis = RedisServer(settings)
    if settings.redis_url is not None:
        redis_kind = "external"
        redis_up = True  # reachability of an external URL is the app's concern (readyz)
        redis_detail = ""
    else:
        running = redis.process.pid() is not None
        redis_kind = "local" if running else "stopped"
        redis_up = running and ping("127.0.0.1", settings.redis_port)
        version = redis_version("127.0.0.1", settings.redis_port) if redis_up else None
        redis_detail = f"Redis {version}" if version else ""
    return InfraStatus(
        broker,
        detail,
        settings.bootstrap_servers,
        broker_up,
        redis_kind,
        redis_detail,
        settings.effective_redis_url,
        redis_up,
    )
