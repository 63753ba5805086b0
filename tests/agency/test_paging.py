"""The keyset paging plan (pure): nothing lost or stale while records change between pages.

The platform is modelled here as the contract describes it — the newest version of every
record, ordered by (cursor, key), filtered by cursor >= since — in a few lines, to exercise
the plan's logic over many generated histories; the connector itself is tested against the
demo API in test_pull.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.agency.paging import PagePlan

T0 = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=7)))


def at(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


class Records:
    """Current version of each key: key -> cursor (minutes after T0)."""

    def __init__(self, cursors: dict[str, int]) -> None:
        self.cursors = dict(cursors)
        self.clock = max(cursors.values(), default=0)

    def page(self, since: datetime | None, page: int, size: int) -> tuple[list, int]:
        rows = sorted((c, k) for k, c in self.cursors.items() if since is None or at(c) >= since)
        pages = -(-len(rows) // size)
        return rows[(page - 1) * size: page * size], pages

    def change(self, key: str) -> None:
        """A new version: its cursor is later than anything before (the platform's clock)."""
        self.clock += 1
        self.cursors[key] = self.clock


def run(plan: PagePlan, records: Records, changes: list[list[str]]) -> dict[str, int]:
    """Page to the end; after request i, the keys in changes[i] change."""
    seen: dict[str, int] = {}
    request = plan.first()
    i = 0
    while request is not None:
        rows, pages = records.page(request.since, request.page, plan.page_size)
        for c, k in rows:
            seen[k] = max(seen.get(k, c), c)
        for key in changes[i] if i < len(changes) else []:
            records.change(key)
        i += 1
        newest = at(rows[-1][0]) if rows else None
        request = plan.next(len(rows), newest, None, pages)
        assert i < 10_000
    return seen


def check(records: Records, seen: dict[str, int]) -> None:
    horizon = max(seen.values(), default=-1)
    for key, cursor in records.cursors.items():
        if cursor <= horizon:  # a version at or before the newest seen: must have been seen
            assert seen.get(key) == cursor, key
    assert set(seen) <= set(records.cursors)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_no_record_lost_or_stale_while_records_change(data) -> None:
    size = data.draw(st.integers(2, 6), label="page size")
    n = data.draw(st.integers(0, 40), label="records")
    # cursors with ties, but never a whole page of one cursor (see the block tests below)
    cursors = {f"k{i:02d}": data.draw(st.integers(0, 60)) for i in range(n)}
    ties = max((list(cursors.values()).count(c) for c in cursors.values()), default=0)
    if ties >= size:
        cursors = {k: i for i, k in enumerate(cursors)}
    records = Records(cursors)
    keys = sorted(cursors)
    changes = data.draw(st.lists(st.lists(st.sampled_from(keys), max_size=3) if keys
                                 else st.just([]), max_size=30), label="changes")
    since_minutes = data.draw(st.none() | st.integers(-5, 30), label="since")
    plan = PagePlan(None if since_minutes is None else at(since_minutes), size)
    seen = run(plan, records, changes)
    if since_minutes is not None:
        records.cursors = {k: c for k, c in records.cursors.items() if at(c) >= at(since_minutes)}
    check(records, seen)
    assert not plan.exhausted


def test_page_number_paging_would_lose_a_record() -> None:
    """Why the plan re-asks from the newest cursor: the naive way loses k03 here."""
    records = Records({f"k{i:02d}": i for i in range(6)})
    seen, page = set(), 1
    while True:
        rows, pages = records.page(None, page, 3)
        seen |= {k for _, k in rows}
        if page == 1:
            records.change("k00")  # k00 moves to the end; k03 slides onto page 1
        if page >= pages:
            break
        page += 1
    assert "k03" not in seen
    plan_seen = run(PagePlan(None, 3), Records({f"k{i:02d}": i for i in range(6)}), [["k00"]])
    assert "k03" in plan_seen


def test_a_full_page_of_one_cursor_is_stepped_through_and_read_again() -> None:
    # five records share cursor 10, pages of two: since cannot advance inside that block
    cursors = {"a": 10, "b": 10, "c": 10, "d": 10, "e": 10, "f": 11}
    records = Records(cursors)
    # request 2 reads page 1 of the block (a, b); then a changes, c slides onto page 1 and
    # page 2 holds d, e: only reading the block again finds c
    seen = run(PagePlan(None, 2), records, [[], ["a"]])
    check(records, seen)
    assert seen["c"] == 10 and seen["a"] == records.cursors["a"]


def test_block_at_the_end_is_read_again_too() -> None:
    records = Records({"a": 5, "b": 10, "c": 10, "d": 10, "e": 10})
    plan = PagePlan(None, 2)
    seen = run(plan, records, [[], ["b"]])
    check(records, seen)


def test_requests_are_few_when_nothing_changes() -> None:
    records = Records({f"k{i:03d}": i for i in range(100)})
    plan = PagePlan(None, 10)
    run(plan, records, [])
    # one request per page, plus one that finds only the boundary record
    assert plan.requests <= 11


def test_max_requests_stops_and_says_so() -> None:
    records = Records({f"k{i:03d}": i for i in range(100)})
    plan = PagePlan(None, 10, max_requests=3)
    seen = run(plan, records, [])
    assert plan.exhausted and plan.requests == 3 and len(seen) < 100


def test_a_full_page_without_readable_cursors_steps_on_by_number() -> None:
    plan = PagePlan(None, 2)
    plan.first()
    request = plan.next(2, None, None, 3)
    assert request is not None and request.page == 2 and request.since is None
    assert plan.next(1, None, None, 3) is None
