"""The rulebook: pure, deterministic domain code. No I/O, no clocks; time arrives as data."""
