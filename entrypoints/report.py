"""`loyalty report grades EVENTS.jsonl --program P.yaml --out DIR`: the grading of every
segment in every completed grading period: members per band, thresholds and the Pareto share
(share of the volume carried by the top 20% of members), as JSON and as a table."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from entrypoints.replay import ordered_outcomes
from loyalty.book import Book, GradingResult
from loyalty.grading import band_for, pareto_share
from loyalty.program import Program
from loyalty.program_status import Grading


def grade_rows(program: Program, events: Path) -> list[dict[str, Any]]:
    grading = program.grading
    if grading is None:
        raise ValueError(f"programme {program.name} defines no grading")
    book = Book(program)
    with events.open("rb") as source:
        for _ in ordered_outcomes(book, source):
            pass  # the book records each grading as it happens
    return [_row(grading, result) for result in book.gradings]


def _row(grading: Grading, result: GradingResult) -> dict[str, Any]:
    members = sum(result.histogram.values())
    ranked = members >= grading.min_segment_size
    per_band: Counter[str] = Counter()
    for volume, count in result.histogram.items():
        per_band[band_for(grading, result.thresholds, volume, ranked)] += count
    share = pareto_share(result.histogram)
    return {
        "period": result.period,
        "segment": result.segment,
        "members": members,
        "ranked": ranked,
        "volume": sum(v * c for v, c in result.histogram.items()),
        "bands": {band.code: per_band.get(band.code, 0) for band in grading.bands},
        "thresholds": {
            band.code: limit for band, limit in zip(grading.bands, result.thresholds, strict=False)
        },
        "pareto_share_top_20pct": round(float(share), 4),
    }


def table(grading: Grading, rows: list[dict[str, Any]]) -> str:
    codes = [band.code for band in grading.bands]
    head = (
        f"{'period':<9} {'segment':<22} {'members':>7} {'volume':>12} "
        + " ".join(f"{c:>6}" for c in codes)
        + "  thresholds"
        + " " * 14
        + "top20%"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        limits = (
            ", ".join(
                f"{c}>={row['thresholds'][c]}"
                for c in codes[:-1]
                if row["thresholds"].get(c) is not None
            )
            or "(not ranked)"
        )
        lines.append(
            f"{row['period']:<9} {row['segment']:<22} {row['members']:>7} "
            f"{row['volume']:>12,} "
            + " ".join(f"{row['bands'][c]:>6}" for c in codes)
            + f"  {limits:<24} {row['pareto_share_top_20pct']:>6.1%}"
        )
    return "\n".join(lines)


def report_grades(program: Program, events: Path, out: Path) -> str:
    rows = grade_rows(program, events)
    assert program.grading is not None
    text = table(program.grading, rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grades.json").write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2) + b"\n")
    (out / "grades.txt").write_text(text + "\n")
    return text
