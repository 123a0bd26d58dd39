"""A programme with every status rule, small numbers, for the domain core II tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from edge.program_file import parse_program
from loyalty.program import Program
from tests.unit.core.world import TEST_PROGRAM

STATUS_RULES = """
tier_rules:
  period: calendar_year
  thresholds:
    silver: [{q_miles: 1000}, {q_segments: 3}]
    gold: [{q_miles: 3000, q_spend: 500}, {q_segments: 8, q_spend: 500}]
  soft_landing: true
  rollover: {currency: q_miles, cap: 400}
  lifetime: {tier: silver, periods: 2, cumulative: {q_miles: 100000}}
member_attributes: [market]
grading:
  segment_by: [market]
  metric: q_spend
  period_months: 3
  min_segment_size: 5
  bands:
    - {code: K, name: key, share: "0.2"}
    - {code: O, name: ordinary, share: "0.3"}
    - {code: P, name: prospective, share: "0.5"}
status_match:
  challenge_days: 30
  target: {q_miles: 500}
  once_every_years: 2
  programmes:
    rival: {elite: gold, basic: silver}
lifecycle:
  window_days: 30
  exploration_days: 10
  maturity_min_activity: 4
  decline_drop_percent: 50
  inactive_days: 90
retention_rules:
  - id: keep-gold-points
    when: {tier_at_least: gold, stage_in: [decline]}
    action: restrict_transfers
    max_transfer: 200
  - id: flag-transfer-gold
    when: {tier_at_least: gold}
    action: flag
    only_after: [transfer_points]
    cooldown_days: 0
  - id: win-back
    when: {stage_in: [decline], balance_at_least: 1000}
    action: retention_offer
    offer: bonus-500
    cooldown_days: 60
"""


def status_program(**changes: Any) -> Program:
    program = parse_program(
        TEST_PROGRAM.replace("expiry: {policy: never}\n", "")
        + STATUS_RULES
        + "expiry: {policy: inactivity, months: 6}\n",
        "status.yaml",
    )
    return replace(program, **changes) if changes else program
