"""The edge: wire models in, the core's plain inputs out (and back, for follow-ups)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from edge.wire_fast import FastDecoder
from loyalty import inputs as i
from schemas import events as w


class Undecodable(ValueError):
    """Bytes that are not a valid event; the message says why (field paths included)."""


def describe(exc: ValidationError, limit: int = 8) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def decode_external(raw: bytes | str) -> i.Input:
    """Decode one external event (JSON) into a core input, or raise Undecodable."""
    return _decode(_EXTERNAL, raw, _FAST_EXTERNAL)


def decode_any(raw: bytes | str) -> i.Input:
    """Like `decode_external`, also accepting the engine's internal follow-ups."""
    return _decode(w.ANY, raw, _FAST_ANY)


def validated(adapter: TypeAdapter[Any], raw: bytes | str) -> i.Input:
    """The contract's own decoding, pydantic only (what the fast path must agree with)."""
    return _decode(adapter, raw)


def _decode(
    adapter: TypeAdapter[Any], raw: bytes | str, fast: FastDecoder | None = None
) -> i.Input:
    """Through the fast path where it takes the event, else pydantic (decides, words why)."""
    if fast is not None:
        decoded = fast.decode(raw)
        if decoded is not None:
            # Not `_convert(*decoded)`: compiled, a starred call is a generic Python call.
            return _convert(decoded[0], decoded[1])
    try:
        model = adapter.validate_json(raw)
    except ValidationError as exc:
        raise Undecodable(describe(exc)) from None
    return to_input(model)


def _flight(f: w.FlightSegment) -> i.Flight:
    return i.Flight(
        f.booking_ref,
        f.carrier,
        f.flight_number,
        f.origin,
        f.destination,
        f.flight_date,
        f.distance_miles,
        f.fare_class,
        f.cabin.value,
        f.base_fare,
        f.carrier_surcharges,
        f.taxes,
        f.currency,
    )


def _segment_id(e: w.FlightCancelled) -> str:
    return (
        f"{e.booking_ref}:{e.carrier}{e.flight_number}:{e.flight_date.isoformat()}:"
        f"{e.origin}-{e.destination}"
    )


_TO_INPUT: Final[dict[type, Callable[[Any, Any], i.Input]]] = {
    w.MemberEnrolled: lambda e, at: i.Enrol(
        e.event_id, e.member_id, at, e.enrolled_on, tuple(sorted(e.segment.items()))
    ),
    w.Purchase: lambda e, at: i.Purchase(
        e.event_id, e.member_id, at, e.merchant, e.category, e.amount, e.currency, e.sale_id
    ),
    w.Refund: lambda e, at: i.Refund(e.event_id, e.member_id, at, e.sale_id, e.amount, e.currency),
    w.FlightFlown: lambda e, at: i.FlightFlown(e.event_id, e.member_id, at, _flight(e)),
    w.FlightCancelled: lambda e, at: i.FlightCancelled(e.event_id, e.member_id, at, _segment_id(e)),
    w.PartnerAccrual: lambda e, at: i.PartnerAccrual(
        e.event_id,
        e.member_id,
        at,
        e.partner_id,
        e.partner_txn_id,
        e.category,
        e.amount,
        e.currency,
        e.points,
    ),
    w.Redeem: lambda e, at: i.Redeem(e.event_id, e.member_id, at, e.points, e.reward, e.command_id),
    w.TransferPoints: lambda e, at: i.TransferPoints(
        e.event_id, e.member_id, at, e.to_member_id, e.points, e.command_id
    ),
    w.StatusMatchRequest: lambda e, at: i.StatusMatchRequest(
        e.event_id, e.member_id, at, e.competitor, e.competitor_tier, e.evidence_ref
    ),
    w.RetroClaim: lambda e, at: i.RetroClaim(e.event_id, e.member_id, at, _flight(e.flight)),
    w.ManualAdjustment: lambda e, at: i.ManualAdjustment(
        e.event_id, e.member_id, at, e.points, e.reason, e.operator_id, e.command_id
    ),
    w.HoldDecision: lambda e, at: i.DecideHold(
        e.event_id, e.member_id, at, e.hold_id, e.decision, e.reason, e.operator_id, e.command_id
    ),
    w.Clock: lambda e, at: i.Clock(e.event_id, at, e.settle),
    w.TransferReceived: lambda e, at: i.TransferReceived(
        e.event_id, e.member_id, at, e.from_member_id, e.transfer_id, e.points, e.fee
    ),
    w.TransferReturned: lambda e, at: i.TransferReturned(
        e.event_id, e.member_id, at, e.transfer_id, e.points, e.reason
    ),
}


_UTC: Final = UTC


def to_input(model: w.Envelope) -> i.Input:
    return _convert(type(model), model)


def _convert(kind: type, model: Any) -> i.Input:
    """A wire model, or the fast path's struct that reads like one, as a core input."""
    at = model.occurred_at
    # `astimezone` returns the time itself when it is in UTC already (most events): asked
    # first, without the method call.
    return _TO_INPUT[kind](model, at if at.tzinfo is _UTC else at.astimezone(_UTC))


# The fast path (edge/wire_fast.py): what it accepts, pydantic accepts with the same values;
# anything else goes to pydantic above, which decides and words the rejection.
_FAST_EXTERNAL: Final = FastDecoder(w.EXTERNAL_MODELS)
_FAST_ANY: Final = FastDecoder(w.EXTERNAL_MODELS + w.INTERNAL_MODELS)
# Names read for every event, bound once: compiled, a module-level name that is not `Final`
# is looked up in the module's dict at each use (an imported one, or a module's attribute,
# too).
_EXTERNAL: Final = w.EXTERNAL
