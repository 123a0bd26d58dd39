"""Shared fixtures. Integration tests get one Kafka broker and one Redis server for the whole
test session, started by the project's own `localinfra` (the code behind `loyalty infra up`)
on free ports under a temporary state directory, and stopped at the end.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

import localinfra
from config import Settings
from localinfra.process import free_port

_FACTS: dict[str, str] = {}

# Property tests judge behaviour, not speed: no per-example deadline (a busy CI machine would
# otherwise fail them at random), and a fixed derandomised run in CI.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session: pytest.Session) -> None:
    # A CI time-out sends SIGTERM: turn it into an interrupt so session fixtures still stop
    # the Kafka and Redis processes they started.
    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def infra_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(
        state_dir=tmp_path_factory.mktemp("loyalty-state"),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        redis_port=free_port(),
        partitions=4,
    )
    state = localinfra.up(settings)
    _FACTS["broker"] = f"{state.broker} {state.broker_detail}".strip()
    _FACTS["redis"] = f"{state.redis} {state.redis_detail}".strip()
    try:
        yield settings
    finally:
        localinfra.down(settings)


@pytest.fixture
def settings(infra_settings: Settings) -> Settings:
    """Settings with a unique namespace: topics, consumer group and Redis keys of their own."""
    return infra_settings.model_copy(update={"namespace": f"t{uuid.uuid4().hex[:10]}"})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FACTS:
        terminalreporter.write_line(
            f"integration tests ran against broker: {_FACTS['broker']}; redis: {_FACTS['redis']}"
        )
