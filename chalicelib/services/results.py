"""Reading a poll's results: from the index when it agrees with the exact counters, else from the counters."""
from dataclasses import replace
from typing import Callable

from ..domain.audience import public_document
from ..domain.errors import Forbidden
from ..domain.polls import Poll
from ..domain.results import results_view, trusted, windows
from .catalog import PollCatalog
from .ports import IndexUnavailable, ResultsIndex, TallyStore

HIDDEN = {"after_close": "Results of poll {} are shown once it closes.",
          "operators": "Results of poll {} are shown to its operators only."}


class ResultsService:
    def __init__(self, catalog: PollCatalog, index: ResultsIndex, tallies: TallyStore, clock: Callable[[], str]):
        self._catalog = catalog
        self._index = index
        self._tallies = tallies
        self._clock = clock

    def results(self, poll_id: str, operator: bool) -> dict:
        poll = self._catalog.existing(poll_id)
        now = self._clock()
        if not operator and not poll.results_shown(now):
            raise Forbidden(HIDDEN[poll.results].format(poll_id))
        return self._view(poll, now)

    def public(self, poll_id: str) -> dict:
        """The poll's public document (domain/audience.py): the poll from memory, and the counts' two reads only
        when its results are shown."""
        poll = self._catalog.existing(poll_id)
        now = self._clock()
        return public_document(poll, now, self._view(poll, now) if poll.results_shown(now) else None)

    def _view(self, poll: Poll, now: str) -> dict:
        # One Query of the poll's tally lanes (a few small items) on every request: the exact counts that the
        # index's answer is checked against, so that a lagging or rebuilt index never publishes an undercount.
        exact = self._tallies.counts(poll.poll_id)
        try:
            counts = replace(trusted(self._index.counts(poll.poll_id, windows(poll, now)), exact), roll=exact.roll)
        except IndexUnavailable:
            counts = exact
        return results_view(poll, counts, now)
