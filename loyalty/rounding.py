"""The one place where money becomes points. Points are ints, money is Decimal."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal


def to_points(value: Decimal) -> int:
    """Points are never rounded up: a member earns whole points only, the fraction is lost.

    ROUND_DOWN (towards zero) also makes a reversal of earned points the exact mirror of the
    credit, so refunds can never take back more than was given.
    """
    return int(value.to_integral_value(rounding=ROUND_DOWN))
