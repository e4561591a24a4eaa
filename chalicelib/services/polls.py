"""Operators' use cases: create, list, open and close polls."""
from typing import Callable, List

from ..domain.errors import Conflict, NotFound
from ..domain.polls import Poll, check_id, new_poll
from .catalog import PollCatalog
from .ports import PollStore


class PollService:
    def __init__(self, store: PollStore, catalog: PollCatalog, clock: Callable[[], str]):
        self._store = store
        self._catalog = catalog
        self._clock = clock

    def create(self, body: dict) -> Poll:
        poll = new_poll(body, self._clock())
        self._store.add(poll)
        self._catalog.invalidate()
        return poll

    def get(self, poll_id: str) -> Poll:
        check_id(poll_id, "poll_id")
        poll = self._catalog.get(poll_id)
        if poll is None:
            raise NotFound(f"There is no poll {poll_id}.")
        return poll

    def list(self) -> List[Poll]:
        return sorted(self._catalog.all(), key=lambda p: p.created_at, reverse=True)

    def open(self, poll_id: str) -> Poll:
        return self._move(poll_id, opening=True)

    def close(self, poll_id: str) -> Poll:
        return self._move(poll_id, opening=False)

    def _move(self, poll_id: str, opening: bool) -> Poll:
        check_id(poll_id, "poll_id")
        # Read the stored poll, not the cached one: the change is conditional on what is really there.
        for _ in range(3):
            current = self._store.get(poll_id)
            if current is None:
                raise NotFound(f"There is no poll {poll_id}.")
            now = self._clock()
            if opening and current.status(now) == "closed":
                raise Conflict(f"Poll {poll_id} is closed; a closed poll cannot be opened again.")
            moved = current.opened(now) if opening else current.closed(now)
            if moved is current or self._store.replace_times(moved, current):
                self._catalog.invalidate()
                return moved
        raise Conflict(f"Poll {poll_id} is being changed by someone else; try again.")
