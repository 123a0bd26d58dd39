"""Dataclasses whose `__init__` is written out (compiled, it builds them several times faster;
loyalty/rebuild.py): the signature is the dataclass's own, and copies and pickles come back
equal. Runs interpreted and, in tests/integration/test_compiled_core.py, compiled, where a
class without `__reduce__` could not be copied at all."""

from __future__ import annotations

import copy
import importlib
import inspect
import pickle
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.compiled import is_compiled
from loyalty import events as ev
from loyalty import inputs as i
from loyalty.apply import apply
from loyalty.book import Outcome
from loyalty.inputs import Purchase
from loyalty.state import NOT_REVERSED, Hold, Lot, MemberState, Posting, Sale, SegmentCredit

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
POSTING = Posting("p1", "M1", AT, "points", 120, "earn", "e1", "L1", (("L1", 120),), "why", "op")
SALE = Sale("s1", date(2026, 3, 1), Decimal("12.50"), "EUR", 12, 0, {"miles": 3}, "L1")
FLIGHT = i.Flight(
    "BR1", "LY", "101", "HEL", "LHR", date(2026, 3, 1), 1140, "Y", "economy",
    Decimal("120.5"), Decimal(30), Decimal(12), "EUR",
)  # fmt: skip
INPUTS: list[Any] = [
    i.Enrol("e1", "M1", AT, date(2026, 3, 1)),
    i.Enrol("e1", "M1", AT, date(2026, 3, 1), (("home_market", "FI"),)),
    Purchase("e1", "M1", AT, "shop", "food", Decimal("3"), "EUR", "s1"),
    i.Refund("e2", "M1", AT, "s1", Decimal("1.5"), "EUR"),
    i.Refund("e2", "M1", AT, "s1", None, None),
    FLIGHT,
    i.FlightFlown("e3", "M1", AT, FLIGHT),
    i.FlightCancelled("e4", "M1", AT, "BR1:LY101:2026-03-01:HEL-LHR"),
    i.PartnerAccrual("e5", "M1", AT, "P1", "t1", "hotel", Decimal(80), "EUR", None),
    i.PartnerAccrual("e5", "M1", AT, "P1", "t1", "hotel", None, None, 400),
    i.Redeem("e6", "M1", AT, 500, "lounge"),
    i.Redeem("e6", "M1", AT, 500, "lounge", "c1"),
    i.TransferPoints("e7", "M1", AT, "M2", 300, "c2"),
    i.TransferReceived("e8", "M2", AT, "M1", "x1", 300, 10),
]
EXAMPLES: list[Any] = [
    POSTING,
    Posting("p2", "M1", AT, "points", 5, "earn", "e2"),
    Lot("L1", date(2026, 3, 1), date(2026, 3, 15), None, 120),
    Hold("e1/hold", AT, "purchase", 400, "member daily limit 1000 exceeded"),
    Hold("e2/hold", AT, "flight", 900, "daily limit", "seg1", date(2026, 3, 31)),
    MemberState("M1", date(2026, 3, 1), "blue", AT),
    MemberState(
        "M2",
        date(2026, 3, 1),
        "silver",
        AT,
        (("home_market", "FI"),),
        [Lot("L1", date(2026, 3, 1), date(2026, 3, 15), None, 120)],
        {"miles": 3},
        {"e1": ("abc", 739000)},
        739000,
        last_activity_on=date(2026, 3, 1),
        period_end=date(2026, 12, 31),
        activity_days={739000: 2},
        version=7,
    ),
    SALE,
    Sale("s2", date(2026, 3, 1), Decimal("9"), "EUR", 9, 5, {}, None, Decimal("1"), 1, {"m": 1}),
    SegmentCredit("seg1", date(2026, 3, 1), 500, {"miles": 500}, "L1"),
    ev.PointsCredited(POSTING, date(2026, 3, 1), date(2026, 3, 15), date(2028, 3, 1), "x", 3),
    ev.QualifyingCredited(POSTING),
    ev.PointsDebited(POSTING, (("L1", 20),), 4),
    ev.EventRecorded("e1", "abc", AT, 739000, 11),
    ev.StageChanged("M1", AT, "exploration", "development", "c1", "3 activities"),
    ev.Enrolled("M1", AT, date(2026, 3, 1), "blue", (("home_market", "FI"),)),
    ev.DailyAccrualCounted(date(2026, 3, 1), "P1", 40),
    ev.DailyAccrualCounted(date(2026, 3, 1), None, 40),
    ev.ActivityRecorded(date(2026, 3, 1)),
    ev.TimeAdvanced(AT),
    ev.PeriodOpened(date(2026, 1, 1), date(2026, 12, 31), {"miles": 10}),
    ev.PeriodClosed("silver", ("blue", "silver"), None),
    ev.ClassChanged("M1", AT, None, "FI-P", "grade", "top 20% of FI"),
    ev.VolumeCounted("2026-Q1", 120),
    ev.VolumeCounted("2026-Q1", 120, "2025-Q4"),
    ev.ActivityPruned(739000),
    ev.SaleRecorded(SALE, date(2025, 12, 1)),
    ev.SaleRefunded("s1", Decimal("2.5"), 2, (("miles", 1),), False),
    ev.PartnerTransactionRecorded("P1:t1", date(2026, 3, 1), date(2025, 12, 1)),
    *INPUTS,
    Outcome(
        "applied",
        Purchase("e1", "M1", AT, "shop", "food", Decimal("3"), "EUR", "s1"),
        [("M1", ev.QualifyingCredited(POSTING))],
    ),
]


