"""Member status changes on the wire (status_changes.jsonl, the member-events topic).

One record per change: `type`, `member_id`, `at` (event time), `from`/`to` where they apply,
`cause` (the event id that caused it, or the clock's) and a human `reason`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from loyalty import events as ev
from loyalty.calendar import as_written


def _tier(e: ev.TierChanged) -> dict[str, Any]:
    return {"type": "tier_changed", "from": e.from_tier, "to": e.to_tier}


def _class(e: ev.ClassChanged) -> dict[str, Any]:
    return {"type": "class_changed", "from": e.from_code, "to": e.to_code}


def _granted(e: ev.MatchGranted) -> dict[str, Any]:
    m = e.match
    return {
        "type": "status_match_granted",
        "from": e.from_tier,
        "to": m.tier,
        "competitor": m.competitor,
        "ends_on": m.ends_on.isoformat(),
        "target": m.target,
    }


def _confirmed(e: ev.MatchConfirmed) -> dict[str, Any]:
    return {
        "type": "status_match_confirmed",
        "to": e.tier,
        "confirmed_until": e.confirmed_until.isoformat(),
    }


def _expired(e: ev.MatchExpired) -> dict[str, Any]:
    return {"type": "status_match_expired", "from": e.tier}


def _stage(e: ev.StageChanged) -> dict[str, Any]:
    return {"type": "lifecycle_stage_changed", "from": e.from_stage, "to": e.to_stage}


def _rule(e: ev.RuleFired) -> dict[str, Any]:
    if e.action == "retention_offer":
        return {"type": "retention_offer_issued", "rule": e.rule_id, "offer": e.offer}
    return {"type": "barrier_triggered", "rule": e.rule_id, "barrier": e.action}


def _barrier(e: ev.BarrierApplied) -> dict[str, Any]:
    return {"type": "barrier_triggered", "barrier": e.barrier}


def _adjusted(e: ev.PointsAdjusted) -> dict[str, Any]:
    return {"type": "points_adjusted", "points": e.points, "operator_id": e.operator_id}


def _hold(e: ev.AccrualHeld) -> dict[str, Any]:
    return {
        "type": "accrual_held",
        "hold_id": e.hold.hold_id,
        "points": e.hold.points,
        "source": e.hold.source,
        "expires_on": None if e.hold.expires_on is None else e.hold.expires_on.isoformat(),
    }


def _hold_settled(e: ev.HoldSettled) -> dict[str, Any]:
    return {
        "type": f"hold_{e.outcome}",
        "hold_id": e.hold_id,
        "points": -e.posting.points,
        "credited": e.released,
        "operator_id": e.operator_id,
    }


_RECORDS: Final[dict[type, Callable[[Any], dict[str, Any]]]] = {
    ev.TierChanged: _tier,
    ev.ClassChanged: _class,
    ev.MatchGranted: _granted,
    ev.MatchConfirmed: _confirmed,
    ev.MatchExpired: _expired,
    ev.StageChanged: _stage,
    ev.RuleFired: _rule,
    ev.BarrierApplied: _barrier,
    ev.PointsAdjusted: _adjusted,
    ev.AccrualHeld: _hold,
    ev.HoldSettled: _hold_settled,
}
STATUS_EVENTS: Final = frozenset(_RECORDS)


def status_record(event: ev.DomainEvent) -> dict[str, Any] | None:
    make = _RECORDS.get(type(event))
    if make is None:
        return None
    change: Any = event  # every type in _RECORDS has member_id, at, cause and reason
    return _filled(make(change), change, utc_text(change.at))


def status_line(event: ev.DomainEvent, option: int = 0) -> bytes:
    """`orjson.dumps(status_record(event), option=option)` for a status event, its time left
    for orjson to write as `as_written` gives it (the same text as `utc_text`'s, written once,
    not formatted, decoded and copied first). tests/unit/edge/test_member_events.py holds the
    two equal."""
    change: Any = event
    written = as_written(change.at)
    return _DUMPS(
        _filled(_RECORDS[type(event)](change), change, written), option=option | _NAIVE_UTC
    )


def _filled(record: dict[str, Any], change: Any, at: object) -> dict[str, Any]:
    """A record's common fields after its own, in the wire order."""
    record["member_id"] = change.member_id
    record["at"] = at
    record["cause"] = change.cause
    record["reason"] = change.reason
    return record


_DUMPS: Final = orjson.dumps
_NAIVE_UTC: Final = orjson.OPT_NAIVE_UTC


def utc_text(at: datetime) -> str:
    """`at.isoformat()`. For a UTC time (every event time in the core) orjson writes the same
    text, about 3x faster: `isoformat` formats the offset through sprintf, ~0.9 us a status
    change. tests/unit/edge/test_member_events.py holds the two equal."""
    if at.tzinfo is UTC:
        return orjson.dumps(at)[1:-1].decode()
    return at.isoformat()
