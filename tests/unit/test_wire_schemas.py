"""The wire contract: decoding, refusal of bad input with field paths, exported JSON Schema."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from edge.schema_export import all_json_schemas
from edge.translate import Undecodable, decode_any, decode_external
from loyalty import inputs as i
from schemas.events import EXTERNAL_MODELS

ROOT = Path(__file__).resolve().parents[2]
BASE = {"event_id": "e1", "member_id": "M1", "occurred_at": "2026-03-01T10:00:00+01:00"}
FLIGHT = {
    "booking_ref": "ABC123",
    "carrier": "SK",
    "flight_number": "1415",
    "origin": "CPH",
    "destination": "LHR",
    "flight_date": "2026-02-27",
    "distance_miles": 609,
    "fare_class": "Y",
    "cabin": "economy",
    "base_fare": "120.00",
    "carrier_surcharges": "35.50",
    "taxes": "48.20",
    "currency": "EUR",
}
VALID = {
    "member_enrolled": {"enrolled_on": "2026-03-01", "segment": {"home_market": "SE"}},
    "purchase": {
        "merchant": "m1",
        "category": "food",
        "amount": "12.50",
        "currency": "EUR",
        "sale_id": "s1",
    },
    "refund": {"sale_id": "s1", "amount": "2.50", "currency": "EUR"},
    "flight_flown": FLIGHT,
    "flight_cancelled": {
        k: FLIGHT[k]
        for k in ("booking_ref", "carrier", "flight_number", "origin", "destination", "flight_date")
    },
    "partner_accrual": {
        "partner_id": "hotel-co",
        "partner_txn_id": "t1",
        "category": "hotel",
        "points": 300,
    },
    "redeem": {"command_id": "c-1", "points": 1000, "reward": "award-seat"},
    "transfer_points": {"command_id": "c-2", "to_member_id": "M2", "points": 500},
    "status_match_request": {
        "competitor": "oceanic",
        "competitor_tier": "gold",
        "evidence_ref": "card-scan-1",
    },
    "retro_claim": {"flight": FLIGHT},
    "manual_adjustment": {
        "command_id": "c-3",
        "points": -200,
        "reason": "duplicate credit",
        "operator_id": "a-7",
    },
}


def event(kind: str, **changes: object) -> bytes:
    return orjson.dumps({**BASE, "type": kind, **VALID.get(kind, {}), **changes})


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_external_event_type_decodes(kind: str) -> None:
    decoded = decode_external(event(kind))
    assert decoded.event_id == "e1" and decoded.at.utcoffset() is not None


def test_a_clock_has_no_member() -> None:
    clock = decode_external(
        orjson.dumps({"event_id": "c1", "type": "clock", "occurred_at": "2026-03-01T00:00:00Z"})
    )
    assert isinstance(clock, i.Clock)


def test_times_are_normalised_to_utc() -> None:
    assert decode_external(event("purchase")).at.isoformat() == "2026-03-01T09:00:00+00:00"


def test_a_flight_cancellation_names_the_same_segment_as_the_flight() -> None:
    flown = decode_external(event("flight_flown"))
    cancelled = decode_external(event("flight_cancelled"))
    assert isinstance(flown, i.FlightFlown) and isinstance(cancelled, i.FlightCancelled)
    assert cancelled.segment_id == flown.flight.segment_id


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (event("purchase", amount="-1"), "purchase.amount"),
        (event("purchase", amount="1e40"), "purchase.amount"),
        (event("purchase", currency="eur"), "purchase.currency"),
        (event("purchase", surprise=1), "purchase.surprise"),
        (event("purchase", occurred_at="2026-03-01T10:00:00"), "purchase.occurred_at"),
        (event("redeem", points=0), "redeem.points"),
        (event("partner_accrual", amount="10"), "partner_accrual"),
        (event("flight_flown", distance_miles=99999), "flight_flown.distance_miles"),
        (event("teleport"), "<root>"),
        (b"{not json", "<root>"),
        (b"", "<root>"),
    ],
)
def test_invalid_events_are_refused_with_the_field_path(raw: bytes, where: str) -> None:
    with pytest.raises(Undecodable, match=where.replace(".", r"\.")):
        decode_external(raw)


def test_internal_follow_ups_are_never_accepted_from_outside() -> None:
    raw = orjson.dumps(
        {
            **BASE,
            "type": "transfer_received",
            "from_member_id": "M9",
            "transfer_id": "x",
            "points": 10**6,
            "fee": 0,
        }
    )
    with pytest.raises(Undecodable):
        decode_external(raw)
    assert isinstance(decode_any(raw), i.TransferReceived)


def test_an_adjustment_without_reason_decodes_so_the_core_can_reject_it_with_a_code() -> None:
    decoded = decode_external(event("manual_adjustment", reason=""))
    assert isinstance(decoded, i.ManualAdjustment) and decoded.reason == ""


def test_every_external_model_has_the_common_fields() -> None:
    for model in EXTERNAL_MODELS:
        assert {"event_id", "type", "occurred_at", "schema_version"} <= set(model.model_fields)


def test_the_committed_json_schema_files_match_the_models() -> None:
    committed = {p.name: orjson.loads(p.read_bytes()) for p in (ROOT / "schemas/json").glob("*")}
    generated = {
        name: orjson.loads(orjson.dumps(s, option=orjson.OPT_SORT_KEYS))
        for name, s in all_json_schemas().items()
    }
    assert committed == generated, "run `loyalty schemas` and commit schemas/json"
