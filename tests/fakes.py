"""In-memory stand-ins for the storage ports, for unit tests of the use cases."""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from chalicelib.domain.ballots import Ballot
from chalicelib.domain.errors import Conflict
from chalicelib.domain.polls import Poll
from chalicelib.domain.roll import Account, Enrolment, NotOnRoll
from chalicelib.domain.times import later


class FakePollStore:
    def __init__(self, polls: Iterable[Poll] = ()) -> None:
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

    def __init__(self) -> None:
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

    def fill(self, ballot: Ballot, bucket: int) -> Optional[Ballot]:
        """A roll poll's vote: a voter without a blank (set by FakeRollStore) is not on the roll."""
        key = (ballot.poll_id, ballot.voter_id)
        if key not in self.buckets:
            self.writes += 1
            raise NotOnRoll(ballot.poll_id)
        if key in self.ballots:
            return self.cast(ballot, bucket)
        self.writes += 1
        assert self.buckets[key] == bucket, "a vote went to another bucket than the voter's blank"
        self.ballots[key] = ballot
        return None

    def find(self, poll_id: str, bucket: int, voter_id: str) -> Optional[Ballot]:
        key = (poll_id, voter_id)
        return self.ballots.get(key) if self.buckets.get(key) == bucket else None

    def on_roll(self, poll_id: str, bucket: int, voter_id: str) -> bool:
        return self.buckets.get((poll_id, voter_id)) == bucket

    def ballots_of(self, poll_id: str, buckets: int) -> List[Ballot]:
        return [b for (p, _), b in self.ballots.items() if p == poll_id]


class FakeRollStore:
    """A roll kept as blanks in a FakeLedger (a blank: a bucket with no ballot), entries and a size."""

    def __init__(self, ledger: FakeLedger) -> None:
        self.ledger = ledger
        self.entries: Dict[Tuple[str, str], Enrolment] = {}

    def enrol(self, poll_id: str, voters: Sequence[Enrolment]) -> List[str]:
        already: List[str] = []
        for voter in voters:
            key = (poll_id, voter.voter_id)
            if key in self.ledger.buckets:
                already.append(voter.username)
            else:
                self.ledger.buckets[key] = voter.bucket
                self.entries[(poll_id, voter.username)] = voter
        return already

    def remove(self, poll_id: str, voter: Enrolment) -> str:
        key = (poll_id, voter.voter_id)
        if key not in self.ledger.buckets:
            return "absent"
        if key in self.ledger.ballots:
            return "voted"
        del self.ledger.buckets[key]
        self.entries.pop((poll_id, voter.username), None)
        return "removed"

    def size(self, poll_id: str) -> int:
        return sum(1 for p, _ in self.ledger.buckets if p == poll_id)

    def page(self, poll_id: str, after: Optional[str], limit: int) -> Tuple[List[dict], Optional[str]]:
        names = sorted(u for p, u in self.entries if p == poll_id and (after is None or u > after))
        page = names[:limit]
        entries = [{"username": u, "email": None, "added_on": "x"} for u in page]
        return entries, (page[-1] if len(names) > limit else None)


class FakeDirectory:
    """Accounts by username and by email; invite() creates one."""

    def __init__(self, *accounts: Account) -> None:
        self.accounts = list(accounts)
        self.invited: List[str] = []

    def account(self, name: str) -> Optional[Account]:
        found = [a for a in self.accounts if name in (a.username, a.email)]
        return found[0] if len(found) == 1 else None

    def invite(self, email: str) -> Account:
        self.invited.append(email)
        account = Account(username=email, sub=f"sub-{email}", email=email)
        self.accounts.append(account)
        return account


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: str = "2026-11-22T10:00:00.000Z", monotonic: float = 1000.0) -> None:
        self.now = now
        self.monotonic_now = monotonic

    def __call__(self) -> str:
        return self.now

    def monotonic(self) -> float:
        return self.monotonic_now

    def advance(self, seconds: float) -> None:
        self.now = later(self.now, seconds)
        self.monotonic_now += seconds
