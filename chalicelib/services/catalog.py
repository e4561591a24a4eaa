"""Poll metadata held in the function's memory for a few seconds.

A vote needs the poll's candidates and status. Reading them from DynamoDB on every vote would double the
cost of the vote path, so each warm function keeps a snapshot of all polls and refreshes it after `ttl`
seconds. Writes made through this function invalidate it at once; writes made by another function instance
are seen within `ttl` seconds (so a poll closed elsewhere may take up to `ttl` to refuse votes here).
"""
import threading
import time
from typing import Callable, Dict, List, Optional

from ..domain.polls import Poll
from .ports import PollStore


class PollCatalog:
    def __init__(self, store: PollStore, ttl: float, monotonic: Callable[[], float] = time.monotonic):
        self._store = store
        self._ttl = ttl
        self._monotonic = monotonic
        self._snapshot: Dict[str, Poll] = {}
        self._loaded_at: Optional[float] = None
        self._lock = threading.Lock()

    def _fresh(self) -> Dict[str, Poll]:
        loaded_at = self._loaded_at
        if loaded_at is not None and self._monotonic() - loaded_at < self._ttl:
            return self._snapshot
        with self._lock:
            # Another thread may have refreshed while this one waited.
            if self._loaded_at is None or self._monotonic() - self._loaded_at >= self._ttl:
                self._snapshot = {poll.poll_id: poll for poll in self._store.all()}
                self._loaded_at = self._monotonic()
            return self._snapshot

    def get(self, poll_id: str) -> Optional[Poll]:
        poll = self._fresh().get(poll_id)
        if poll is None:
            # A poll created by another instance since the snapshot: one read, then cached with the rest.
            poll = self._store.get(poll_id)
            if poll is not None:
                self._snapshot[poll_id] = poll
        return poll

    def all(self) -> List[Poll]:
        return list(self._fresh().values())

    def invalidate(self) -> None:
        self._loaded_at = None
