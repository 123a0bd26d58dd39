"""What makes two inputs "the same": the key an input is remembered under and a digest of its
meaning.

- The key is the client's command id where a command carries one (a retried command gets a new
  event id and time from whoever retries it, yet must not be carried out twice), otherwise the
  event id. Command keys contain `#`, which wire identifiers cannot, so the two never collide.
- The digest covers the input's content, canonically: a decimal is compared by value (`100` and
  `100.0` are one amount), time in UTC (the edge already converts), key order on the wire does
  not exist here. The event id is the key, so it is left out; for a command keyed by its command
  id, the event id and time are left out too (a retry is stamped anew).

Stable across processes (Python's `hash()` is salted), so the stream and replay agree.

Digests are persisted (the member and clock memories in the stream's changelog), so a change of
how they are computed is versioned: the length of a digest tells its version. A remembered
digest of an older version is compared by computing that version for the new copy
(`same_input`), which happens only when a key comes again.
- version 1 (16 hex digits): blake2b of the `repr` of the values; `repr` of a datetime with a
  zone formats through sprintf, ~2 us of the ~4 us a digest took (docs/performance.md);
- version 2 (18 hex digits): blake2b of the values as JSON (orjson), a decimal as the text of
  its normalised value. A field's type is fixed, so that text cannot meet a string's in one
  position;
- version 3 (20 hex digits, current): the same JSON, hashed by XXH3-128 and cut to 80 bits. One
  call of a module's C function where blake2b took three method calls, generic from compiled
  code (~3,700 instructions an input, 3% of a replay's: docs/performance.md). Not a
  cryptographic hash: what it guards against is a payload changed by accident under a used
  id, and a forged collision would only get an input dropped as a duplicate instead of
  rejected as a conflict.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import orjson
import xxhash

from loyalty import inputs as i
from loyalty.calendar import as_written

COMMAND_KEY: Final = "cmd#"
# By exact type, not `isinstance` with a tuple: from compiled code that is a generic call per
# type in the tuple (~1,000 instructions, twice an input). Input types are not subclassed.
_COMMANDS: Final[frozenset[type]] = frozenset(
    {i.Redeem, i.TransferPoints, i.ManualAdjustment, i.DecideHold}
)


def key_of(inp: i.MemberInput | i.Clock) -> str:
    """The key the input is remembered under, per member (or per book, for clocks)."""
    if type(inp) in _COMMANDS:
        command_id: str | None = getattr(inp, "command_id")  # noqa: B009 (one of _COMMANDS)
        if command_id:
            return COMMAND_KEY + command_id
    return inp.event_id


def digest(inp: i.MemberInput | i.Clock) -> str:
    """A digest of the input's meaning (see the module docstring), current version."""
    return _XXH3_128(_content(inp))[:_V3_LENGTH]


def digest_v2(inp: i.MemberInput | i.Clock) -> str:
    """Version 2 of the digest, for digests remembered before version 3."""
    hasher = _BLAKE2B_9.copy()
    hasher.update(_content(inp))
    return hasher.hexdigest()


def _content(inp: i.MemberInput | i.Clock) -> bytes:
    """The values versions 2 and 3 hash: JSON, decimals by their normalised text."""
    values = _frequent_values(inp)
    if values is None:
        return _DUMPS(_values(inp), default=_JSON)
    # The time is given as `as_written` makes it: the same bytes, without orjson's zone calls.
    return _DUMPS(values, default=_JSON, option=_NAIVE_UTC)


def _frequent_values(inp: i.MemberInput | i.Clock) -> list[Any] | None:
    """`_values`, written out for the frequent input types, with decimals already as `_json`
    writes them and a flight as the dict orjson makes of it: from compiled code, `getattr` by
    name, orjson's callbacks and its walk over a dataclass are generic (about a quarter of a
    digest's instructions). The bytes written are the general form's, which a property test
    holds every type here to (tests/unit/core/test_idempotency.py). None for other types."""
    if isinstance(inp, i.Purchase):
        return [
            "Purchase",
            inp.member_id,
            as_written(inp.at),
            inp.merchant,
            inp.category,
            _text(inp.amount),
            inp.currency,
            inp.sale_id,
        ]
    if isinstance(inp, i.FlightFlown):
        return ["FlightFlown", inp.member_id, as_written(inp.at), _flight(inp.flight)]
    if isinstance(inp, i.PartnerAccrual):
        return [
            "PartnerAccrual",
            inp.member_id,
            as_written(inp.at),
            inp.partner_id,
            inp.partner_txn_id,
            inp.category,
            None if inp.amount is None else _text(inp.amount),
            inp.currency,
            inp.points,
        ]
    if isinstance(inp, i.Enrol):
        return ["Enrol", inp.member_id, as_written(inp.at), inp.enrolled_on, inp.attributes]
    if isinstance(inp, i.Refund):
        amount = None if inp.amount is None else _text(inp.amount)
        return ["Refund", inp.member_id, as_written(inp.at), inp.sale_id, amount, inp.currency]
    if isinstance(inp, i.FlightCancelled):
        return ["FlightCancelled", inp.member_id, as_written(inp.at), inp.segment_id]
    if isinstance(inp, i.RetroClaim):
        return ["RetroClaim", inp.member_id, as_written(inp.at), _flight(inp.flight)]
    return None


