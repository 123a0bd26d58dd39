"""`bench-core --baseline REV`: the revision's files as committed, the programme file taken from
the revision, and the ratio taken over alternating pairs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.baseline import BaselineError, alternate, checkout, program_in
from bench.workload import ROOT


def committed(rev: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, check=True
    ).stdout


def test_a_revision_is_extracted_as_committed(tmp_path: Path) -> None:
    folder = checkout("HEAD", into=tmp_path)
    for path in ("loyalty/book.py", "bench/compiled.py", "setup.py"):
        assert (folder / path).read_bytes() == committed("HEAD", path)
    assert checkout("HEAD", into=tmp_path) == folder  # extracted once


def test_an_unknown_revision_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="no-such-revision"):
        checkout("no-such-revision", into=tmp_path)


def test_the_programme_comes_from_the_revision(tmp_path: Path) -> None:
    assert program_in(tmp_path, ROOT / "programs" / "airline.yaml") == (
        tmp_path / "programs" / "airline.yaml"
    )
    outside = tmp_path / "mine.yaml"
    assert program_in(tmp_path / "rev", outside) == outside


def test_runs_alternate_and_the_ratio_is_the_median_of_the_pairs() -> None:
    calls: list[int] = []
    rates = iter([100.0, 110.0, 100.0, 150.0, 200.0, 180.0])

    def rate(side: int) -> float:
        calls.append(side)
        return next(rates)

    runs, ratio = alternate(rate, 3)
    assert calls == [0, 1, 0, 1, 0, 1]
    assert runs == [(100.0, 110.0), (100.0, 150.0), (200.0, 180.0)]
    assert ratio == pytest.approx(1.1)  # median of 1.1, 1.5 and 0.9
