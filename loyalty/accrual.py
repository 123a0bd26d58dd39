"""Earning rules. The walking skeleton has one: a flat rate per whole currency unit."""

from __future__ import annotations

from decimal import Decimal

from loyalty.rounding import to_points


def purchase_points(amount: Decimal, points_per_unit: int) -> int:
    """Points for a purchase of `amount` at `points_per_unit` points per currency unit."""
    if amount <= 0:
        return 0
    return to_points(amount * points_per_unit)
