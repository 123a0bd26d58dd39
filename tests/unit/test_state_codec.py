"""The member-state codec: exact round trips, and a book restored mid-stream ends the same."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.book import Book
from schemas.status import MemberStatus
from streams.runner import status_json
from streams.state_codec import COMPRESS_FROM, decode, decode_marks, encode, encode_marks
from tests.unit.core import test_properties as core_props
from tests.unit.core import test_status_properties as status_props
from tests.unit.core.status_world import status_program

STATUS_PROGRAM = status_program()
common = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(st.sampled_from(core_props.PROGRAMS), core_props.sequences)
def test_every_member_state_round_trips(program: Any, actions: list[tuple[Any, ...]]) -> None:
    book = core_props.run(program, core_props.build(actions))
    for state in book.members.values():
        assert decode(encode(state)) == state


@common
@given(st.lists(status_props.action, max_size=60), st.integers(0, 60))
def test_a_book_restored_from_encoded_states_continues_identically(
    actions: list[tuple[Any, ...]], cut: int
) -> None:
    program = STATUS_PROGRAM
    inputs = status_props.build(actions)
    cut = min(cut, len(inputs))
    whole = Book(program)
    for inp in inputs:
        whole.handle(inp)
    first = Book(program)
    for inp in inputs[:cut]:
        first.handle(inp)
    restored = Book(program)
    restored.restore(
        (decode(encode(s)) for s in first.members.values()),
        decode_marks(encode_marks(first.marks())),
    )
    for inp in inputs[cut:]:
        restored.handle(inp)
    assert restored.members == whole.members


@common
@given(st.sampled_from(core_props.PROGRAMS), core_props.sequences)
def test_small_states_are_plain_json_heavy_ones_compressed_and_both_read_back(
    program: Any, actions: list[tuple[Any, ...]]
) -> None:
    book = core_props.run(program, core_props.build(actions))
    for state in book.members.values():
        small = encode(state)
        assert small[:1] == b"{" and len(small) < COMPRESS_FROM
        # Records written before plain JSON (every state compressed) still read back.
        assert decode(zlib.compress(small, 1)) == state
        # A heavy member: a year of remembered event ids pushes it past the threshold.
        heavy = decode(small)
        heavy.seen.update({f"e-{n:06d}": ("0123456789abcdef", 740_000) for n in range(2_000)})
        raw = encode(heavy)
        assert raw[:1] != b"{" and len(orjson.loads(zlib.decompress(raw))["state"]["seen"]) >= 2_000
        assert decode(raw) == heavy


@common
@given(st.sampled_from(core_props.PROGRAMS), core_props.sequences, st.none() | st.text(max_size=8))
def test_status_records_are_the_wire_model_byte_for_byte(
    program: Any, actions: list[tuple[Any, ...]], last_event_id: str | None
) -> None:
    book = core_props.run(program, core_props.build(actions))
    for state in book.members.values():
        today = state.as_of.date()
        model = MemberStatus(
            member_id=state.member_id,
            points=state.available(today),
            version=state.version,
            last_event_id=last_event_id,
            pending=state.pending(today),
            tier=state.tier,
            class_code=state.class_code,
            stage=state.stage,
            qualifying=dict(state.qualifying),
            held=sum(h.points for h in state.held),
            in_flight=sum(state.in_flight.values()),
        )
        assert status_json(state, last_event_id) == model.model_dump_json().encode()
