"""The one wiring place builds the agents a worker's role asks for (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from streams.app import app_id, create_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("role", "agents", "suffix"),
    [
        ("all", {"project-member-status"}, ""),
        ("engine", set(), ""),
        ("projection", {"project-member-status"}, "-projection"),
    ],
)
def test_a_worker_runs_the_agents_of_its_role(
    tmp_path: Path, role: str, agents: set[str], suffix: str
) -> None:
    settings = Settings(
        state_dir=tmp_path, role=role, namespace="wiring", program=ROOT / "programs/airline.yaml"
    )
    engine = create_engine(settings)
    names = {agent.name.rsplit(".", 1)[-1] for agent in engine.app.agents.values()}
    assert names == agents
    # The engine is a loop of its own (streams/engine_loop.py), not a Faust agent; an
    # engine-only worker does not start Faust's consumer, which would subscribe to nothing.
    assert (engine.runners is not None) == (role != "projection")
    assert engine.app.boot_strategy._should_enable_kafka_consumer() == (role != "engine")
    # The projection is a consumer group of its own.
    assert app_id(settings) == f"wiring.loyalty-engine{suffix}"
    assert (tmp_path / "faust" / app_id(settings)).is_dir()
