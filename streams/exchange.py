"""The partition-exchange topic: what partitions tell each other at a clock.

- follow-up: a transfer's credit or return, sent to the recipient's partition;
- seal: "partition p has applied everything before clock T and sent its follow-ups";
- histograms: partition p's segment volumes for the grading periods clock T ended, and its
  members per segment.

JSON, one record per message; `from` is the sending partition.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from loyalty.book import FollowUp, GradingPart
from streams.state_codec import follow_up_from_json, follow_up_json


@dataclass(frozen=True)
class Forwarded:
    source: int
    follow_up: FollowUp


@dataclass(frozen=True)
class Seal:
    source: int
    clock_id: str


@dataclass(frozen=True)
class Histograms:
    source: int
    clock_id: str
    part: GradingPart


Exchanged = Forwarded | Seal | Histograms


def encode_follow_up(source: int, f: FollowUp) -> bytes:
    return orjson.dumps({"k": "follow_up", "from": source, "follow_up": follow_up_json(f)})


def encode_seal(seal: Seal) -> bytes:
    return orjson.dumps({"k": "seal", "from": seal.source, "clock": seal.clock_id})


def encode_histograms(h: Histograms) -> bytes:
    return orjson.dumps(
        {
            "k": "histograms",
            "from": h.source,
            "clock": h.clock_id,
            # JSON keys are strings: volumes as [volume, count] pairs, sorted for stable bytes.
            "periods": {
                p: {s: sorted(c.items()) for s, c in sorted(segments.items())}
                for p, segments in sorted(h.part.periods.items())
            },
            "sizes": dict(sorted(h.part.sizes.items())),
        }
    )


def decode(raw: bytes) -> Exchanged:
    """Raises ValueError (or KeyError) on a malformed record: the engine wrote it, so a bad one
    is a bug, reported on ops by the caller."""
    d: Any = orjson.loads(raw)
    kind = d["k"]
    if kind == "follow_up":
        return Forwarded(int(d["from"]), follow_up_from_json(d["follow_up"]))
    if kind == "seal":
        return Seal(int(d["from"]), str(d["clock"]))
    if kind == "histograms":
        periods = {
            str(p): {
                s: Counter({int(v): int(n) for v, n in pairs}) for s, pairs in segments.items()
            }
            for p, segments in d["periods"].items()
        }
        sizes = {str(s): int(n) for s, n in d["sizes"].items()}
        return Histograms(int(d["from"]), str(d["clock"]), GradingPart(periods, sizes))
    raise ValueError(f"unknown exchange record kind {kind!r}")
