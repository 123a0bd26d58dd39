"""Domain core II: tiers, status match, retention rules, lifecycle stages."""

from __future__ import annotations

from dataclasses import replace
from itertools import count

import pytest

from loyalty import events as ev
from loyalty import inputs as i
from loyalty.book import Outcome
from loyalty.program_status import PeriodKind
from tests.unit.core.status_world import status_program
from tests.unit.core.world import World, at, rejected

refs = count(1)


def world(**changes: object) -> World:
    w = World(status_program(**changes))  # type: ignore[arg-type]
    w.enrol("M1", day=0, market="SE")
    w.enrol("M2", day=0, market="SE")
    return w


def fly(w: World, miles: int, spend: int = 0, day: float = 1, member: str = "M1") -> Outcome:
    flight = w.flight(
        distance=miles, base=str(spend), surcharges="0", ref=f"R{next(refs)}", flown=at(day).date()
    )
    return w.fly(flight, member=member, day=day)


def changes(outcome: Outcome, kind: type) -> list[ev.DomainEvent]:
    found = [e for _, e in outcome.events if isinstance(e, kind)]
    for follow_up in outcome.follow_ups:
        found += changes(follow_up, kind)
    return found


def tier_changes(w: World) -> list[tuple[str, str]]:
    return [(e.from_tier, e.to_tier) for o in w.outcomes for e in changes(o, ev.TierChanged)]


def barriers(w: World) -> list[str]:
    return [e.barrier for o in w.outcomes for e in changes(o, ev.BarrierApplied)]


# -- tiers ------------------------------------------------------------------------------------
def test_an_upgrade_takes_effect_on_the_event_that_crosses_the_threshold() -> None:
    w = world()
    fly(w, 600, day=1)
    out = fly(w, 600, day=2)  # 1,200 qualifying miles >= 1,000
    assert [(e.from_tier, e.to_tier) for e in changes(out, ev.TierChanged)] == [("base", "silver")]
    assert w.state().tier == "silver"


def test_the_crossing_event_earns_at_the_tier_held_when_it_occurred() -> None:
    w = world()
    fly(w, 600, spend=10, day=1)
    out = fly(w, 600, spend=100, day=2)
    assert [
        p.points for _, e in out.events if isinstance(e, ev.PointsCredited) for p in [e.posting]
    ] == [100 * 5]  # base rate, not silver's 7
    assert [
        e.posting.points
        for _, e in fly(w, 10, spend=100, day=3).events
        if isinstance(e, ev.PointsCredited)
    ] == [100 * 7]


def test_thresholds_combine_alternatives_and_requirements() -> None:
    w = world()
    for day in range(1, 9):
        fly(w, 10, spend=10, day=day)  # 8 segments, spend 80: silver by segments, not gold
    assert w.state().tier == "silver"
    fly(w, 10, spend=500, day=10)  # spend now 580 with 9 segments: gold
    assert w.state().tier == "gold"


def test_downgrades_wait_for_period_end_and_soft_landing_drops_one_tier() -> None:
    w = world()
    fly(w, 3000, spend=600, day=5)
    assert w.state().tier == "gold"
    w.clock(200)
    assert w.state().tier == "gold"  # never inside the period
    w.clock(365)  # 2027-01-01: nothing earned in 2026 beyond gold's year ... requalify
    w.clock(731)  # 2028-01-01: no credit in 2027: soft landing from gold to silver only
    assert tier_changes(w)[-1] == ("gold", "silver")
    assert "soft_landing" in barriers(w)


def test_without_soft_landing_the_member_drops_to_what_was_earned() -> None:
    w = world()
    rules = replace(w.program.tier_rules, soft_landing=False, lifetime=None)
    w.program = w.book.program = replace(w.program, tier_rules=rules)
    fly(w, 3000, spend=600, day=5)
    w.clock(365)
    w.clock(731)
    assert tier_changes(w)[-1] == ("gold", "base")


def test_surplus_rolls_over_capped_into_the_next_period() -> None:
    w = world()
    fly(w, 1900, day=5)  # silver needs 1,000: surplus 900, cap 400
    w.clock(365)
    assert w.state().period_qualifying == {"q_miles": 400}
    assert "rollover" in barriers(w)


def test_a_base_tier_member_rolls_nothing_over_so_credit_does_not_roll_forever() -> None:
    w = world()
    fly(w, 600, day=5)  # below silver: base tier, nothing above a threshold
    for year in range(1, 4):
        w.clock(365 * year + 1)
        assert w.state().period_qualifying == {}, year
    assert "rollover" not in barriers(w)


def test_rolled_over_credit_is_not_rolled_again_once_the_tier_is_lost() -> None:
    w = world(tier_rules=replace(status_program().tier_rules, soft_landing=False))
    fly(w, 1900, day=5)  # silver, 400 rolls over
    w.clock(366)
    assert w.state().period_qualifying == {"q_miles": 400}
    w.clock(365 * 2 + 1)  # 400 alone is not silver: back to base, nothing rolls
    assert w.state().period_qualifying == {}
    w.clock(365 * 3 + 1)
    assert w.state().period_qualifying == {}


def test_lifetime_status_after_enough_periods_at_the_tier() -> None:
    w = world()
    fly(w, 1000, day=5)
    w.clock(365)
    fly(w, 1000, day=370)
    w.clock(731)  # two periods at silver: lifetime silver
    assert w.state().lifetime_tier == "silver"
    assert "lifetime_status" in barriers(w)
    w.clock(1096)
    w.clock(1461)
    assert w.state().tier == "silver"


