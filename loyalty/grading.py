"""Relative classification inside a segment (grading), exact and mergeable.

Per grading period, the members of a segment are ranked by their period volume (highest
first). With n members and bands of shares s1, s2, ... (top first), band k holds the ranks up
to ceil((s1 + ... + sk) x n). A band's **threshold** is the lowest volume still inside it, so
a member whose own volume fell can still move up if the segment fell further.

Documented rules:
- Ties go up: every member with a volume >= a band's threshold is in that band (or higher), so
  equal volumes always get the same band.
- Zero volume is never "in" a band above the last: a band's boundary stops at the last member
  with volume, and members without volume fall to the last band.
- Segments with fewer than `min_segment_size` members are not ranked: every member gets the
  programme's `small_segment_band` (default: the last band).
- Every enrolled member of the segment counts, including those without volume.

Thresholds depend only on the multiset of volumes, so per-partition histograms
(`Counter[volume] -> members`) can be summed and give exactly the thresholds of the whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from fractions import Fraction
from math import ceil
from typing import Final

from loyalty.calendar import MEMO_LIMIT
from loyalty.program_status import Grading
from loyalty.state import MemberState

Histogram = Counter[int]


def period_key(grading: Grading, day: date) -> str:
    """The grading period holding `day`, e.g. `2026-P02`."""
    return period_of(grading.period_months, day)


def period_of(months: int, day: date) -> str:
    """The period of `months` months (aligned on January) holding `day`, e.g. `2026-P02`.
    Called for every credit (with `Hot.grading_months`): remembered (a dict, see
    `loyalty.calendar.MEMO_LIMIT`)."""
    # Per month count, then per day (the one object per day: matched by identity), like
    # `add_months`: a `(day, months)` key tuple was built, hashed and compared per call.
    by_day = _PERIOD_KEYS.get(months)
    if by_day is None:
        by_day = _PERIOD_KEYS[months] = {}
    period = by_day.get(day)
    if period is None:
        index = (day.month - 1) // months + 1
        period = str(day.year) + _PERIOD_SUFFIX[index]
        if len(by_day) >= MEMO_LIMIT:
            by_day.clear()
        by_day[day] = period
    return period


_PERIOD_SUFFIX: Final = tuple(f"-P{index:02d}" for index in range(13))
_PERIOD_KEYS: Final[dict[int, dict[date, str]]] = {}  # month counts: 1-12, a bounded few


def next_period(grading: Grading, key: str) -> str:
    year, index = int(key[:4]), int(key[6:])
    if index * grading.period_months >= 12:
        return f"{year + 1}-P01"
    return f"{year}-P{index + 1:02d}"


def periods_from(grading: Grading, first: str, until: str) -> list[str]:
    """Every period key from `first` up to, not including, `until`, in order."""
    keys: list[str] = []
    key = first
    while key < until:
        keys.append(key)
        key = next_period(grading, key)
    return keys


def segment_of(grading: Grading, attributes: tuple[tuple[str, str], ...]) -> str:
    values = dict(attributes)
    return ".".join([values.get(name, "-") for name in grading.segment_by])


def member_segment(grading: Grading, state: MemberState) -> str:
    """`segment_of` the member's attributes, remembered on the state while the grading and
    the attributes are the same objects: asked twice per member at every grading (keyed by
    value, a dict memo hashed the nested attribute tuples: ~1,200 instructions a call)."""
    memo = state._segment
    attributes = state.attributes
    if memo is not None and memo[0] is grading and memo[1] is attributes:
        return memo[2]
    segment = segment_of(grading, attributes)
    state._segment = (grading, attributes, segment)
    return segment


def merge(histograms: Iterable[Histogram]) -> Histogram:
    total: Histogram = Counter()
    for histogram in histograms:
        total.update(histogram)
    return total


def thresholds(grading: Grading, histogram: Histogram) -> list[int | None]:
    """The threshold of each band but the last (None: the band is empty or would be 0)."""
    n = sum(histogram.values())
    if n < grading.min_segment_size:
        return [None] * (len(grading.bands) - 1)
    volumes = sorted(histogram.items(), reverse=True)  # (volume, count), highest first
    with_volume = sum(count for volume, count in volumes if volume > 0)
    result: list[int | None] = []
    cumulative = Fraction(0)
    for band in grading.bands[:-1]:
        cumulative += Fraction(band.share)
        # 1-based rank of the band's last member, never reaching into zero volumes.
        rank = min(ceil(cumulative * n), with_volume)
        result.append(_volume_at_rank(volumes, rank) if rank >= 1 else None)
    return result


def _volume_at_rank(volumes: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for volume, count in volumes:
        seen += count
        if seen >= rank:
            return volume
    return volumes[-1][0]


def band_for(grading: Grading, limits: list[int | None], volume: int, ranked: bool) -> str:
    if not ranked:
        return grading.default_band
    bands = grading.bands
    # By index, not `zip(...)`: compiled, a call with a keyword goes the generic way, and
    # this runs for every member at every grading. `limits` has one entry fewer than bands.
    for index in range(min(len(bands), len(limits))):
        limit = limits[index]
        if limit is not None and volume >= limit:
            return bands[index].code
    return bands[-1].code


def class_code(segment: str, band: str) -> str:
    """Composite code: the segment part stays, only the band part moves with volume."""
    return f"{segment}-{band}"


def pareto_share(histogram: Histogram, top: Fraction = Fraction(1, 5)) -> Fraction:
    """Share of the volume carried by the top `top` of members (0 when there is none)."""
    n = sum(histogram.values())
    total = sum(v * c for v, c in histogram.items())
    if not n or not total:
        return Fraction(0)
    take, carried = ceil(top * n), 0
    for volume, count in sorted(histogram.items(), reverse=True):
        used = min(count, take)
        carried += used * volume
        take -= used
        if take == 0:
            break
    return Fraction(carried, total)
