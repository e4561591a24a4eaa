"""Voters' use cases: cast a ballot and read it back."""
from typing import Callable, Optional, Tuple

from ..domain.ballots import Ballot, bucket_of, resolve_repeat
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.polls import Poll, check_id
from .catalog import PollCatalog
from .ports import BallotBox


class VoteService:
    def __init__(self, catalog: PollCatalog, ledger: BallotBox, clock: Callable[[], str],
                 pseudonym: Callable[[str], str]):
        """`pseudonym` turns a voter's sub into the id their ballots are kept under (domain/voters.py)."""
        self._catalog = catalog
        self._ledger = ledger
        self._clock = clock
        self._pseudonym = pseudonym

    def cast(self, sub: str, candidate: str, poll_id: Optional[str]) -> Tuple[Ballot, bool]:
        """Cast one ballot for the voter with this sub. Returns the ballot that stands and whether this call
        created it."""
        check_id(candidate, "candidate")
        now = self._clock()
        poll = self._poll(poll_id, now)
        if not poll.has_candidate(candidate):
            raise NotFound(f"Poll {poll.poll_id} has no candidate {candidate}.")
        voter_id = self._pseudonym(sub)
        attempt = Ballot(poll_id=poll.poll_id, voter_id=voter_id, candidate=candidate, cast_at=now)
        bucket = bucket_of(voter_id, poll.buckets)
        # The poll held here was read less than the cache's lifetime ago, and a close takes effect only after
        # that lifetime (services/polls.py): so its opens_at and closes_at decide, and a ballot is stored only
        # when opens_at <= cast_at < closes_at.
        status = poll.status(now)
        if status != "open":
            # A client retrying a ballot that landed just before the close still gets its answer.
            first = self._ledger.find(poll.poll_id, bucket, voter_id)
            if first is not None and first.candidate == candidate:
                return first, False
            raise Conflict(f"Poll {poll.poll_id} is {status}; it does not take votes now.")
        # One write either way: a roll poll's vote fills the voter's blank, and finding none means "not on the roll".
        write = self._ledger.fill if poll.electorate == "roll" else self._ledger.cast
        first = write(attempt, bucket)
        if first is None:
            return attempt, True
        return resolve_repeat(attempt, first), False

    def eligible(self, sub: str, poll: Poll) -> bool:
        """May this voter vote in the poll: anyone may in an open one; in a roll poll, one with a ballot there."""
        if poll.electorate != "roll":
            return True
        voter_id = self._pseudonym(sub)
        return self._ledger.on_roll(poll.poll_id, bucket_of(voter_id, poll.buckets), voter_id)

    def mine(self, sub: str, poll_id: Optional[str]) -> Ballot:
        poll = self._poll(poll_id, self._clock())
        voter_id = self._pseudonym(sub)
        ballot = self._ledger.find(poll.poll_id, bucket_of(voter_id, poll.buckets), voter_id)
        if ballot is None:
            raise NotFound(f"You have not voted in poll {poll.poll_id}.")
        return ballot

    def _poll(self, poll_id: Optional[str], now: str) -> Poll:
        if poll_id is None:
            open_polls = [p for p in self._catalog.all() if p.status(now) == "open"]
            if len(open_polls) != 1:
                raise Invalid(
                    f"Say which poll: poll_id is needed when {len(open_polls)} polls are open, not exactly one."
                )
            return open_polls[0]
        return self._catalog.existing(poll_id)
