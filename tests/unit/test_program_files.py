"""Programme YAML: the shipped examples load; errors name the field path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.program_file import ProgramError, load_program, parse_program
from loyalty.program import ExpiryPolicy, FlightMethod

ROOT = Path(__file__).resolve().parents[2]
AIRLINE = (ROOT / "programs/airline.yaml").read_text()


def test_the_airline_example_loads_with_revenue_and_distance_carriers() -> None:
    program = load_program(ROOT / "programs/airline.yaml")
    carriers = program.earn.flights.carriers if program.earn.flights else {}
    assert carriers["SK"].method is FlightMethod.REVENUE
    assert [int(carriers["SK"].points_per_unit[t]) for t in program.tiers] == [5, 7, 8, 9, 11]
    assert carriers["PA"].method is FlightMethod.DISTANCE
    assert program.expiry.policy is ExpiryPolicy.INACTIVITY


def test_the_retail_example_loads_with_lot_expiry_and_a_return_window() -> None:
    program = load_program(ROOT / "programs/retail.yaml")
    assert program.earn.flights is None
    assert program.expiry.policy is ExpiryPolicy.AFTER_EARNING
    assert program.pending.days == 30


def test_a_misspelt_key_is_an_error_with_its_line() -> None:
    with pytest.raises(ProgramError, match=r"pendin \(line \d+\): Unexpected keyword"):
        parse_program(AIRLINE.replace("pending:", "pendin:"))


def test_a_wrong_type_names_the_nested_field_and_line() -> None:
    text = AIRLINE.replace("fee_percent: 10", "fee_percent: ten")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "fee_percent" in row)
    with pytest.raises(ProgramError, match=rf"transfers\.fee_percent \(line {line}\)"):
        parse_program(text)


def test_business_constraints_are_checked_too() -> None:
    with pytest.raises(
        ProgramError, match=r"earn\.purchases\.min_points \(line \d+\): must be >= 0"
    ):
        parse_program(AIRLINE.replace("min_points: 0", "min_points: -5"))
    with pytest.raises(ProgramError, match="needs exactly the tiers"):
        parse_program(AIRLINE.replace("{blue: 5, silver: 7", "{blue: 5, silverx: 7"))
    with pytest.raises(ProgramError, match="not declared"):
        parse_program(
            AIRLINE.replace("qualifying_segments: qualifying_segments", "qualifying_segments: legs")
        )


def test_unreadable_or_non_mapping_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match="cannot read"):
        load_program(tmp_path / "missing.yaml")
    with pytest.raises(ProgramError, match="mapping"):
        parse_program("- just\n- a list\n")
    with pytest.raises(ProgramError, match="not valid YAML"):
        parse_program("a: [unclosed\n")


def line_of(text: str, needle: str) -> int:
    return next(n for n, row in enumerate(text.splitlines(), 1) if needle in row)


@pytest.mark.parametrize(
    ("typo", "fixed", "where", "allowed"),
    [
        (
            "applies_to: [purchases]",
            "applies_to: [purchase]",
            r"pending\.applies_to\.0",
            "'flight'",
        ),
        (
            "segment_by: [homemarket]",
            "segment_by: [home_market]",
            r"grading\.segment_by\.0",
            r"\['home_market'\]",
        ),
        (
            "applies_to: [flights]}",
            "applies_to: [flight]}",
            r"earn\.promotions\.0\.applies_to\.0",
            "'partner'",
        ),
    ],
)
def test_an_unknown_value_names_its_field_its_line_and_the_allowed_values(
    typo: str, fixed: str, where: str, allowed: str
) -> None:
    text = AIRLINE.replace(fixed, typo)
    assert text != AIRLINE
    line = line_of(text, typo)
    with pytest.raises(ProgramError, match=rf"{where} \(line {line}\): .*{allowed}"):
        parse_program(text)


def test_an_unknown_input_type_in_a_retention_rule_is_refused() -> None:
    top_level = [row for row in AIRLINE.splitlines() if row[:1].isalpha()]
    assert top_level[-1].startswith("retention_rules:")  # so a rule can be appended
    text = AIRLINE + "  - {id: x, when: {}, action: flag, only_after: [transfer]}\n"
    with pytest.raises(ProgramError, match=r"only_after\.0 \(line \d+\): .*'transfer_points'"):
        parse_program(text)


def test_a_rule_across_fields_points_at_the_field_not_the_top_of_the_file() -> None:
    text = AIRLINE.replace(
        "rollover: {currency: qualifying_miles", "rollover: {currency: qualifying_mile"
    )
    line = line_of(text, "rollover:")
    with pytest.raises(
        ProgramError, match=rf"tier_rules\.rollover\.currency \(line {line}\): 'qualifying_mile'"
    ):
        parse_program(text)
    text = AIRLINE.replace("partner_dedupe_days: 90", "partner_dedupe_days: 30")
    line = line_of(text, "partner_dedupe_days")
    with pytest.raises(ProgramError, match=rf"windows\.partner_dedupe_days \(line {line}\)"):
        parse_program(text)


def test_the_candidate_airline_differs_from_the_airline_where_it_says() -> None:
    current = load_program(ROOT / "programs/airline.yaml")
    candidate = load_program(ROOT / "programs/airline-2027.yaml")
    assert candidate.tiers == current.tiers
    gold = candidate.tier_rules.thresholds["gold"]
    assert gold[0]["qualifying_miles"] == 60_000
    assert current.tier_rules.thresholds["gold"][0]["qualifying_miles"] == 50_000
    assert (candidate.expiry.policy, candidate.expiry.months) == (ExpiryPolicy.AFTER_EARNING, 24)
    assert candidate.earn.partners["hotel-co"].points_per_unit == 4
    # Everything else is the same programme.
    assert candidate.earn.flights == current.earn.flights
    assert candidate.retention_rules == current.retention_rules
    assert candidate.grading == current.grading
