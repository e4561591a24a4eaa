"""The stream consumer's use case: count a batch of new ballots exactly once and index them."""
from typing import Callable, Sequence

from ..domain.stream import StreamBallot, by_poll
from .ports import IndexUnavailable, ResultsIndex, TallyStore


class TallyService:
    def __init__(self, tallies: TallyStore, index: ResultsIndex, clock: Callable[[], str]):
        self._tallies = tallies
        self._index = index
        self._clock = clock

    def apply(self, shard_id: str, ballots: Sequence[StreamBallot],
              counted: Callable[[int], None] = lambda new: None,
              unindexed: Callable[[IndexUnavailable], None] = lambda error: None) -> int:
        """Counters first, then the index. A crash between the two is mended by the redelivery: the counters
        skip what they had, and the index takes every ballot of the batch again, which changes nothing.

        `counted` hears how many ballots were new to the counters as soon as they are written, before the index
        write that may fail: the redelivery will find them counted already and report 0.

        An index that cannot take the batch (IndexUnavailable) does not hold the stream back: retrying would
        only delay every later batch's counters behind it and then dead-letter it. The counters have the
        ballots, results answer from them while the index is behind, and a repair fills the index from the
        ledger. `unindexed` hears why. Any other index error is raised, and the stream retries the batch."""
        applied = sum(self._tallies.apply(poll_id, shard_id, lane) for poll_id, lane in by_poll(ballots).items())
        counted(applied)
        try:
            self._index.write(ballots, self._clock())
        except IndexUnavailable as error:
            unindexed(error)
        return applied
