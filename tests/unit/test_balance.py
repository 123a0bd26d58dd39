from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.balance import RECENT_IDS_KEPT, MemberBalance, credit

credits = st.lists(st.tuples(st.sampled_from([f"e{n}" for n in range(30)]), st.integers(0, 500)))


def fold(balance: MemberBalance, items: list[tuple[str, int]]) -> MemberBalance:
    for event_id, points in items:
        balance = credit(balance, event_id, points) or balance
    return balance


def test_a_credit_adds_points_and_bumps_the_version() -> None:
    after = credit(MemberBalance("m1"), "e1", 120)
    assert after == MemberBalance("m1", 120, 1, "e1", ("e1",))


def test_the_same_event_id_is_applied_once() -> None:
    once = credit(MemberBalance("m1"), "e1", 120)
    assert once is not None
    assert credit(once, "e1", 120) is None


def test_negative_credits_are_refused() -> None:
    with pytest.raises(ValueError):
        credit(MemberBalance("m1"), "e1", -1)


def test_remembered_ids_are_bounded() -> None:
    balance = fold(MemberBalance("m1"), [(f"e{n}", 1) for n in range(RECENT_IDS_KEPT + 5)])
    assert len(balance.recent_event_ids) == RECENT_IDS_KEPT
    assert balance.points == RECENT_IDS_KEPT + 5


@given(credits)
def test_applying_a_sequence_twice_equals_applying_it_once(items: list[tuple[str, int]]) -> None:
    once = fold(MemberBalance("m1"), items)
    assert fold(once, items) == once


@given(credits)
def test_the_balance_is_the_sum_of_first_credits_per_event(items: list[tuple[str, int]]) -> None:
    first: dict[str, int] = {}
    for event_id, points in items:
        first.setdefault(event_id, points)
    balance = fold(MemberBalance("m1"), items)
    assert balance.points == sum(first.values())
    assert balance.version == len(first)
