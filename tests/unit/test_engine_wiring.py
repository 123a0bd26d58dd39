"""The one wiring place builds the loops a worker's role asks for (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from streams.app import app_id, create_engine
from streams.projection_loop import group_id

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("role", "engine_loop", "feed", "suffix"),
    [
        ("all", True, True, ""),
        ("engine", True, False, ""),
        ("projection", False, True, "-projection"),
    ],
)
def test_a_worker_runs_the_loops_of_its_role(
    tmp_path: Path, role: str, engine_loop: bool, feed: bool, suffix: str
) -> None:
    settings = Settings(
        state_dir=tmp_path, role=role, namespace="wiring", program=ROOT / "programs/airline.yaml"
    )
    engine = create_engine(settings)
    # The engine and the read model's feed are loops of their own (streams/engine_loop.py,
    # streams/projection_loop.py), not Faust agents; Faust's consumer would subscribe to
    # nothing, so no worker starts it.
    assert engine.app.agents == {}
    assert not engine.app.boot_strategy._should_enable_kafka_consumer()
    assert (engine.runners is not None) == engine_loop
    assert (engine.feed is not None) == feed
    # Every worker that projects is in one group: they share the member-status partitions.
    if engine.feed is not None:
        assert group_id(settings) == "wiring.loyalty-engine-read-model"
    assert app_id(settings) == f"wiring.loyalty-engine{suffix}"
    assert (tmp_path / "faust" / app_id(settings)).is_dir()