def test_anniversary_periods_start_on_the_enrolment_day() -> None:
    program = status_program()
    program = replace(
        program, tier_rules=replace(program.tier_rules, period=PeriodKind.ANNIVERSARY)
    )
    w = World(program)
    w.send(i.Enrol("en", "M1", at(40), at(40).date()))
    state = w.state()
    assert (state.period_start, state.period_end) == (at(40).date(), at(40 + 364).date())


# -- status match -----------------------------------------------------------------------------
def match(
    w: World, tier: str = "elite", competitor: str = "rival", day: float = 20, member: str = "M1"
) -> Outcome:
    return w.send(
        i.StatusMatchRequest(f"sm{next(refs)}", member, at(day), competitor, tier, "evidence-1")
    )


def test_a_match_grants_the_mapped_tier_provisionally() -> None:
    w = world()
    out = match(w)
    assert changes(out, ev.MatchGranted) and w.state().tier == "gold"
    assert w.state().earned_tier == "base"


def test_meeting_the_target_confirms_the_match_until_the_end_of_the_next_period() -> None:
    w = world()
    match(w, day=20)
    out = fly(w, 600, day=30)
    confirmed = changes(out, ev.MatchConfirmed)
    assert confirmed and confirmed[0].confirmed_until == at(729).date()  # 2027-12-31
    w.clock(500)
    assert w.state().tier == "gold"
    w.clock(731)  # 2028: the confirmed match is over; nothing was earned
    assert w.state().tier == "base"


def test_missing_the_target_returns_the_member_to_the_tier_otherwise_held() -> None:
    w = world()
    fly(w, 1000, day=2)  # silver earned
    match(w, day=20)
    fly(w, 100, day=30)
    out = w.clock(51)  # the 30-day window ended on day 49
    assert changes(out, ev.MatchExpired)
    assert w.state().tier == "silver" and w.state().match is None


@pytest.mark.parametrize(
    ("competitor", "tier", "code"),
    [("nobody", "elite", "unknown_competitor"), ("rival", "ultra", "unknown_competitor_tier")],
)
def test_unknown_programmes_and_tiers_are_rejected(competitor: str, tier: str, code: str) -> None:
    assert rejected(match(world(), tier, competitor)) == code


def test_one_match_per_period_of_years_and_never_downwards() -> None:
    w = world()
    fly(w, 3000, spend=600, day=2)
    assert rejected(match(w, "basic")) == "already_at_tier"
    w2 = world()
    match(w2, day=20)
    w2.clock(60)
    assert rejected(match(w2, day=100)) == "match_too_recent"
    assert rejected(match(w2, day=20 + 731)) != "match_too_recent"


# -- retention rules and barriers ---------------------------------------------------------------
def gold_in_decline(w: World) -> None:
    fly(w, 3000, spend=600, day=1)
    for day in range(2, 8):
        fly(w, 10, day=day)
    w.adjust(5000, day=8)
    w.clock(100)  # no activity for 92 days: decline


def test_restricted_transfers_for_gold_members_in_decline() -> None:
    w = world()
    gold_in_decline(w)
    assert w.state().stage == "decline"
    assert rejected(w.transfer(300, day=101)) == "transfer_restricted"
    assert w.transfer(200, day=101).kind == "applied"


def test_a_transfer_by_a_gold_member_is_flagged_every_time() -> None:
    w = world()
    fly(w, 3000, spend=600, day=1)
    w.adjust(5000, day=2)
    fly(w, 10, day=25)  # stays active: not in decline
    fly(w, 10, day=35)
    first, second = w.transfer(150, day=40), w.transfer(150, day=41)
    assert [e.rule_id for e in changes(first, ev.RuleFired)] == ["flag-transfer-gold"]
    assert [e.rule_id for e in changes(second, ev.RuleFired)] == ["flag-transfer-gold"]


def test_members_in_decline_with_points_get_a_retention_offer_once_per_cooldown() -> None:
    w = world()
    gold_in_decline(w)
    offers = [e for o in w.outcomes for e in changes(o, ev.RuleFired) if e.rule_id == "win-back"]
    assert len(offers) == 1 and offers[0].offer == "bonus-500"
    w.clock(120)
    offers_later = [
        e for o in w.outcomes for e in changes(o, ev.RuleFired) if e.rule_id == "win-back"
    ]
    assert len(offers_later) == 1


def test_activity_shortly_before_an_inactivity_expiry_is_reported_as_a_barrier() -> None:
    w = world()
    w.adjust(500, day=1)
    fly(w, 10, day=5)
    fly(w, 10, day=160)  # due on day ~186: within 90 days
    assert "activity_extended_expiry" in barriers(w)


# -- lifecycle --------------------------------------------------------------------------------
def test_lifecycle_moves_from_exploration_to_maturity_and_into_decline() -> None:
    w = world()
    assert w.state().stage == "exploration"
    fly(w, 10, day=11)
    assert w.state().stage == "development"
    for day in (12, 13, 14, 15):
        fly(w, 10, day=day)
    assert w.state().stage == "maturity"
    fly(w, 10, day=50)  # latest window 1 against 5 before: down 80%
    assert w.state().stage == "decline"


def test_time_alone_moves_a_quiet_member_into_decline_at_a_clock() -> None:
    w = world()
    fly(w, 10, day=11)
    w.clock(35)
    assert w.state().stage == "development"
    out = w.clock(42)  # day 11 has left the latest 30-day window: activity down 100%
    assert [(e.from_stage, e.to_stage) for e in changes(out, ev.StageChanged)] == [
        ("development", "decline")
    ]


def test_no_activity_for_the_inactivity_limit_is_decline() -> None:
    w = world()
    w.program = w.book.program = replace(
        w.program, lifecycle=replace(w.program.lifecycle, decline_drop_percent=100)
    )
    fly(w, 10, day=11)
    w.clock(80)
    assert w.state().stage == "development"
    w.clock(101)
    assert w.state().stage == "decline"
