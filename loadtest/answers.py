"""What the answers to one vote, resends included, say about it: kept apart from the locustfile (which imports
locust, and with it gevent's monkey-patching) so that the rule is tested on its own.

A vote is sent, and resent under tally_client.resend's policy while the answer is a 429, a 5xx or a lost connection; the
loop ends at the first other answer, so a voter's first ballot is accepted at most once: by a 201, or by a 200
carrying the same ballot (poll and candidate). A 200 means an earlier attempt landed: one of ours whose answer
was lost or a 5xx, or one the API's own DynamoDB client made when it retried a PutItem that had landed (botocore
retries after its read timeout). Each voter votes once per run and only this user holds the voter's token, so
the standing ballot is this vote either way. `unprompted_200` tells the second case apart, for the report.
"""
from typing import Optional, Sequence

from tally_client.resend import LOST, worth_resending


def outcome_unknown(status: Optional[int]) -> bool:
    """An attempt that may have written its ballot although no 201 came back."""
    return status is LOST or status >= 500


def status_text(status: Optional[int]) -> str:
    return "lost connection" if status is LOST else str(status)


def first_ballot_problem(statuses: Sequence[Optional[int]], ballot: object, poll_id: str,
                         candidate: str) -> Optional[str]:
    """None when the answers (every attempt's status in order, the final one last, and the final answer's body)
    accept the voter's first ballot; otherwise what was wrong."""
    final, earlier = statuses[-1], statuses[:-1]
    if worth_resending(final):
        return f"gave up after {len(statuses)} attempts, the last {status_text(final)}"
    if final == 201:
        return None
    if final == 200:
        if isinstance(ballot, dict) and ballot.get("poll_id") == poll_id and ballot.get("candidate") == candidate:
            return None
        return f"200 with another ballot: {ballot!r}"[:200]
    return f"expected 201, got {status_text(final)} after {len(earlier)} resends"


def unprompted_200(statuses: Sequence[Optional[int]]) -> bool:
    """A first ballot answered 200 although none of our attempts before it can have landed (none, or only 429s):
    the API's own write was retried after it had landed."""
    return statuses[-1] == 200 and not any(outcome_unknown(s) for s in statuses[:-1])


def retry_key(status: Optional[int]) -> str:
    """How resends are counted in the outcome: by what the resent attempt got."""
    return "lost" if status is LOST else str(status)
