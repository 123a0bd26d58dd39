"""The retention rules' compiled checks (`loyalty.hot.RuleCheck`, screened and then
`retention._rest_holds`) decide exactly as the conditions' definition (`retention.holds`)
does, for any condition and any member."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.program_status import Condition, LifecycleStage, RetentionRule, RuleAction
from loyalty.retention import _rest_holds, holds
from loyalty.state import Lot, MemberState
from tests.unit.core.status_world import status_program

PROGRAM = status_program()
TIERS = PROGRAM.tiers
START = date(2026, 1, 1)
_maybe_days = st.none() | st.integers(0, 400)

_conditions = st.builds(
    Condition,
    tier_at_least=st.none() | st.sampled_from(TIERS),
    tier_at_most=st.none() | st.sampled_from(TIERS),
    stage_in=st.lists(st.sampled_from(list(LifecycleStage)), max_size=2, unique=True).map(tuple),
    balance_at_least=st.none() | st.integers(0, 500),
    tenure_days_at_least=_maybe_days,
    periods_at_tier_at_least=st.none() | st.integers(0, 3),
    activity_drop_percent_at_least=st.none() | st.integers(0, 100),
    inactive_days_at_least=_maybe_days,
)


@st.composite
def _members(draw: st.DrawFn) -> MemberState:
    state = MemberState(
        "M1",
        START + timedelta(days=draw(st.integers(0, 100))),
        draw(st.sampled_from(TIERS)),
        datetime(2026, 1, 1, tzinfo=UTC),
        stage=draw(st.sampled_from(list(LifecycleStage))).value,
    )
    last = draw(st.none() | st.integers(0, 400))
    state.last_activity_on = None if last is None else START + timedelta(days=last)
    state.periods_at = dict(
        draw(st.lists(st.tuples(st.sampled_from(TIERS), st.integers(0, 4)), max_size=3))
    )
    points = draw(st.lists(st.integers(1, 300), max_size=3))
    state.lots = [Lot(f"L{n}", START, START, None, p) for n, p in enumerate(points)]
    days = sorted(set(draw(st.lists(st.integers(0, 400), max_size=20))))
    state.activity_days = {(START + timedelta(days=d)).toordinal(): 1 + d % 3 for d in days}
    return state


@settings(max_examples=400, deadline=None)
@given(_conditions, _members(), st.integers(0, 500))
def test_a_compiled_check_decides_as_the_condition_does(
    condition: Condition, state: MemberState, day: int
) -> None:
    rule = RetentionRule("r1", condition, RuleAction.FLAG)
    program = replace(PROGRAM, retention_rules=(rule,))
    hot = program.hot
    (check,) = hot.rule_checks
    now = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
    rank = hot.ranks[state.tier]
    screened = (not check.stages or state.stage in check.stages) and (
        check.least <= rank <= check.most
    )
    compiled = screened and _rest_holds(check, state, hot.window_days, now.date())
    assert compiled == holds(condition, state, program, now)


def test_the_wire_names_by_type_are_the_wire_names_by_type_name() -> None:
    from loyalty.book import _WIRE_NAMES, INPUT_TYPES

    assert {kind.__name__: wire for kind, wire in _WIRE_NAMES.items()} == INPUT_TYPES
