"""The one place where money becomes points. Points are ints, money is Decimal."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from math import floor


def to_points(value: Decimal) -> int:
    """Points are never rounded up: a member earns whole points only, the fraction is lost.

    ROUND_DOWN (towards zero) also makes a reversal of earned points the exact mirror of the
    credit, so refunds can never take back more than was given.
    """
    return int(value.to_integral_value(rounding=ROUND_DOWN))


def pro_rata(points: int, part: Decimal, whole: Decimal) -> int:
    """floor(points x part / whole), exactly (no Decimal-context rounding on the way)."""
    if whole <= 0:
        raise ValueError("whole must be > 0")
    fraction = Fraction(part) / Fraction(whole)
    return floor(points * fraction)
