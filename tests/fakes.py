"""In-memory stand-ins for the storage ports, for unit tests of the use cases."""
from typing import Dict, List, Optional, Tuple

from chalicelib.domain.ballots import Ballot
from chalicelib.domain.errors import Conflict
from chalicelib.domain.polls import Poll
from chalicelib.domain.times import later


class FakePollStore:
    def __init__(self, polls=()):
        self.polls: Dict[str, Poll] = {p.poll_id: p for p in polls}
        self.reads = 0
        self.scans = 0

    def add(self, poll: Poll) -> None:
        if poll.poll_id in self.polls:
            raise Conflict(f"A poll with id {poll.poll_id} exists already.")
        self.polls[poll.poll_id] = poll

    def get(self, poll_id: str) -> Optional[Poll]:
        self.reads += 1
        return self.polls.get(poll_id)

    def all(self) -> List[Poll]:
        self.reads += 1
        self.scans += 1
        return list(self.polls.values())

    def replace_times(self, poll: Poll, previous: Poll) -> bool:
        stored = self.polls.get(poll.poll_id)
        if stored is None or (stored.opens_at, stored.closes_at) != (previous.opens_at, previous.closes_at):
            return False
        self.polls[poll.poll_id] = poll
        return True


class FakeLedger:
    """Ballots by (poll, voter), with the bucket each was filed under kept to check that callers agree on it."""

    def __init__(self):
        self.ballots: Dict[Tuple[str, str], Ballot] = {}
        self.buckets: Dict[Tuple[str, str], int] = {}
        self.writes = 0

    def cast(self, ballot: Ballot, bucket: int) -> Optional[Ballot]:
        self.writes += 1
        key = (ballot.poll_id, ballot.voter_id)
        if key in self.ballots:
            assert self.buckets[key] == bucket, "a voter's second attempt went to another bucket"
            return self.ballots[key]
        self.ballots[key] = ballot
        self.buckets[key] = bucket
        return None

    def find(self, poll_id: str, bucket: int, voter_id: str) -> Optional[Ballot]:
        key = (poll_id, voter_id)
        return self.ballots.get(key) if self.buckets.get(key) == bucket else None

    def ballots_of(self, poll_id: str, buckets: int) -> List[Ballot]:
        return [b for (p, _), b in self.ballots.items() if p == poll_id]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: str = "2026-11-22T10:00:00.000Z", monotonic: float = 1000.0):
        self.now = now
        self.monotonic_now = monotonic

    def __call__(self) -> str:
        return self.now

    def monotonic(self) -> float:
        return self.monotonic_now

    def advance(self, seconds: float) -> None:
        self.now = later(self.now, seconds)
        self.monotonic_now += seconds
