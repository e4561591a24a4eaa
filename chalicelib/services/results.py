"""Reading a poll's results: from the index when it agrees with the exact counters, else from the counters."""
from dataclasses import replace
from typing import Callable

from ..domain.errors import Forbidden
from ..domain.results import results_view, trusted, windows
from .catalog import PollCatalog
from .ports import IndexUnavailable, ResultsIndex, TallyStore


class ResultsService:
    def __init__(self, catalog: PollCatalog, index: ResultsIndex, tallies: TallyStore, clock: Callable[[], str]):
        self._catalog = catalog
        self._index = index
        self._tallies = tallies
        self._clock = clock

    def results(self, poll_id: str, operator: bool) -> dict:
        poll = self._catalog.existing(poll_id)
        now = self._clock()
        if poll.results == "after_close" and not operator and poll.status(now) != "closed":
            raise Forbidden(f"Results of poll {poll_id} are shown once it closes.")
        # One Query of the poll's tally lanes (a few small items) on every request: the exact counts that the
        # index's answer is checked against, so that a lagging or rebuilt index never publishes an undercount.
        exact = self._tallies.counts(poll_id)
        try:
            counts = replace(trusted(self._index.counts(poll_id, windows(poll, now)), exact), roll=exact.roll)
        except IndexUnavailable:
            counts = exact
        return results_view(poll, counts, now)
