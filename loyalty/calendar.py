"""Date arithmetic on event time (UTC). No clock is ever read."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Final

DAY: Final = timedelta(days=1)


# Memos for the date arithmetic the hot path repeats (a few hundred distinct days a year).
# Plain dicts, not `lru_cache`: called from the compiled rulebook, an lru_cache wrapper builds
# a key tuple, hashes it and reorders its list through generic calls (~850-1,150 instructions
# a call, measured with callgrind); a dict lookup is a fraction of that. Cleared when full: a
# bound on memory, not a recency order.
MEMO_LIMIT: Final = 65536
_MONTHS_LATER: Final[dict[int, dict[date, date]]] = {}
_MONTH_COUNTS: Final = 256  # distinct month counts remembered (a programme uses a handful)
_ISO_DAYS: Final[dict[date, str]] = {}
# One `date` object per day on the hot path (`day_at`, `Moment`). The memos above (and
# `lot_id`, `period_key`) are keyed by dates: a fresh `date` per input hashed its bytes
# (siphash) and compared by value against the stored key, ~300-700 instructions a lookup
# (callgrind, ~5% of a replay's); the one object per day keeps its hash and matches by
# identity. Cleared when full like the memos, which costs only that speed, never an answer.
# Days from 1900 to 2100 are kept in a list indexed by ordinal (~590 KB of slots): a dict
# keyed by ints compared each fresh int object with the stored key through a generic rich
# comparison (~230 instructions a lookup, ~2 lookups an input, callgrind). Other days (a
# bad input's, a test's) use the dict.
_FIRST_LISTED: Final = date(1900, 1, 1).toordinal()
_LISTED: Final = date(2101, 1, 1).toordinal() - _FIRST_LISTED
_DAY_LIST: Final[list[date | None]] = [None] * _LISTED
_DAYS: Final[dict[int, date]] = {}


def day_at(ordinal: int) -> date:
    """The day with this day ordinal: one `date` object per day (see `_DAYS`)."""
    index = ordinal - _FIRST_LISTED
    if 0 <= index < _LISTED:
        listed = _DAY_LIST[index]
        if listed is None:
            listed = _DAY_LIST[index] = date.fromordinal(ordinal)
        return listed
    day = _DAYS.get(ordinal)
    if day is None:
        day = date.fromordinal(ordinal)
        if len(_DAYS) >= MEMO_LIMIT:
            _DAYS.clear()
        _DAYS[ordinal] = day
    return day


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, clamped to the month's last day."""
    # Per month count, then per day: two lookups by keys that hash for free (a small int, a
    # day's one object), where a `(day, months)` key was a tuple built and hashed per call.
    by_day = _MONTHS_LATER.get(months)
    if by_day is None:
        if len(_MONTHS_LATER) >= _MONTH_COUNTS:
            _MONTHS_LATER.clear()
        by_day = _MONTHS_LATER[months] = {}
    later = by_day.get(day)
    if later is None:
        total = day.month - 1 + months
        year, month = day.year + total // 12, total % 12 + 1
        later = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
        later = day_at(later.toordinal())
        if len(by_day) >= MEMO_LIMIT:
            by_day.clear()
        by_day[day] = later
    return later


def iso_day(day: date) -> str:
    """`day.isoformat()`, remembered: the daily counters' keys need it three times an accrual,
    and the C `isoformat` formats through sprintf."""
    text = _ISO_DAYS.get(day)
    if text is None:
        text = day.isoformat()
        if len(_ISO_DAYS) >= MEMO_LIMIT:
            _ISO_DAYS.clear()
        _ISO_DAYS[day] = text
    return text


def iso_day_before(day: date) -> str:
    """`(day - 1 day).isoformat()`, remembered like `iso_day` (the daily counters drop keys
    older than it at every accrual; `day - DAY` made a new date to hash each time)."""
    text = _ISO_DAYS_BEFORE.get(day)
    if text is None:
        text = (day - DAY).isoformat()
        if len(_ISO_DAYS_BEFORE) >= MEMO_LIMIT:
            _ISO_DAYS_BEFORE.clear()
        _ISO_DAYS_BEFORE[day] = text
    return text


_ISO_DAYS_BEFORE: Final[dict[date, str]] = {}


def days_before(at: datetime, days: int) -> date:
    """The day `days` days before `at`'s day, by ordinal (no date arithmetic), as the one
    object per day (`day_at`)."""
    return day_at(moment_of(at).ordinal - days)


def start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class Moment:
    """A time with its day and day ordinal: one immutable entry, replaced and read whole."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        ordinal = at.toordinal()
        self.ordinal = ordinal
        self.day = day_at(ordinal)


class _Last:
    def __init__(self) -> None:
        self.moment = Moment(datetime.min)


_LAST: Final = _Last()


def moment_of(at: datetime) -> Moment:
    """`at` with its day and day ordinal, remembered for the time asked about last. An input's
    (or a clock's) time is asked for its day ~8 times along the hot path, and each `date()` or
    `toordinal()` from the compiled rulebook is a generic method call (~330-600 instructions,
    measured with callgrind) where this is a few native reads. Keyed by identity, which is
    safe: the entry holds its time, so the object cannot be freed and its id reused."""
    moment = _LAST.moment
    if moment.at is not at:
        moment = Moment(at)
        _LAST.moment = moment
    return moment


def day_of(at: datetime) -> date:
    """`at.date()` (see `moment_of`)."""
    return moment_of(at).day


def ordinal_of(at: datetime) -> int:
    """`at.toordinal()` (see `moment_of`)."""
    return moment_of(at).ordinal


class _Written:
    def __init__(self) -> None:
        self.at = datetime.min
        self.written: datetime | str = datetime.min


_WRITTEN: Final = _Written()


def as_written(at: datetime) -> datetime | str:
    """`at` as orjson is to write it with `orjson.OPT_NAIVE_UTC`, giving the text it writes
    for `at` without that option: a UTC time without its zone (written the same, "+00:00"),
    any other time as its ISO text (`isoformat`, what orjson writes for it). Remembered for
    the time asked about last, by identity like `moment_of`. Why: for a zoned time orjson
    asks the zone for three attributes a `timezone` does not have (each a raised and cleared
    AttributeError) and calls `utcoffset`, ~1,000 instructions a time (callgrind), and a
    replay writes ~3.5 times a line (the digest, ledger lines, status lines); a naive time it
    writes at once."""
    memo = _WRITTEN
    if memo.at is not at:
        # By a difference, not `replace(tzinfo=None)`: its keyword is parsed generically,
        # ~7,800 instructions a call (callgrind) against a few hundred for two operators.
        memo.written = _NAIVE_EPOCH + (at - _EPOCH) if at.tzinfo is _UTC else at.isoformat()
        memo.at = at
    return memo.written


_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
_UTC: Final = UTC  # bound as `Final`: an imported name is a dict lookup per use, compiled
_NAIVE_EPOCH: Final = datetime(2000, 1, 1)
