"""The interfaces the use cases need from storage. Adapters implement them; fakes stand in for unit tests."""
from typing import List, Optional, Protocol

from ..domain.ballots import Ballot
from ..domain.polls import Poll


class PollStore(Protocol):
    def add(self, poll: Poll) -> None:
        """Store a new poll; raise Conflict if its id is taken."""

    def get(self, poll_id: str) -> Optional[Poll]:
        ...

    def all(self) -> List[Poll]:
        ...

    def replace_times(self, poll: Poll, previous: Poll) -> bool:
        """Write poll's opens_at/closes_at if the stored ones are still previous's. False if they moved."""


class BallotLedger(Protocol):
    def cast(self, ballot: Ballot) -> Optional[Ballot]:
        """Record the ballot unless the voter has one in this poll. None if recorded, else the existing one."""

    def find(self, poll_id: str, voter_id: str) -> Optional[Ballot]:
        ...
