"""Money to points: the integer forms equal their definitions in Decimal and Fraction."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.rounding import pro_rata, to_points

finite = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12)
# Exponents far from money's too (1E+5, 0.000001), and both signs of zero.
scaled = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**9), 10**9),
    st.integers(-12, 6),
)


@given(st.one_of(finite, scaled))
def test_to_points_rounds_down_towards_zero(value: Decimal) -> None:
    assert to_points(value) == int(value.to_integral_value(rounding=ROUND_DOWN))


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_to_points_refuses_what_is_not_a_number(value: str) -> None:
    with pytest.raises((ValueError, OverflowError)):
        to_points(Decimal(value))


@given(
    st.integers(-(10**9), 10**9),
    st.one_of(finite, scaled),
    st.one_of(finite, scaled).filter(lambda d: d > 0),
)
def test_pro_rata_is_the_exact_floor(points: int, part: Decimal, whole: Decimal) -> None:
    assert pro_rata(points, part, whole) == floor(points * Fraction(part) / Fraction(whole))


def test_pro_rata_cases() -> None:
    assert pro_rata(100, Decimal("1"), Decimal("3")) == 33
    assert pro_rata(100, Decimal("2.00"), Decimal("3.0")) == 66
    assert pro_rata(-100, Decimal("1"), Decimal("3")) == -34  # floor, not towards zero
    assert pro_rata(7, Decimal("1E+2"), Decimal("100")) == 7


@pytest.mark.parametrize("whole", ["0", "-1", "0.00"])
def test_pro_rata_needs_a_positive_whole(whole: str) -> None:
    with pytest.raises(ValueError):
        pro_rata(10, Decimal("1"), Decimal(whole))
