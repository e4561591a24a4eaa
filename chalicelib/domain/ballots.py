"""A ballot: one per voter per poll, the bucket that keeps it, and the rule for a second attempt."""
import hashlib
import math
from dataclasses import dataclass

from .errors import Conflict, Invalid

# A poll's ballots are spread over buckets, each one partition key of the ballots table, because one partition
# takes 1,000 writes/s and a broadcast vote peaks on one poll in its first seconds, before DynamoDB would split a
# hot key. A bucket is planned for a tenth of a partition: DynamoDB places keys on partitions by hash, so one
# partition may draw several of a poll's buckets (9 of 100 on 40 partitions, at 99%: capacity/partitions.py), and
# they must still fit. Buckets cost nothing on the vote path (the voter's bucket is computed, never looked up),
# only one Query each when a tool lists a poll's ballots.
BUCKET_WRITES_PER_S = 100
# A poll created without a figure: 20 buckets. A broadcast vote says its peak (docs/big-vote.md).
DEFAULT_PEAK_VOTES_PER_S = 2_000
MAX_PEAK_VOTES_PER_S = 1_000_000


@dataclass(frozen=True)
class Ballot:
    poll_id: str
    voter_id: str
    candidate: str
    cast_at: str


def buckets_for(expected_peak_votes_per_s: object) -> int:
    """How many buckets a poll gets for the peak its operator expects; fixed for the poll's life."""
    peak = expected_peak_votes_per_s
    if isinstance(peak, bool) or not isinstance(peak, int) or not 1 <= peak <= MAX_PEAK_VOTES_PER_S:
        raise Invalid(f"expected_peak_votes_per_s must be a whole number from 1 to {MAX_PEAK_VOTES_PER_S:,}.")
    return math.ceil(peak / BUCKET_WRITES_PER_S)


def bucket_of(voter_id: str, buckets: int) -> int:
    """The voter's bucket in a poll of `buckets`: it depends on the voter alone, so a second attempt lands on
    the first ballot's key, and one conditional write still allows one ballot per voter."""
    digest = hashlib.sha256(voter_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


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
