"""The member-state codec: exact round trips, and a book restored mid-stream ends the same."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.book import Book
from streams.state_codec import decode, decode_marks, encode, encode_marks
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
