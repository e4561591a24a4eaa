"""Ballots as they arrive from the ballots table's stream, and the rule that makes counting exactly-once.

Lambda delivers a shard's records in order, at least once: a retried or bisected batch starts again at or
after the last record it had finished. So per (poll, shard) the records applied so far are always a prefix
of that shard's records, and one checkpoint (the last applied sequence number) says which records are new.
"""
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List

from .ballots import Ballot

SEQUENCE_DIGITS = 40  # DynamoDB Streams sequence numbers are 21 to 40 digits
# What an index records as the sequence of a ballot it took from the ledger (repair), not from the stream.
REPAIRED_SEQUENCE = "0" * SEQUENCE_DIGITS


def sequence_key(sequence_number: str) -> str:
    """Sequence numbers as fixed-width strings, so they order the same as text and as numbers."""
    if not sequence_number.isdigit() or len(sequence_number) > SEQUENCE_DIGITS:
        raise ValueError(f"not a stream sequence number: {sequence_number!r}")
    return sequence_number.zfill(SEQUENCE_DIGITS)


@dataclass(frozen=True)
class StreamBallot:
    sequence: str  # sequence_key() form
    ballot: Ballot


def after_checkpoint(ballots: Iterable[StreamBallot], checkpoint: str) -> List[StreamBallot]:
    return [b for b in ballots if b.sequence > checkpoint]


def counts(ballots: Iterable[StreamBallot]) -> Dict[str, int]:
    return dict(Counter(b.ballot.candidate for b in ballots))


def by_poll(ballots: Iterable[StreamBallot]) -> Dict[str, List[StreamBallot]]:
    grouped: Dict[str, List[StreamBallot]] = {}
    for item in ballots:
        grouped.setdefault(item.ballot.poll_id, []).append(item)
    return grouped
