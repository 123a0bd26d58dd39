"""Deterministic, realistic workloads for tests, benchmarks and demos (`loyalty generate`)."""
