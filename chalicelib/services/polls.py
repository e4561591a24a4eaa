"""Operators' use cases: create, list, open and close polls."""
from typing import Callable, List, Optional

from ..domain.errors import Conflict, NotFound
from ..domain.polls import Poll, check_id, new_poll
from ..domain.times import later
from .catalog import PollCatalog
from .ports import PollStore

# Function instances read the time from their own clocks; a close leaves this much more than the poll cache's
# lifetime before it takes effect, for those clocks to differ (Lambda's are kept within milliseconds by NTP).
CLOCK_SKEW_S = 1.0


class PollService:
    def __init__(self, store: PollStore, catalog: PollCatalog, clock: Callable[[], str]):
        self._store = store
        self._catalog = catalog
        self._clock = clock

    @property
    def close_lead_s(self) -> float:
        """How far ahead a close takes effect: by then every instance's cached copy of the poll was read after
        the close was written, so each refuses the ballots cast at or after closes_at on its own."""
        return self._catalog.ttl + CLOCK_SKEW_S

    def create(self, body: dict) -> Poll:
        poll = new_poll(body, self._clock())
        self._store.add(poll)
        self._catalog.invalidate()
        return poll

    def get(self, poll_id: str) -> Poll:
        return self._catalog.existing(poll_id)

    def list(self) -> List[Poll]:
        return sorted(self._catalog.all(), key=lambda p: p.created_at, reverse=True)

    def open(self, poll_id: str) -> Poll:
        return self._move(poll_id, lambda current, now: current.opened(now), closing=False)

    def close(self, poll_id: str, at: Optional[str] = None) -> Poll:
        """Close at `at` (a stored-form instant) or as soon as every instance can know: see close_lead_s."""
        return self._move(poll_id, lambda current, now: current.closing(at, later(now, self.close_lead_s)),
                          closing=True)

    def _move(self, poll_id: str, move: Callable[[Poll, str], Poll], closing: bool) -> Poll:
        check_id(poll_id, "poll_id")
        # Read the stored poll, not the cached one: the change is conditional on what is really there.
        for _ in range(3):
            current = self._store.get(poll_id)
            if current is None:
                raise NotFound(f"There is no poll {poll_id}.")
            now = self._clock()
            if current.status(now) == "closed":
                what = "closed already" if closing else "closed; a closed poll cannot be opened again"
                raise Conflict(f"Poll {poll_id} is {what}.")
            moved = move(current, now)
            if moved is current or self._store.replace_times(moved, current):
                self._catalog.invalidate()
                return moved
        raise Conflict(f"Poll {poll_id} is being changed by someone else; try again.")
