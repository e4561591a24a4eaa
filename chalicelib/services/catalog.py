"""Poll metadata held in the function's memory for a few seconds.

A vote needs the poll's candidates and status. Reading them from DynamoDB on every vote would double the
cost of the vote path, so each warm function keeps what it read for `ttl` seconds: each poll by id (one
GetItem, and a poll that does not exist is remembered as missing too), and the list of all polls (a Scan)
only for what needs the list: GET /polls and a vote that names no poll. Writes made through this function
forget it all at once; writes made by another function instance are seen within `ttl` seconds.

The promise a close is built on (services/polls.py): a copy used at time t was read after t - ttl. So each
entry's age counts from just BEFORE its read was sent, never from when the answer came back, however slow.
"""
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from ..domain.errors import NotFound
from ..domain.polls import Poll, check_id
from .ports import PollStore

# Made-up poll ids each cost one read and one entry: past this many entries the cache starts again.
MAX_ENTRIES = 10_000


class PollCatalog:
    def __init__(self, store: PollStore, ttl: float, monotonic: Callable[[], float] = time.monotonic):
        self._store = store
        self.ttl = ttl
        self._monotonic = monotonic
        self._by_id: Dict[str, Tuple[Optional[Poll], float]] = {}  # poll id -> (poll or None, asked at)
        self._listing: Optional[Tuple[List[Poll], float]] = None
        self._lock = threading.Lock()

    def _fresh(self, asked_at: float) -> bool:
        return self._monotonic() - asked_at < self.ttl

    def get(self, poll_id: str) -> Optional[Poll]:
        entry = self._by_id.get(poll_id)
        if entry is not None and self._fresh(entry[1]):
            return entry[0]
        asked_at = self._monotonic()
        poll = self._store.get(poll_id)
        if len(self._by_id) >= MAX_ENTRIES:
            self._by_id.clear()
        self._by_id[poll_id] = (poll, asked_at)
        return poll

    def existing(self, poll_id: str) -> Poll:
        """The poll a request names: its id checked, then the poll, or NotFound."""
        poll = self.get(check_id(poll_id, "poll_id"))
        if poll is None:
            raise NotFound(f"There is no poll {poll_id}.")
        return poll

    def current(self, poll_id: str) -> Poll:
        """As `existing`, but read from the store now (and kept), for a use case that must not act on a copy."""
        check_id(poll_id, "poll_id")
        self._by_id.pop(poll_id, None)
        return self.existing(poll_id)

    def all(self) -> List[Poll]:
        listing = self._listing
        if listing is not None and self._fresh(listing[1]):
            return listing[0]
        with self._lock:
            # Another thread may have listed while this one waited.
            if self._listing is None or not self._fresh(self._listing[1]):
                asked_at = self._monotonic()
                polls = self._store.all()
                self._listing = (polls, asked_at)
                self._by_id.update((poll.poll_id, (poll, asked_at)) for poll in polls)
            return self._listing[0]

    def invalidate(self) -> None:
        self._by_id.clear()
        self._listing = None
