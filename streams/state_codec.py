"""MemberState <-> bytes, for the engine's changelog-backed member table.

Everything the rulebook remembers is encoded (lots, sales, segments, seen event ids, status),
so a worker that restores a member from the changelog continues exactly where another stopped:
a property test restores mid-stream and compares the end states with an uninterrupted run.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from loyalty.book import BookMarks
from loyalty.state import Hold, Lot, Match, MemberState, Sale, SegmentCredit

VERSION = 1


def _d(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def encode(state: MemberState) -> bytes:
    return orjson.dumps(
        {
            "v": VERSION,
            "member_id": state.member_id,
            "enrolled_on": state.enrolled_on.isoformat(),
            "tier": state.tier,
            "as_of": state.as_of.isoformat(),
            "attributes": [list(pair) for pair in state.attributes],
            "lots": [
                [
                    lot.lot_id,
                    lot.earned_on.isoformat(),
                    lot.unlock_on.isoformat(),
                    _d(lot.expires_on),
                    lot.remaining,
                ]
                for lot in state.lots
            ],
            "qualifying": state.qualifying,
            "seen": state.seen,
            "sales": [
                [
                    s.sale_id,
                    s.sold_on.isoformat(),
                    str(s.amount),
                    s.currency,
                    s.points,
                    s.bonus_points,
                    s.qualifying,
                    s.lot_id,
                    str(s.refunded),
                    s.points_reversed,
                    s.qualifying_reversed,
                    s.bonus_reversed,
                ]
                for s in state.sales.values()
            ],
            "segments": [
                [c.segment_id, c.flown_on.isoformat(), c.points, c.qualifying, c.lot_id, c.reversed]
                for c in state.segments.values()
            ],
            "partner_txns": {k: v.isoformat() for k, v in state.partner_txns.items()},
            "day_totals": state.day_totals,
            "held": [
                [h.hold_id, h.at.isoformat(), h.source, h.points, h.reason] for h in state.held
            ],
            "purchases": state.purchases,
            "first_purchase_on": _d(state.first_purchase_on),
            "last_activity_on": _d(state.last_activity_on),
            "transfers_out": {str(year): points for year, points in state.transfers_out.items()},
            "earned_tier": state.earned_tier,
            "lifetime_tier": state.lifetime_tier,
            "period": [_d(state.period_start), _d(state.period_end)],
            "period_qualifying": state.period_qualifying,
            "periods_at": state.periods_at,
            "match": _match(state.match),
            "last_match_on": _d(state.last_match_on),
            "class_code": state.class_code,
            "grading_volume": state.grading_volume,
            "stage": state.stage,
            "activity_days": {str(day): count for day, count in state.activity_days.items()},
            "rules_fired": {rule: day.isoformat() for rule, day in state.rules_fired.items()},
        }
    )


def _match(match: Match | None) -> list[Any] | None:
    if match is None:
        return None
    return [
        match.match_id,
        match.competitor,
        match.tier,
        match.granted_on.isoformat(),
        match.ends_on.isoformat(),
        match.target,
        match.progress,
        _d(match.confirmed_until),
    ]


def decode(raw: bytes) -> MemberState:
    d = orjson.loads(raw)
    if d.get("v") != VERSION:
        raise ValueError(f"member state version {d.get('v')} is not {VERSION}")
    state = MemberState(
        member_id=d["member_id"],
        enrolled_on=date.fromisoformat(d["enrolled_on"]),
        tier=d["tier"],
        as_of=datetime.fromisoformat(d["as_of"]),
        attributes=tuple((k, v) for k, v in d["attributes"]),
    )
    state.lots = [
        Lot(i, date.fromisoformat(e), date.fromisoformat(u), _date(x), r)
        for i, e, u, x, r in d["lots"]
    ]
    state.qualifying = d["qualifying"]
    state.seen = d["seen"]
    state.sales = {
        s[0]: Sale(
            s[0],
            date.fromisoformat(s[1]),
            Decimal(s[2]),
            s[3],
            s[4],
            s[5],
            s[6],
            s[7],
            Decimal(s[8]),
            s[9],
            s[10],
            s[11],
        )
        for s in d["sales"]
    }
    state.segments = {
        c[0]: SegmentCredit(c[0], date.fromisoformat(c[1]), c[2], c[3], c[4], c[5])
        for c in d["segments"]
    }
    state.partner_txns = {k: date.fromisoformat(v) for k, v in d["partner_txns"].items()}
    state.day_totals = d["day_totals"]
    state.held = [Hold(h[0], datetime.fromisoformat(h[1]), h[2], h[3], h[4]) for h in d["held"]]
    state.purchases = d["purchases"]
    state.first_purchase_on = _date(d["first_purchase_on"])
    state.last_activity_on = _date(d["last_activity_on"])
    state.transfers_out = {int(year): points for year, points in d["transfers_out"].items()}
    state.earned_tier = d["earned_tier"]
    state.lifetime_tier = d["lifetime_tier"]
    state.period_start, state.period_end = (_date(x) for x in d["period"])
    state.period_qualifying = d["period_qualifying"]
    state.periods_at = d["periods_at"]
    m = d["match"]
    state.match = (
        None
        if m is None
        else Match(
            m[0],
            m[1],
            m[2],
            date.fromisoformat(m[3]),
            date.fromisoformat(m[4]),
            m[5],
            m[6],
            _date(m[7]),
        )
    )
    state.last_match_on = _date(d["last_match_on"])
    state.class_code = d["class_code"]
    state.grading_volume = d["grading_volume"]
    state.stage = d["stage"]
    state.activity_days = {int(day): count for day, count in d["activity_days"].items()}
    state.rules_fired = {rule: date.fromisoformat(day) for rule, day in d["rules_fired"].items()}
    return state


def encode_marks(marks: BookMarks) -> bytes:
    return orjson.dumps(
        {
            "v": VERSION,
            "grading_period": marks.grading_period,
            "clock_ids": list(marks.clock_ids),
            "strangers": marks.strangers,
        }
    )


def decode_marks(raw: bytes) -> BookMarks:
    d = orjson.loads(raw)
    return BookMarks(d["grading_period"], tuple(d["clock_ids"]), d["strangers"])
