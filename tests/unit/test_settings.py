from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config import BrokerMode, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LOYALTY_") or name == "REDIS_URL":
            monkeypatch.delenv(name)


def test_defaults_avoid_the_usual_kafka_and_redis_ports() -> None:
    settings = Settings()
    assert settings.broker is BrokerMode.AUTO
    assert settings.kafka_port not in {9092, 9093} and settings.redis_port != 6379
    assert settings.bootstrap_servers == f"127.0.0.1:{settings.kafka_port}"
    assert settings.effective_redis_url == f"redis://127.0.0.1:{settings.redis_port}/0"


def test_external_kafka_and_redis_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOYALTY_KAFKA_BOOTSTRAP", "broker-1:9092,broker-2:9092")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/3")
    monkeypatch.setenv("LOYALTY_BROKER", "kafka")
    monkeypatch.setenv("LOYALTY_STATE_DIR", "/tmp/x")
    settings = Settings()
    assert settings.bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert settings.effective_redis_url == "redis://cache:6379/3"
    assert settings.broker is BrokerMode.KAFKA and settings.state_dir == Path("/tmp/x")


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOYALTY_BROKER", "docker"), ("LOYALTY_KAFKA_PORT", "70000"), ("LOYALTY_NAMESPACE", "a b")],
)
def test_bad_values_are_refused_with_the_field_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("LOYALTY_").lower()):
        Settings()


def test_workers_run_every_agent_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().role == "all"
    monkeypatch.setenv("LOYALTY_ROLE", "projection")
    assert Settings().role == "projection"
    monkeypatch.setenv("LOYALTY_ROLE", "everything")
    with pytest.raises(ValidationError):
        Settings()
