"""docker-compose.yml cannot be run here (no Docker engine), so its shape is checked against
the application's own settings and the pinned broker version."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import Settings
from localinfra.kafka import pinned_version

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def engine_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(__import__("os").environ):
        if name.startswith("LOYALTY_") or name == "REDIS_URL":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def test_it_has_kafka_redis_topic_setup_and_a_scalable_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "redis", "topics", "worker", "projection", "gateway", "clock"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "ports" not in services["worker"], "a fixed host port would stop --scale"
    assert services["worker"]["command"] == ["loyalty", "worker", "--role", "engine"]
    assert services["projection"]["command"] == ["loyalty", "worker", "--role", "projection"]


def test_the_broker_image_is_the_pinned_apache_kafka_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{pinned_version()}"
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_every_engine_variable_is_a_setting_and_points_at_the_services(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = compose["services"]["worker"]["environment"]
    known = {f"LOYALTY_{name.upper()}" for name in Settings.model_fields} | {"REDIS_URL"}
    assert set(env) <= known, f"unknown variables: {set(env) - known}"
    settings = engine_settings(env, monkeypatch)
    host, port = settings.bootstrap_servers.split(":")
    kafka_env = compose["services"]["kafka"]["environment"]
    assert (
        host == "kafka" and f"PLAINTEXT://{host}:{port}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    )
    assert settings.effective_redis_url.startswith("redis://redis:6379")
    assert compose["services"]["topics"]["environment"] == env


def test_host_ports_match_the_local_defaults(compose: dict[str, Any]) -> None:
    defaults = Settings.model_fields
    assert f"{defaults['kafka_port'].default}:39092" in compose["services"]["kafka"]["ports"]
    assert f"{defaults['redis_port'].default}:6379" in compose["services"]["redis"]["ports"]


def test_the_image_contains_every_package(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [pattern.rstrip("*") for pattern in included]
    assert "loyalty" in packages and "edge" in packages
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile
    # The image runs the compiled rulebook (setup.py; checked equal to the source by
    # tests/integration/test_compiled_core.py).
    assert "COPY pyproject.toml setup.py README.md" in dockerfile
    assert "LOYALTY_COMPILE=1 pip wheel" in dockerfile


def test_the_gateway_shares_the_engine_settings_and_gets_its_credentials_as_a_secret(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = compose["services"]["gateway"]
    worker_env = compose["services"]["worker"]["environment"]
    assert {k: v for k, v in gateway["environment"].items() if k in worker_env} == worker_env
    settings = engine_settings(gateway["environment"], monkeypatch)
    assert f"{settings.gateway_port}:{settings.gateway_port}" in gateway["ports"]
    assert str(settings.gateway_credentials).startswith("/run/secrets/")
    assert gateway["command"] == ["loyalty", "gateway"]


def test_one_clock_ticks_every_few_seconds(compose: dict[str, Any]) -> None:
    """Without ticks nothing is applied (tests/integration/test_compose_topology.py runs the
    topology and checks an input is); ticks belong to the deployment, not to a worker."""
    clock = compose["services"]["clock"]
    argv = clock["command"]
    assert argv[:2] == ["loyalty", "clock"]
    assert float(argv[argv.index("--every") + 1]) <= 5
    assert clock["deploy"]["replicas"] == 1
    assert clock["environment"] == compose["services"]["worker"]["environment"]
