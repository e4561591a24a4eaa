"""A ballot: one per voter per poll, and the rule for a second attempt."""
import hashlib
from dataclasses import dataclass

from .errors import Conflict


@dataclass(frozen=True)
class Ballot:
    poll_id: str
    voter_id: str
    candidate: str
    cast_at: str


def resolve_repeat(attempt: Ballot, first: Ballot) -> Ballot:
    """A voter who already voted: the same choice is a safe retry, another choice is refused."""
    if first.candidate == attempt.candidate:
        return first
    raise Conflict(
        f"You already voted for {first.candidate} in poll {first.poll_id}; a ballot cannot be changed."
    )


def ballot_view(ballot: Ballot) -> dict:
    return {"poll_id": ballot.poll_id, "candidate": ballot.candidate, "cast_at": ballot.cast_at}


def ballot_key(ballot: Ballot) -> str:
    """A ballot's identity outside the ledger: stable, and it does not reveal the voter."""
    return hashlib.sha256(f"{ballot.poll_id}\n{ballot.voter_id}".encode()).hexdigest()[:32]