def _written_out() -> set[type]:
    """Every dataclass of the rulebook whose `__init__` is not the generated one."""
    found = set()
    for path in sorted((Path(__file__).parents[3] / "loyalty").glob("*.py")):
        module = importlib.import_module(f"loyalty.{path.stem}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and is_dataclass(value)
                and value.__module__ == module.__name__
                # A generated `__init__` is compiled from a string by `dataclasses`.
                and value.__init__.__code__.co_filename != "<string>"
            ):
                found.add(value)
    return found


@pytest.mark.skipif(is_compiled(), reason="compiled functions have no Python signature")
def test_every_written_out_class_has_an_example_and_its_own_signature() -> None:
    written = _written_out()
    assert written == {type(e) for e in EXAMPLES}
    for kind in written:
        params = list(inspect.signature(kind.__init__).parameters.values())[1:]
        # Fields outside `__init__` are memos it derives (a lot's day ordinals).
        taken = [f for f in fields(kind) if f.init]
        assert [p.name for p in params] == [f.name for f in taken], kind
        for param, f in zip(params, taken, strict=True):
            if f.default is not MISSING:
                assert param.default == f.default, (kind, f.name)
            elif f.default_factory is not MISSING:
                assert param.default is None, (kind, f.name)  # None: a fresh default_factory()
            else:
                assert param.default is inspect.Parameter.empty, (kind, f.name)
        assert "__reduce__" in vars(kind), kind


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: type(e).__name__)
def test_copies_and_pickles_are_equal(example: Any) -> None:
    for again in (copy.copy(example), copy.deepcopy(example)):
        assert again == example and type(again) is type(example)
    assert pickle.loads(pickle.dumps(example)) == example


def test_defaults_are_fresh() -> None:
    first = Sale("s", date(2026, 1, 1), Decimal(1), "EUR", 1, 0, {}, None)
    first.qualifying.update({"m": 1})
    assert Sale("t", date(2026, 1, 1), Decimal(1), "EUR", 1, 0, {}, None).qualifying == {}
    assert first == Sale("s", date(2026, 1, 1), Decimal(1), "EUR", 1, 0, {"m": 1}, None)


def test_a_refund_leaves_the_shared_empty_reversal_empty() -> None:
    """Sales without a reversal share one empty dict (`NOT_REVERSED`): a refund gives its
    sale a dict of its own and changes no other sale."""
    state = MemberState("M1", date(2026, 1, 1), "blue", datetime(2026, 1, 1, tzinfo=UTC))
    for sale_id in ("s1", "s2"):
        sale = Sale(sale_id, date(2026, 1, 1), Decimal(10), "EUR", 10, 0, {"m": 5}, None)
        assert sale.qualifying_reversed is NOT_REVERSED
        apply(state, ev.SaleRecorded(sale, date(2025, 1, 1)))
    for _ in range(2):
        apply(state, ev.SaleRefunded("s1", Decimal(2), 2, (("m", 1),), False))
    assert state.sales["s1"].qualifying_reversed == {"m": 2}
    assert state.sales["s2"].qualifying_reversed == {} and NOT_REVERSED == {}
    assert state.sales["s2"].qualifying_reversed is NOT_REVERSED
