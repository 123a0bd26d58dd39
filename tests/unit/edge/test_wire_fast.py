"""The wire decoder's fast path (edge/wire_fast.py) against the contract (pydantic): for any
line, valid or broken, decoding gives the same core input (same value and same repr, so the
same bytes downstream) or the same rejection message as pydantic alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, field_validator

from edge.translate import _FAST_ANY, Undecodable, decode_any, validated
from edge.wire_fast import _CANONICAL, _CLASSES, FastDecoder, _Shapes, invariant
from schemas import events as w
from tests.unit.test_wire_schemas import BASE, VALID

INTERNAL = {
    "clock": {},
    "hold_decision": {"command_id": "c-4", "hold_id": "e1/hold", "decision": "release"},
    "transfer_received": {
        "from_member_id": "M2",
        "transfer_id": "t-1",
        "points": 500,
        "fee": 10,
    },
    "transfer_returned": {"transfer_id": "t-1", "points": 500, "reason": "unknown member"},
    "partner_accrual_amount": {
        "partner_id": "hotel-co",
        "partner_txn_id": "t2",
        "category": "hotel",
        "amount": "120.0",
        "currency": "EUR",
    },
}
EVENTS: dict[str, dict[str, Any]] = {}
for _kind, _fields in {**VALID, **INTERNAL}.items():
    _type = "partner_accrual" if _kind == "partner_accrual_amount" else _kind
    _base = {k: v for k, v in BASE.items() if _type != "clock" or k != "member_id"}
    EVENTS[_kind] = {**_base, "type": _type, **_fields}

# Values near every edge the narrowed fast path draws, and ones only pydantic accepts.
TRICKY: list[Any] = [
    *("", " ", "x", "SEK", "SEK\n", "sek", "SE", "x" * 128, "x" * 129, "a\x00b", "é", "M 1"),
    *("12.50", "012.5", "0", "0.0", "0.00001", "1e2", "-1", "+1", "1_000", " 1", "1.", ".5"),
    *("1234567890.1234", "12345678901.1", "1234567890.12345", "123456789012345", "0001.5"),
    *("1234567890123.45", "NaN", "Infinity", "12.5000"),
    *("2026-03-01T10:00:00Z", "2026-03-01T10:00:00+00:00", "2026-03-01 10:00:00+00:00"),
    *("2026-03-01T10:00:00", "2026-03-01T10:00:00.1234567+00:00", "2026-03-01T10:00:00.5-05:30"),
    *("2026-13-01T10:00:00+00:00", "2026-03-01T24:00:00+00:00", "2026-03-01T10:00:00+24:00"),
    *("2026-02-29", "2028-02-29", "2026-03-01", "20260301", "economy", "ECONOMY", "release"),
    *(0, 1, -1, 1.0, 12.5, 1e2, 10**12, 12_500, 12_501, 1_000_000_001, True, False, None),
    *([], {}, {"a": "b"}, {"k" * 129: "v"}, {f"k{n}": "v" for n in range(21)}, [1, 2]),
]


def outcome(decode: Any, raw: bytes) -> tuple[str, str]:
    try:
        return "ok", repr(decode(raw))
    except Undecodable as exc:
        return "rejected", str(exc)


def contract(raw: bytes) -> Any:
    return validated(w.ANY, raw)


def test_the_fast_path_takes_every_valid_example() -> None:
    for kind, fields in EVENTS.items():
        raw = orjson.dumps(fields)
        assert _FAST_ANY.decode(raw) is not None, kind
        assert outcome(decode_any, raw) == outcome(contract, raw), kind


def test_a_generated_workload_decodes_alike(tmp_path: Path) -> None:
    from entrypoints.generate import generate

    path = tmp_path / "events.jsonl"
    generate(200, 3000, 11, path, None, progress=False)
    lines = path.read_bytes().splitlines()
    taken = sum(_FAST_ANY.decode(line) is not None for line in lines)
    assert taken > 0.9 * len(lines)  # the common case is the fast one
    for line in lines:
        assert outcome(decode_any, line) == outcome(contract, line), line


def test_every_field_with_every_tricky_value() -> None:
    for kind, fields in EVENTS.items():
        for name in fields:
            for value in TRICKY:
                raw = orjson.dumps({**fields, name: value})
                assert outcome(decode_any, raw) == outcome(contract, raw), (kind, name, value)
            if name == "flight":
                for inner in fields["flight"]:
                    for value in TRICKY:
                        flight = {**fields["flight"], inner: value}
                        raw = orjson.dumps({**fields, "flight": flight})
                        assert outcome(decode_any, raw) == outcome(contract, raw), (inner, value)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(sorted(EVENTS)))
    fields = dict(EVENTS[kind])
    flight = dict(fields["flight"]) if "flight" in fields else None
    for _ in range(draw(st.integers(0, 3))):
        target = fields if flight is None or draw(st.booleans()) else flight
        action = draw(st.sampled_from(["set", "drop", "add"]))
        name = draw(st.sampled_from(sorted(target)))
        if action == "set":
            target[name] = draw(st.sampled_from(TRICKY) | st.text(max_size=12))
        elif action == "drop":
            target.pop(name)
        else:
            target[draw(st.sampled_from(["extra", name.upper(), "type"]))] = draw(
                st.sampled_from(TRICKY)
            )
    if flight is not None:
        fields["flight"] = flight
    items = list(fields.items())
    if draw(st.booleans()):
        items = draw(st.permutations(items))
    text = b"{" + b",".join(orjson.dumps(k) + b":" + orjson.dumps(v) for k, v in items)
    if items and draw(st.booleans()):  # a key twice: the later value counts in both
        key = draw(st.sampled_from([k for k, _ in items]))
        text += b"," + orjson.dumps(key) + b":" + orjson.dumps(draw(st.sampled_from(TRICKY)))
    return text + b"}" + draw(st.sampled_from([b"", b" ", b"\n", b"x"]))


@settings(max_examples=3000, deadline=None)
@given(mutated())
def test_any_line_decodes_as_the_contract_says(raw: bytes) -> None:
    assert outcome(decode_any, raw) == outcome(contract, raw)


def test_generation_refuses_what_it_cannot_follow() -> None:
    class Checked(BaseModel):
        model_config = ConfigDict(extra="forbid")
        code: str

        @field_validator("code")
        @classmethod
        def _upper(cls, value: str) -> str:
            return value.upper()

    class Lenient(BaseModel):
        code: str

    for model in (Checked, Lenient):
        with pytest.raises(TypeError, match="wire_fast"):
            FastDecoder([model])


# -- the shapes' memo (`_Shapes`): a text's canonical form stands for the text -------------------

_SHAPES = {
    struct.__name__: finisher.shapes
    for struct, (_, finisher) in _FAST_ANY._finish.items()
    if finisher.shapes.memo is not None
}
_GROUPS = [sorted(group) for group in _CLASSES]
_GROUP_OF = {char: group for group in _GROUPS for char in group}


def test_every_event_kind_has_its_memo() -> None:
    # The contract's shapes are all ones the memo can stand for; one that is not would
    # silently lose the memo's speed, so it is a failure here.
    assert len(_SHAPES) == len(_FAST_ANY._finish)


@st.composite
def same_form_pair(draw: st.DrawFn) -> tuple[Any, str, str]:
    """A struct's shapes, a text (often a match, then maybe broken), and a text of its form."""
    shapes = _SHAPES[draw(st.sampled_from(sorted(_SHAPES)))]
    text = draw(st.from_regex(shapes.whole, fullmatch=True))
    for _ in range(draw(st.integers(0, 2))):  # broken: a character changed, added or dropped
        at = draw(st.integers(0, len(text)))
        char = draw(st.characters(max_codepoint=127))
        cut = draw(st.integers(0, 1))
        text = text[:at] + char + text[at + cut :]
    other = "".join(
        chr(draw(st.sampled_from(_GROUP_OF[ord(c)]))) if ord(c) < 128 else c for c in text
    )
    return shapes, text, other


@settings(max_examples=2000, deadline=None)
@given(same_form_pair())
def test_texts_of_one_form_match_alike(pair: tuple[Any, str, str]) -> None:
    shapes, text, other = pair
    assert text.encode().translate(_CANONICAL) == other.encode().translate(_CANONICAL)
    assert (shapes.whole.fullmatch(text) is None) == (shapes.whole.fullmatch(other) is None)
    # and through the memo, in either order, as the expression alone says
    for first, second in ((text, other), (other, text)):
        fresh = _Shapes(shapes.whole.pattern)
        assert fresh.match(first) == (fresh.whole.fullmatch(first) is not None)
        assert fresh.match(second) == (fresh.whole.fullmatch(second) is not None)


def test_invariance_is_refused_when_a_pattern_tells_a_class_apart() -> None:
    refused = ["a", "[1-9]", "[a-f]", r"\d", r"\w", "(?i)A", "x|y", r"\b0", "(a)\\1", "(?=0)"]
    for pattern in refused:
        assert not invariant(pattern), pattern
    for pattern in ["T", "Z", "[A-Z]{3}", "[^a-z]", "[0-9]+", "(?:Z|[+-])", "[A-Za-z0-9_.:/-]+"]:
        assert invariant(pattern), pattern
