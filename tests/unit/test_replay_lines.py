"""How replay tells a blank line (not an event, not counted) from an event line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.replay import blank

# Every byte, with the whitespace ones (and the rest of ASCII) far more likely than by chance.
BYTES = st.binary(max_size=40) | st.lists(
    st.sampled_from(list(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0a{")), max_size=12
).map(bytes)


@settings(max_examples=1000, deadline=None)
@given(BYTES)
def test_a_line_is_blank_exactly_when_stripping_leaves_nothing(line: bytes) -> None:
    assert blank(line) == (not line.strip())
