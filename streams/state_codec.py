"""MemberState <-> bytes, for the engine's changelog-backed member table.

Everything the rulebook remembers is encoded (lots, sales, segments, seen event ids, status),
so a worker that restores a member from the changelog continues exactly where another stopped:
a property test restores mid-stream and compares the end states with an uninterrupted run.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from loyalty.book import BookMarks, FollowUp
from loyalty.inputs import TransferReceived, TransferReturned
from loyalty.state import Hold, Lot, Match, MemberState, Sale, SegmentCredit

VERSION = 3  # 2: the dataclasses as orjson writes them; 3: seen keys with their day


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: Decimal("12.50") round-trips as "12.50"
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(state: MemberState) -> bytes:
    """orjson writes the slotted dataclasses, dates and int-keyed dicts natively (in C): a
    heavy member's hundreds of lots cost microseconds, not the milliseconds a Python loop
    over them did (profiled: it was half the engine's time)."""
    raw = orjson.dumps(
        {"v": VERSION, "state": state}, default=_default, option=orjson.OPT_NON_STR_KEYS
    )
    if len(raw) < COMPRESS_FROM:
        return raw
    # A heavy member keeps a year of sales and segments (refund and cancellation windows):
    # over 1 MB of JSON, above Kafka's default message limit. zlib level 1 shrinks it ~8x in
    # a few milliseconds, and only checkpoints pay it.
    return zlib.compress(raw, 1)


# Below this a state is written as plain JSON: zlib took as long as the encoding itself
# (~24 us for a typical 2-3 KB member, measured on the bench workload) for a 3x smaller record.
# The price is storage: a compacted topic keeps one record per member, ~3 KB instead of ~1 KB.
# Above it (~1% of members on the bench workload) compression keeps records far below the
# topic's message limit. `decode` reads both: JSON starts with `{`, zlib never does.
COMPRESS_FROM = 16 * 1024


def decode(raw: bytes) -> MemberState:
    d = orjson.loads(raw if raw[:1] == b"{" else zlib.decompress(raw))
    if d.get("v") != VERSION:
        raise ValueError(f"member state version {d.get('v')} is not {VERSION}")
    s = d["state"]
    state = MemberState(
        member_id=s["member_id"],
        enrolled_on=date.fromisoformat(s["enrolled_on"]),
        tier=s["tier"],
        as_of=datetime.fromisoformat(s["as_of"]),
        attributes=tuple((k, v) for k, v in s["attributes"]),
    )
    state.lots = [
        Lot(
            x["lot_id"],
            date.fromisoformat(x["earned_on"]),
            date.fromisoformat(x["unlock_on"]),
            _date(x["expires_on"]),
            x["remaining"],
        )
        for x in s["lots"]
    ]
    state.qualifying = s["qualifying"]
    state.seen = {key: (print_, day) for key, (print_, day) in s["seen"].items()}
    state.seen_swept = s["seen_swept"]
    state.sales = {
        x["sale_id"]: Sale(
            x["sale_id"],
            date.fromisoformat(x["sold_on"]),
            Decimal(x["amount"]),
            x["currency"],
            x["points"],
            x["bonus_points"],
            x["qualifying"],
            x["lot_id"],
            Decimal(x["refunded"]),
            x["points_reversed"],
            x["qualifying_reversed"] or None,  # None: the shared empty one
            x["bonus_reversed"],
        )
        for x in s["sales"].values()
    }
    state.segments = {
        x["segment_id"]: SegmentCredit(
            x["segment_id"],
            date.fromisoformat(x["flown_on"]),
            x["points"],
            x["qualifying"],
            x["lot_id"],
            x["reversed"],
        )
        for x in s["segments"].values()
    }
    state.partner_txns = {k: date.fromisoformat(v) for k, v in s["partner_txns"].items()}
    state.day_totals = s["day_totals"]
    state.held = [
        Hold(
            x["hold_id"],
            datetime.fromisoformat(x["at"]),
            x["source"],
            x["points"],
            x["reason"],
            x["ref"],
            _date(x["expires_on"]),
        )
        for x in s["held"]
    ]
    state.purchases = s["purchases"]
    state.first_purchase_on = _date(s["first_purchase_on"])
    state.last_activity_on = _date(s["last_activity_on"])
    state.transfers_out = {int(year): points for year, points in s["transfers_out"].items()}
    state.in_flight = s["in_flight"]
    state.earned_tier = s["earned_tier"]
    state.lifetime_tier = s["lifetime_tier"]
    state.period_start = _date(s["period_start"])
    state.period_end = _date(s["period_end"])
    state.period_qualifying = s["period_qualifying"]
    state.periods_at = s["periods_at"]
    m = s["match"]
    state.match = (
        None
        if m is None
        else Match(
            m["match_id"],
            m["competitor"],
            m["tier"],
            date.fromisoformat(m["granted_on"]),
            date.fromisoformat(m["ends_on"]),
            m["target"],
            m["progress"],
            _date(m["confirmed_until"]),
        )
    )
    state.last_match_on = _date(s["last_match_on"])
    state.class_code = s["class_code"]
    state.grading_volume = s["grading_volume"]
    state.stage = s["stage"]
    # In day order, as the rulebook keeps it (window counts bisect over it).
    state.activity_days = dict(sorted((int(d), n) for d, n in s["activity_days"].items()))
    state.rules_fired = {rule: date.fromisoformat(day) for rule, day in s["rules_fired"].items()}
    state.version = s["version"]
    return state


def encode_marks(marks: BookMarks) -> bytes:
    return orjson.dumps(
        {
            "v": VERSION,
            "grading_period": marks.grading_period,
            "clocks": marks.clocks,
            "strangers": marks.strangers,
            "pending": [follow_up_json(f) for f in marks.pending],
            "now": None if marks.now is None else marks.now.isoformat(),
        }
    )


def decode_marks(raw: bytes) -> BookMarks:
    d = orjson.loads(raw)
    if d.get("v") != VERSION:
        raise ValueError(f"book marks version {d.get('v')} is not {VERSION}")
    return BookMarks(
        d["grading_period"],
        {key: (print_, day) for key, (print_, day) in d["clocks"].items()},
        {
            member: {key: (print_, day) for key, (print_, day) in seen.items()}
            for member, seen in d["strangers"].items()
        },
        tuple(follow_up_from_json(f) for f in d["pending"]),
        None if d["now"] is None else datetime.fromisoformat(d["now"]),
    )


def follow_up_json(f: FollowUp) -> dict[str, Any]:
    """A follow-up as JSON: kept in the book's marks and sent between partitions."""
    common = {"event_id": f.event_id, "member_id": f.member_id, "at": f.at.isoformat()}
    if isinstance(f, TransferReceived):
        return common | {
            "kind": "transfer_received",
            "from_member_id": f.from_member_id,
            "transfer_id": f.transfer_id,
            "points": f.points,
            "fee": f.fee,
        }
    return common | {
        "kind": "transfer_returned",
        "transfer_id": f.transfer_id,
        "points": f.points,
        "reason": f.reason,
    }


def follow_up_from_json(d: dict[str, Any]) -> FollowUp:
    at = datetime.fromisoformat(d["at"])
    if d["kind"] == "transfer_received":
        return TransferReceived(
            d["event_id"],
            d["member_id"],
            at,
            d["from_member_id"],
            d["transfer_id"],
            d["points"],
            d["fee"],
        )
    return TransferReturned(
        d["event_id"], d["member_id"], at, d["transfer_id"], d["points"], d["reason"]
    )
