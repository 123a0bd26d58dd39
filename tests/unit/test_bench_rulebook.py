"""`python -m bench.rulebook`: the rulebook alone, per input type, fastest of N runs."""

from __future__ import annotations

from pathlib import Path

from bench.rulebook import PROGRAM, measure, summary, table
from edge.program_file import load_program
from entrypoints.replay import ordered_inputs
from loyalty.book import Book
from workload.generator import Workload


def test_every_input_is_handled_once_per_run_and_counted_under_its_type(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(Workload(20, 400, 5, load_program(PROGRAM)).lines()))
    result = measure(events, PROGRAM, repeat=2)
    book = Book(load_program(PROGRAM))
    expected: dict[str, int] = {}
    for _, _, inp, _ in ordered_inputs(
        events.read_bytes().splitlines(), lambda c: book.clock_status(c) == "new"
    ):
        if inp is not None:
            expected[type(inp).__name__] = expected.get(type(inp).__name__, 0) + 1
    assert {name: count for name, (count, _) in result["by_type"].items()} == expected
    assert result["inputs"] == sum(expected.values()) > 0
    assert result["total"] >= sum(seconds for _, seconds in result["by_type"].values()) > 0
    assert all(name in table(result) for name in expected)


def test_the_summary_is_the_median_speed_up_and_fastest_against_fastest() -> None:
    median, fastest = summary([(2.0, 1.0), (3.0, 2.0), (1.2, 1.2)])
    assert median == 1.5
    assert fastest == 1.2 / 1.0
