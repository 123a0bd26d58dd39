"""`python -m bench.instructions`: the valgrind command counts only `Book.handle` of the side's
compiled rulebook, and the count is read from callgrind's report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.baseline import BaselineError, Side
from bench.compiled import compiled_tree
from bench.instructions import (
    CACHE,
    ENTRY,
    collected,
    collected_events,
    command,
    count,
    simulate,
    simulated,
    whole_command,
)
from bench.workload import ROOT
from entrypoints.cli import main


def test_the_command_counts_only_the_book_of_the_sides_tree(tmp_path: Path) -> None:
    side = Side("rev", tmp_path / "project", tmp_path / "tree")
    cmd = command(side, tmp_path / "e.jsonl", tmp_path / "p.yaml", tmp_path / "out")
    assert cmd[:4] == [
        "valgrind",
        "--tool=callgrind",
        f"--toggle-collect={ENTRY}",
        f"--callgrind-out-file={tmp_path / 'out'}",
    ]
    code = cmd[-1]
    assert code.startswith(f"import sys; sys.path.insert(0, {str(tmp_path / 'tree')!r})")
    assert str(tmp_path / "project") in code and str(tmp_path / "e.jsonl") in code


def test_the_whole_command_replays_only_when_asked(tmp_path: Path) -> None:
    side = Side("rev", tmp_path / "project", tmp_path / "tree")
    args = (side, tmp_path / "e.jsonl", tmp_path / "p.yaml", tmp_path / "out")
    replays, starts = whole_command(*args, True), whole_command(*args, False)
    assert replays[:3] == ["valgrind", "--tool=callgrind", f"--callgrind-out-file={args[3]}"]
    assert "if True:" in replays[-1] and "if False:" in starts[-1]
    assert replays[:-1] == starts[:-1]


def test_the_count_is_read_from_callgrinds_report() -> None:
    report = "==1== Events    : Ir\n==1== Collected : 2807827302\n==1== I   refs: 2,807,827,302\n"
    assert collected(report) == 2_807_827_302
    with pytest.raises(BaselineError, match="no instruction count"):
        collected("==1== valgrind: command not found\n")


def test_the_cache_simulation_is_asked_only_with_cache(tmp_path: Path) -> None:
    side = Side("rev", tmp_path / "project", tmp_path / "tree")
    args = (side, tmp_path / "e.jsonl", tmp_path / "p.yaml", tmp_path / "out")
    assert not set(CACHE) & set(command(*args)) and set(CACHE) <= set(command(*args, cache=True))
    plain, simulating = whole_command(*args, True), whole_command(*args, True, cache=True)
    assert not set(CACHE) & set(plain) and set(CACHE) <= set(simulating)
    assert plain[-1] == simulating[-1]  # the same child either way


def test_every_simulated_event_is_read_and_summed_by_label() -> None:
    report = (
        "==1== Events    : Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim\n"
        "==1== Collected : 1000 400 200 30 20 10 3 7 5 100 9 50 4\n"
    )
    found = collected_events(report)
    assert found["Ir"] == 1000 and found["DLmw"] == 5 and len(found) == 13
    assert collected(report) == 1000
    assert simulated(found) == {
        "instructions": 1000,
        "L1 instruction misses": 30,
        "L1 data misses": 30,
        "L2 data misses": 12,
        "mispredicted branches": 13,
    }
    with pytest.raises(BaselineError, match="no instruction count"):
        collected_events("==1== Events    : Dr\n==1== Collected : 5\n")


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_a_small_workload_is_counted(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    programme = ROOT / "programs" / "airline.yaml"
    # 400 events, not 40: a whole replay's count is a replaying child's less a starting one's
    # (~1.2 billion instructions each), and 40 lines' replay (~3 million) was within what
    # start-up varied by once in a fresh clone (`whole` came out below `Book.handle` alone).
    args = ["--members", "20", "--events", "400", "--seed", "3", "--program", str(programme)]
    assert main(["generate", *args, "--out", str(events)]) == 0
    side = Side("this tree", ROOT, compiled_tree())
    instructions, inputs = count(side, events, programme)
    assert inputs > 0 and instructions > 1000 * inputs
    # A whole replay: every line read (received), and more work than the book's alone.
    whole, lines = count(side, events, programme, whole=True)
    assert lines == len(events.read_bytes().splitlines()) >= inputs
    assert whole > instructions
    # Simulated: the same instructions (one seed, same code), and misses of every kind.
    found, handled = simulate(side, events, programme)
    assert handled == inputs and abs(found["Ir"] - instructions) <= instructions // 200
    figures = simulated(found)
    assert all(figures[label] > 0 for label in figures), figures
    assert figures["L1 instruction misses"] < instructions
