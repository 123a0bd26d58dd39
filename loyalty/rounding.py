"""The one place where money becomes points. Points are ints, money is Decimal."""

from __future__ import annotations

from decimal import Decimal


def to_points(value: Decimal) -> int:
    """Points are never rounded up: a member earns whole points only, the fraction is lost.

    ROUND_DOWN (towards zero) also makes a reversal of earned points the exact mirror of the
    credit, so refunds can never take back more than was given. `int()` of a Decimal truncates
    towards zero, which is ROUND_DOWN, without making the rounded Decimal first.
    """
    return int(value)


def pro_rata(points: int, part: Decimal, whole: Decimal) -> int:
    """floor(points x part / whole), exactly (no Decimal-context rounding on the way).

    In integers: part = pn/pd and whole = wn/wd exactly (`as_integer_ratio`, denominators > 0),
    so the quotient is (points*pn*wd) / (pd*wn) with a positive divisor, and `//` is its floor.
    (`fractions.Fraction` gave the same result at ~10 us a call, a refund's largest cost.)
    """
    if whole <= 0:
        raise ValueError("whole must be > 0")
    pn, pd = part.as_integer_ratio()
    wn, wd = whole.as_integer_ratio()
    return (points * pn * wd) // (pd * wn)
