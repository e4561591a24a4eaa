"""The stream consumer's use case: count a batch of new ballots exactly once and index them."""
from typing import Callable, Sequence

from ..domain.stream import StreamBallot, by_poll
from .ports import ResultsIndex, TallyStore


class TallyService:
    def __init__(self, tallies: TallyStore, index: ResultsIndex, clock: Callable[[], str]):
        self._tallies = tallies
        self._index = index
        self._clock = clock

    def apply(self, shard_id: str, ballots: Sequence[StreamBallot],
              counted: Callable[[int], None] = lambda new: None) -> int:
        """Counters first, then the index. A crash between the two is mended by the redelivery: the counters
        skip what they had, and the index takes every ballot of the batch again, which changes nothing.

        `counted` hears how many ballots were new to the counters as soon as they are written, before the index
        write that may fail: the redelivery will find them counted already and report 0."""
        applied = sum(self._tallies.apply(poll_id, shard_id, lane) for poll_id, lane in by_poll(ballots).items())
        counted(applied)
        self._index.write(ballots, self._clock())
        return applied