def _text(amount: Decimal) -> str:
    """`str(amount.normalize())`, as `_json` writes a decimal. A plain text with places and
    no trailing zero is already normal (its last digit ends the coefficient, so there is no
    zero to strip, and 28 characters hold no more digits than the context's precision, so
    nothing rounds): wire amounts almost always are, and `normalize` is a generic call."""
    text = str(amount)
    if len(text) <= 28 and text[-1] != "0" and "." in text and "E" not in text:
        return text
    return str(amount.normalize())


def _flight(f: i.Flight) -> dict[str, Any]:
    return {
        "booking_ref": f.booking_ref,
        "carrier": f.carrier,
        "flight_number": f.flight_number,
        "origin": f.origin,
        "destination": f.destination,
        "flight_date": f.flight_date,
        "distance_miles": f.distance_miles,
        "fare_class": f.fare_class,
        "cabin": f.cabin,
        "base_fare": _text(f.base_fare),
        "carrier_surcharges": _text(f.carrier_surcharges),
        "taxes": _text(f.taxes),
        "currency": f.currency,
    }


# Copied per digest, not built: `blake2b(data, digest_size=9)` parses its keywords generically
# on every call (copy and update: ~270 ns against ~375). The names are bound once: from
# compiled code `orjson.dumps` is a module attribute lookup per call.
_BLAKE2B_9: Final = hashlib.blake2b(digest_size=9)
_DUMPS: Final = orjson.dumps
_NAIVE_UTC: Final = orjson.OPT_NAIVE_UTC
_XXH3_128: Final = xxhash.xxh3_128_hexdigest
_V3_LENGTH: Final = 20
_V2_LENGTH: Final = 18


def same_input(remembered: str, inp: i.MemberInput | i.Clock, print_: str) -> bool:
    """Whether `inp` (whose current digest is `print_`) means what the remembered digest
    meant, whichever version the remembered one is."""
    if remembered == print_:
        return True
    if len(remembered) == _V2_LENGTH:
        return remembered == digest_v2(inp)
    return len(remembered) == _V1_LENGTH and remembered == digest_v1(inp)


def digest_v1(inp: i.MemberInput | i.Clock) -> str:
    """Version 1 of the digest, for digests remembered before version 2."""
    values = [v if type(v) in _PLAIN else _value(v) for v in _values(inp)]
    # repr of str, int, None, UTC datetimes, dates and normalised decimals is stable across
    # processes and runs in C; it is what the digest covers.
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


_V1_LENGTH: Final = 16


def _values(inp: i.MemberInput | i.Clock) -> list[Any]:
    """The input's kind and content fields, as they are."""
    kind = type(inp)
    command = kind in _COMMANDS and bool(getattr(inp, "command_id"))  # noqa: B009
    values: list[Any] = [kind.__name__]
    append = values.append
    later = _LATER_FIELDS.get(kind)
    for name in _content_fields(kind, command):
        value = getattr(inp, name)
        if later is not None and name in later and later[name] == value:
            continue
        append(value)
    return values


def _json(value: Any) -> Any:
    """What orjson cannot write itself: a decimal, by its normalised value (100, 100.0 and
    1E+2 are one amount)."""
    if type(value) is Decimal:
        return str(value.normalize())
    raise TypeError(f"no digest for a {type(value).__name__}")


_JSON: Final = _json  # a function as a value: `Final`, or a dict lookup per digest

_PLAIN = frozenset({str, int, bool, float, type(None), datetime, date})


def _value(value: Any) -> Any:
    kind = type(value)
    if kind is Decimal:
        return value.normalize()  # 100, 100.0 and 1E+2 are one value: Decimal('1E+2')
    # Plain members are kept without a call (a flight has 13 fields, an enrolment's
    # attributes are pairs): the nested values were most of a flight's digest.
    if kind is tuple:
        return tuple([v if type(v) in _PLAIN else _value(v) for v in value])
    # The type's own attribute, not `is_dataclass`: that helper costs ~2% of a replay here.
    if hasattr(kind, "__dataclass_fields__"):
        nested: list[Any] = [kind.__name__]
        for name in _field_names(kind):
            v = getattr(value, name)
            nested.append(v if type(v) in _PLAIN else _value(v))
        return tuple(nested)
    return value


_CONTENT: dict[tuple[type, bool], tuple[str, ...]] = {}
# Fields added after inputs were first digested, with the value they had implicitly before:
# left out at that value, so digests persisted earlier (changelogs) still match their copies.
_LATER_FIELDS: dict[type, dict[str, Any]] = {i.Clock: {"settle": True}}


def _content_fields(kind: type, command: bool) -> tuple[str, ...]:
    names = _CONTENT.get((kind, command))
    if names is None:
        skip = ("event_id", "at") if command else ("event_id",)
        names = tuple(n for n in _field_names(kind) if n not in skip)
        _CONTENT[kind, command] = names
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: Any) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    return names
