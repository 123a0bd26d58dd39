"""The member-state codec: exact round trips, and a book restored mid-stream ends the same."""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import inputs as i
from loyalty.book import Book
from loyalty.identity import digest, digest_v1, key_of
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


@common
@given(st.sampled_from(core_props.PROGRAMS), core_props.sequences, st.integers(0, 90))
def test_a_worker_restored_from_memories_of_digest_version_1_treats_every_copy_the_same(
    program: Any, actions: list[tuple[Any, ...]], cut: int
) -> None:
    """A changelog written before digest version 2 holds version-1 digests (loyalty/identity.py).
    A book restored from it must answer every input sent again (copies of what it remembers,
    and the rest) exactly as a book restored from version-2 memories, and end in the same
    states."""
    inputs = core_props.build(actions)
    cut = min(cut, len(inputs))
    first = core_props.run(program, inputs[:cut])
    # What each remembered key was remembered for: its first input, per member (clocks: "").
    firsts: dict[tuple[str, str], i.Input] = {}
    for inp in inputs[:cut]:
        owner = "" if isinstance(inp, i.Clock) else inp.member_id
        firsts.setdefault((owner, key_of(inp)), inp)
    converted = 0

    def as_version_1(prints: dict[str, tuple[str, int]], owner: str) -> dict[str, tuple[str, int]]:
        nonlocal converted
        older = {}
        for key, (print_, day) in prints.items():
            inp = firsts.get((owner, key))
            if inp is not None and digest(inp) == print_:
                older[key] = (digest_v1(inp), day)
                converted += 1
            else:  # a follow-up's key (not among the inputs): left as it is
                older[key] = (print_, day)
        return older

    old_states = []
    for state in first.members.values():
        copy = decode(encode(state))
        copy.seen = as_version_1(copy.seen, copy.member_id)
        old_states.append(decode(encode(copy)))
    marks = first.marks()
    old_marks = replace(
        marks,
        clocks=as_version_1(marks.clocks, ""),
        strangers={m: as_version_1(seen, m) for m, seen in marks.strangers.items()},
    )
    assert converted > 0 or cut == 0
    old, new = Book(program), Book(program)
    old.restore(old_states, decode_marks(encode_marks(old_marks)))
    new.restore(
        (decode(encode(s)) for s in first.members.values()), decode_marks(encode_marks(marks))
    )
    for inp in inputs:
        a, b = old.handle(inp), new.handle(inp)
        assert (a.kind, a.rejection and a.rejection.code) == (
            b.kind,
            b.rejection and b.rejection.code,
        )
    assert core_props.without_seen(old.members) == core_props.without_seen(new.members)
