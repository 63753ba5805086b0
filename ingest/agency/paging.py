"""Which page to ask for next: keyset paging on the cursor, safe while records change.

The platform orders pages by (`capNhatLuc`, key) and filters with `capNhatTu` (inclusive).
Asking for page 2, 3, ... of one query loses records when, between two requests, a record on
an earlier page changes: it moves to the end, everything after it shifts one place forward,
and the first record of the next page is never seen (the demo API's tests show it). So the
plan asks page 1 again from the newest cursor it has seen (`since = newest`, inclusive): a
record that moved is met again later, one that did not move is at or after `newest`, and
records at exactly `newest` come twice, which upsert-by-key absorbs.

Only when a whole page shares one cursor value can `since` not advance; then the plan steps
through that block by page number and, once past it, reads the block once more from its
first page, so a record skipped while the block shifted is still seen.

Everything here is pure (no I/O): the connector feeds it what each page held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PageRequest:
    since: datetime | None
    page: int
    since_text: str | None = None
    """The cursor exactly as the platform wrote it (sent back verbatim when known)."""


@dataclass
class PagePlan:
    """Keyset paging state; call `first()`, then `next(...)` after every page until None."""

    since: datetime | None
    page_size: int
    max_requests: int = 1_000_000
    since_text: str | None = None
    requests: int = 0
    exhausted: bool = False
    """True when the plan stopped because of `max_requests`, not because it caught up."""
    _page: int = 1
    _block: datetime | None = None
    _verified: set[datetime] = field(default_factory=set)

    def first(self) -> PageRequest:
        self.requests = 1
        return PageRequest(self.since, 1, self.since_text)

    def next(self, count: int, newest: datetime | None, newest_text: str | None,
             pages: int | None) -> PageRequest | None:
        """The request after a page that held `count` records, the last at cursor `newest`.

        `pages` is the platform's page count for the query (`tongSoTrang`), when given.
        """
        at_end = count < self.page_size or (pages is not None and self._page >= pages)
        if at_end:
            if self._block is not None and self._block not in self._verified:
                return self._reread_block()
            return None
        if self.requests >= self.max_requests:
            self.exhausted = True
            return None
        if newest is None:
            # a full page without one readable cursor (every record refused): `since` cannot
            # move, so step on by page number
            self._page += 1
            self.requests += 1
            return PageRequest(self.since, self._page, self.since_text)
        if self.since is None or newest > self.since:
            if self._block is not None and self._block not in self._verified:
                return self._reread_block()
            self._block = None
            self.since, self.since_text, self._page = newest, newest_text, 1
        else:
            # the whole page shared the cursor `since`: step through that block by number
            self._block = self.since
            self._page += 1
        self.requests += 1
        return PageRequest(self.since, self._page, self.since_text)

    def _reread_block(self) -> PageRequest:
        assert self._block is not None
        self._verified.add(self._block)
        self._page = 1
        self.requests += 1
        return PageRequest(self.since, 1, self.since_text)
