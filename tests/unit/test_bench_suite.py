"""`make bench`'s summary: every figure the benchmark issue asks for, medians of the repeats,
ratios of the medians, and the chart beside the JSON (no Kafka here; the figures are made up)."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson

from bench.suite import MIX, Repeat, chart, summarise


def _repeat(scale: float) -> Repeat:
    figures = {
        "received": 1000,
        "messages": 1200,
        "core_replay_eps": 14_000 * scale,
        "core_replay_compiled_eps": 20_000 * scale,
        "worker_startup_s": 4.0,
        "worker_peak_rss_mb": 250 * scale,
        "engine_eps": 1_600 * scale,
        "passthrough_eps": 120_000 * scale,
        "passthrough_msgs": 140_000 * scale,
        "idiomatic_faust_eps": 1_400 * scale,
        "engine_2_workers_eps": 2_600 * scale,
        "backfill_eps": 1_400 * scale,
        "backfill_after_startup_eps": 1_600 * scale,
        "engine_compiled_eps": 2_200 * scale,
        "engine_per_cpu_eps": 2_000 * scale,
        "engine_compiled_per_cpu_eps": 2_700 * scale,
        "latency_p50_ms": 200 * scale,
        "latency_p95_ms": 380 * scale,
        "latency_p99_ms": 450 * scale,
    }
    return Repeat(figures, {"w1": [0, 1], "w2": [2, 3]}, {"Kafka broker": 0.1})


def test_the_summary_has_every_figure_as_a_median_and_ratios_of_medians(tmp_path: Path) -> None:
    args = argparse.Namespace(
        events=1000, members=100, seed=7, program=Path("programs/airline.yaml"), rate=2000.0
    )
    result = summarise(args, [_repeat(1.0), _repeat(3.0), _repeat(0.5)])
    for key in (
        "passthrough_eps",
        "idiomatic_faust_eps",
        "engine_eps",
        "engine_compiled_eps",
        "engine_per_cpu_eps",
        "engine_compiled_per_cpu_eps",
        "core_replay_eps",
        "backfill_eps",
        "worker_peak_rss_mb",
    ):
        assert key in result
    assert result["engine_eps"] == 1_600  # the median, not the mean (2,400)
    assert set(result["latency_ms"]) == {"p50", "p95", "p99"}
    assert result["latency_ms"]["p99"] == 450
    assert result["ratios"]["engine_vs_idiomatic_faust"] == 1_600 / 1_400
    assert result["ratios"]["engine_vs_passthrough"] == 1_600 / 120_000
    assert result["ratios"]["engine_per_cpu_vs_target"] == 2_000 / 10_000
    assert result["workload"]["mix_overrides"] == MIX
    assert result["two_workers"]["partitions"] == {"w1": [0, 1], "w2": [2, 3]}
    assert len(result["runs"]) == 3
    orjson.dumps(result)  # serialisable as written

    png = tmp_path / "latest.png"
    chart(result, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
