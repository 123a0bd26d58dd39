"""Every grading period that ended is graded, in order, however sparse the clocks are; and
books that each hold a share of the members (stream partitions) grade exactly like one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty import inputs as i
from loyalty.book import Book
from loyalty.program import Program
from tests.unit.core.status_world import status_program
from tests.unit.core.world import at

PROGRAM = status_program()


def history(members: int = 8) -> list[i.MemberInput]:
    """Members in one segment, spending in Q1 and (a different ranking) in Q2."""
    inputs: list[i.MemberInput] = []
    for n in range(members):
        member = f"M{n}"
        inputs.append(i.Enrol(f"en-{n}", member, at(0), at(0).date(), (("market", "SE"),)))
        for quarter, amount in ((0, 100 * (n + 1)), (1, 100 * (members - n))):
            day = 10 + 91 * quarter
            inputs.append(
                i.Purchase(
                    f"p{quarter}-{n}",
                    member,
                    at(day),
                    "m",
                    "food",
                    Decimal(amount),
                    "EUR",
                    f"s{quarter}-{n}",
                )
            )
    return inputs


def graded(book: Book) -> list[str]:
    return sorted({g.period for g in book.gradings})


def test_periods_before_the_first_clock_are_graded_in_order() -> None:
    book = Book(PROGRAM)
    for inp in history():
        book.handle(inp)
    outcome = book.handle(i.Clock("c1", at(200)))  # the first clock falls in Q3
    assert graded(book) == ["2026-P01", "2026-P02"]
    reasons = [e.reason for _, e in outcome.events if type(e).__name__ == "ClassChanged"]
    assert any(r.startswith("2026-P01") for r in reasons)
    assert any(r.startswith("2026-P02") for r in reasons)
    # The final class is the latest period's: M7 spent least in Q2.
    assert book.members["M7"].class_code == "SE-P"
    assert book.members["M0"].class_code == "SE-K"


def test_a_period_without_a_clock_inside_is_graded_at_the_next_clock() -> None:
    book = Book(PROGRAM)
    book.handle(i.Clock("c0", at(1)))
    for inp in history():
        book.handle(inp)
    book.handle(i.Clock("c1", at(300)))  # Q1, Q2 and Q3 ended since c0
    assert graded(book) == ["2026-P01", "2026-P02", "2026-P03"]
    order = [g.period for g in book.gradings]
    assert order == sorted(order)


@pytest.mark.parametrize("first_clock_day", [40, 200, 400])
@pytest.mark.parametrize("split", [2, 3])
def test_partitioned_books_grade_like_one_book(first_clock_day: int, split: int) -> None:
    program: Program = PROGRAM
    whole = Book(program)
    parts = [Book(program) for _ in range(split)]
    for inp in history(11):
        whole.handle(inp)
        parts[int(inp.member_id[1:]) % split].handle(inp)
    for clock in (i.Clock("c1", at(first_clock_day)), i.Clock("c2", at(first_clock_day + 380))):
        whole.handle(clock)
        offered = [book.close_period(clock) for book in parts]
        if all(o is None for o in offered):
            continue
        shares = [book.segment_histograms(o or []) for book, o in zip(parts, offered, strict=True)]
        for book in parts:
            book.grade_with(shares, clock.at, clock.event_id)
    for book in parts:
        for member_id, state in book.members.items():
            assert state.class_code == whole.members[member_id].class_code, member_id
    assert [(g.period, g.thresholds) for g in parts[0].gradings] == [
        (g.period, g.thresholds) for g in whole.gradings
    ]


def test_a_clock_that_does_not_settle_still_grades_the_periods_it_ends() -> None:
    """Grading needs every member's volume, so a period end makes any clock a meeting point
    of all partitions (the first clock too); other non-settling clocks are not."""
    book = Book(PROGRAM)
    first = i.Clock("c0", at(1), settle=False)
    assert book.synchronises(first)
    book.handle(first)
    for inp in history():
        book.handle(inp)
    assert not book.synchronises(i.Clock("c1", at(2), settle=False))
    book.handle(i.Clock("c1", at(300), settle=False))  # Q1, Q2 and Q3 ended since c0
    assert graded(book) == ["2026-P01", "2026-P02", "2026-P03"]
