"""The replay's heap policy (entrypoints/heap.py) freezes what is alive at each clock; that is
only safe while the rulebook makes no reference cycles, which would then wait for the next full
collection (run only once some collection has freed a cycle). These tests fail when a change
starts making cycles on the hot path, and pin when full collections run."""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.program_file import load_program
from entrypoints.heap import HeapPolicy
from entrypoints.replay import replay
from workload.generator import Workload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()


@pytest.mark.parametrize("program_name", ["airline", "retail"])
def test_a_replay_makes_no_reference_cycles(
    program_name: str, tmp_path: Path, saved_garbage: list[object]
) -> None:
    program = load_program(ROOT / "programs" / f"{program_name}.yaml")
    events = tmp_path / "events.jsonl"
    # Rejections (raised and caught), refunds, transfers and holds are all in the mix.
    events.write_bytes(b"".join(Workload(60, 4000, 3, program).lines()))
    summary = replay(events, program, tmp_path / "out", progress=False)
    assert summary.rejected > 0 and summary.applied > 3000
    gc.collect()
    kinds = Counter(type(o).__name__ for o in saved_garbage)
    assert not saved_garbage, f"cyclic garbage left by a replay: {kinds.most_common(8)}"


class _Node:
    other: object = None


def _cycle() -> weakref.ref[_Node]:
    node = _Node()
    node.other = node
    return weakref.ref(node)


def test_once_a_cycle_is_seen_the_policy_frees_frozen_cycles_at_its_full_collections() -> None:
    policy = HeapPolicy(full_every=2)
    try:
        young = _cycle()
        gc.collect()  # a collection frees a cycle: cycles are being made in this process
        assert young() is None and policy.cycles_seen
        gc.disable()  # no young collection may free the next cycle before the policy sees it
        alive = _cycle()
        policy.at_clock()  # frozen with everything else: out of the collector's sight
        gc.collect()
        assert alive() is not None
        policy.at_clock()  # every second clock: unfreeze and collect everything
        assert alive() is None
    finally:
        gc.enable()
        policy.close()
    assert gc.get_freeze_count() == 0


def test_without_cycles_no_full_collection_runs_and_a_frozen_one_is_freed_after_close() -> None:
    gc.collect()  # the garbage the test session left, freed before the policy watches
    full: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    policy = HeapPolicy(full_every=2)
    gc.callbacks.append(count)
    try:
        gc.disable()
        alive = _cycle()
        for _ in range(6):
            policy.at_clock()
        assert not policy.cycles_seen and not full  # nothing scanned the whole heap
        assert alive() is not None
    finally:
        gc.enable()
        gc.callbacks.remove(count)
        policy.close()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None  # late, not leaked


def test_the_policy_hands_the_collector_back_as_it_found_it() -> None:
    before = gc.get_threshold()
    policy = HeapPolicy()
    assert gc.get_threshold()[0] >= 100_000  # young collections rarer while it runs
    policy.at_clock()
    policy.close()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
