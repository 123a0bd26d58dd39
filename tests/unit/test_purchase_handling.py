"""What the accrual agent does with one message, without Kafka."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.demo import sample_messages
from streams.handlers import Source, handle_purchase, replay_purchases

PURCHASE = {
    "event_id": "p1",
    "type": "purchase",
    "member_id": "M1",
    "occurred_at": "2026-11-01T10:00:00+00:00",
    "merchant": "grocer",
    "category": "food",
    "amount": "12.50",
    "currency": "EUR",
    "sale_id": "s1",
}


def source(value: bytes | None, key: bytes | None = b"M1", offset: int = 0) -> Source:
    return Source("in", 0, offset, key, value)


def test_a_valid_purchase_is_applied_with_the_points_it_earns() -> None:
    outcome = handle_purchase(source(orjson.dumps(PURCHASE)), None, 10)
    assert outcome.kind == "applied"
    assert outcome.new_record is not None and outcome.new_record["points"] == 125
    assert outcome.status is not None and orjson.loads(outcome.status)["points"] == 125


def test_a_redelivered_purchase_is_reported_as_a_duplicate() -> None:
    first = handle_purchase(source(orjson.dumps(PURCHASE)), None, 10)
    again = handle_purchase(source(orjson.dumps(PURCHASE), offset=1), first.new_record, 10)
    assert again.kind == "duplicate"
    assert again.ops is not None and orjson.loads(again.ops)["code"] == "duplicate_event"


def test_undecodable_bytes_become_a_dead_letter_with_the_reason_and_origin() -> None:
    outcome = handle_purchase(source(b"\xff{nope", offset=42), None, 10)
    assert outcome.kind == "dead_letter"
    letter = orjson.loads(outcome.dead_letter or b"")
    assert letter["offset"] == 42 and letter["source_topic"] == "in"
    assert "Invalid JSON" in letter["error"]


def test_schema_violations_name_the_field() -> None:
    bad = {**PURCHASE, "amount": "-3", "extra": 1}
    letter = orjson.loads(handle_purchase(source(orjson.dumps(bad)), None, 10).dead_letter or b"")
    assert "amount" in letter["error"] and "extra" in letter["error"]


def test_a_tombstone_is_a_dead_letter_not_a_crash() -> None:
    assert handle_purchase(source(None), None, 10).kind == "dead_letter"


def test_a_purchase_keyed_by_another_member_is_rejected() -> None:
    outcome = handle_purchase(source(orjson.dumps(PURCHASE), key=b"M2"), None, 10)
    assert outcome.kind == "rejected"
    assert orjson.loads(outcome.ops or b"")["code"] == "key_mismatch"


def test_replay_counts_reconcile_on_the_demo_workload() -> None:
    messages = sample_messages()
    result = replay_purchases([source(v, k, i) for i, (k, v) in enumerate(messages)], 10)
    counts = result.counts
    assert counts["received"] == len(messages)
    assert counts["received"] == sum(v for k, v in counts.items() if k != "received")
    assert counts["duplicate"] == 2 and counts["dead_letter"] == 2


@given(st.binary(max_size=200), st.one_of(st.none(), st.binary(max_size=20)))
def test_no_input_bytes_raise(value: bytes, key: bytes | None) -> None:
    assert handle_purchase(source(value, key), None, 10).kind in {"dead_letter", "rejected"}
