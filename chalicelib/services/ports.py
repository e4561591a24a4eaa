"""The interfaces the use cases need from storage. Adapters implement them; fakes stand in for unit tests."""
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Protocol, Sequence, Tuple, runtime_checkable

from ..domain.ballots import Ballot
from ..domain.polls import Poll
from ..domain.results import Counts, Windows
from ..domain.roll import Account, Enrolment
from ..domain.stream import StreamBallot


@dataclass(frozen=True)
class Standing:
    """A user as the user pool sees them now."""
    enabled: bool
    groups: FrozenSet[str]
    mfa: bool  # TOTP MFA set up (a software token is among the user's MFA settings)


class OperatorDirectory(Protocol):
    def standing(self, username: str) -> Optional[Standing]:
        """The user's standing now, or None if the pool has no such user."""


class AccountDirectory(Protocol):
    def account(self, name: str) -> Optional[Account]:
        """The account a username or email names, or None."""

    def invite(self, email: str) -> Account:
        """Create an account for the email, and send it an invitation."""


class PollStore(Protocol):
    def add(self, poll: Poll) -> None:
        """Store a new poll; raise Conflict if its id is taken."""

    def get(self, poll_id: str) -> Optional[Poll]:
        ...

    def all(self) -> List[Poll]:
        ...

    def replace_times(self, poll: Poll, previous: Poll) -> bool:
        """Write poll's opens_at/closes_at if the stored ones are still previous's. False if they moved."""


class BallotBox(Protocol):
    """The vote path's part of the ledger. Ballots are kept under (poll, bucket) partition keys; the bucket is the
    voter's (domain.ballots.bucket_of)."""

    def cast(self, ballot: Ballot, bucket: int) -> Optional[Ballot]:
        """Record the ballot unless the voter has one in this poll. None if recorded, else the existing one."""

    def fill(self, ballot: Ballot, bucket: int) -> Optional[Ballot]:
        """A roll poll's vote: fill the voter's blank. None if filled now, else the standing ballot. Raises
        NotOnRoll when the voter has no blank."""

    def find(self, poll_id: str, bucket: int, voter_id: str) -> Optional[Ballot]:
        """The voter's cast ballot (a blank is none)."""

    def on_roll(self, poll_id: str, bucket: int, voter_id: str) -> bool:
        ...


class BallotLedger(BallotBox, Protocol):
    """The whole ledger: the ballot box, and the reads of every ballot that reconcile and repair make."""

    def ballots(self, poll_id: str, buckets: int) -> List[Ballot]:
        """Every ballot of the poll, from each of its buckets (reconcile and repair; never the vote path)."""

    def bucket_sizes(self, poll_id: str, buckets: int) -> List[int]:
        """How many items each bucket holds: ballots, and a roll poll's blanks (reconcile; never the vote path)."""


class RollStore(Protocol):
    """A roll poll's entries, blanks and size, changed together."""

    def enrol(self, poll_id: str, voters: Sequence[Enrolment]) -> List[str]:
        """Put the voters on the roll; return the usernames of those on it already."""

    def remove(self, poll_id: str, voter: Enrolment) -> str:
        """"removed", "voted" (a cast ballot: the voter stays) or "absent"."""

    def size(self, poll_id: str) -> int:
        ...

    def page(self, poll_id: str, after: Optional[str], limit: int) -> Tuple[List[dict], Optional[str]]:
        ...


class TallyStore(Protocol):
    """Exactly-once counters: one item per (poll, stream shard) with counts and a checkpoint."""

    def apply(self, poll_id: str, shard_id: str, ballots: Sequence[StreamBallot]) -> int:
        """Add the ballots after this lane's checkpoint; return how many were new."""

    def counts(self, poll_id: str) -> Counts:
        """The poll's totals summed over its lanes (no timeline); as_of is when a lane last changed."""

    def rebase(self, poll_id: str, ledger_counts: Dict[str, int]) -> None:
        """Make the poll's totals these (repair), keeping every lane's checkpoint. Only on a drained stream."""


class IndexUnavailable(Exception):
    """The results index cannot answer now; the tallies table can."""


class IndexDamaged(IndexUnavailable):
    """The index's own storage is damaged (a truncated or corrupt file): no retry mends it, `recreate` does."""


class ResultsIndex(Protocol):
    def write(self, ballots: Sequence[StreamBallot], written_at: str) -> None:
        """Index the ballots in one request, idempotently: a ballot indexed twice counts once. IndexUnavailable:
        the batch is not indexed and the stream moves on (the counters have it; a repair fills the index)."""

    def counts(self, poll_id: str, windows: Windows) -> Counts:
        ...

    def fill(self, ballots: Sequence[Ballot], written_at: str) -> int:
        """Index those of the ballots it lacks, create-only (repair); return how many it lacked."""

    def replace_poll(self, poll_id: str, ballots: Sequence[Ballot], written_at: str) -> None:
        """Drop the poll's documents and index these instead (repair, on a drained stream)."""


@runtime_checkable
class RecreatableIndex(ResultsIndex, Protocol):
    """An index whose own storage can be damaged (it raises IndexDamaged), and so can be made anew."""

    def recreate(self) -> None:
        """Replace the damaged store with a new empty one (repair refills every poll)."""
