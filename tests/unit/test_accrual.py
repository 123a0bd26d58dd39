from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty.accrual import purchase_points
from loyalty.rounding import to_points


def test_points_are_whole_and_rounded_down() -> None:
    assert purchase_points(Decimal("12.99"), 10) == 129
    assert purchase_points(Decimal("0.09"), 10) == 0


def test_decimal_amounts_are_exact_where_floats_are_not() -> None:
    # 0.1 * 3 as a float is 0.30000000000000004; as Decimal it is exact.
    assert purchase_points(Decimal("0.3"), 10) == 3


def test_non_positive_amounts_earn_nothing() -> None:
    assert purchase_points(Decimal("0"), 10) == 0
    assert purchase_points(Decimal("-5"), 10) == 0


def test_rounding_goes_towards_zero_for_reversals_too() -> None:
    assert to_points(Decimal("-1.5")) == -1


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.integers(0, 20))
def test_earned_points_never_exceed_the_exact_value(amount: Decimal, rate: int) -> None:
    points = purchase_points(amount, rate)
    assert isinstance(points, int)
    assert 0 <= points <= amount * rate < points + 1 or amount == 0
