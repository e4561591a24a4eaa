"""What the audience sees of a poll: one public document, the same for every viewer, so that a cache can serve it.

It holds nothing about any one person: the poll as voters see it, and its results (the shape of GET /results:
counts, shares, a timeline, a roll poll's turnout as two totals) exactly when a voter may see them now
(Poll.results_shown). Never a roll's members, never who voted or for what.
"""
from typing import Optional

from .polls import Poll, poll_view
from .times import later

# A ballot cast just before the close can still be on its way through the stream into the counts for a moment
# after it (the stream consumer's lag: normally under a second, and /health?deep calls 5 s degraded). Until then a
# closed poll's document is read as often as an open one's; after it, it is final and may be cached for long.
SETTLE_SECONDS = 30
# What the audience sees of a poll as the API shows it (domain/polls.py poll_view): not its creation time nor its
# expected load, which are the operators' business.
PUBLIC_FIELDS = ("poll_id", "title", "candidates", "status", "opens_at", "closes_at", "electorate")


def is_final(poll: Poll, now: str) -> bool:
    """Will the document not change again? Closed, and closed long enough for the stream to have counted all."""
    return poll.closes_at is not None and now >= later(poll.closes_at, SETTLE_SECONDS)


def public_document(poll: Poll, now: str, results: Optional[dict]) -> dict:
    """The document of `poll` at `now`; `results` is the results view, given exactly when they are shown."""
    view = poll_view(poll, now)
    document = {
        **{key: view[key] for key in PUBLIC_FIELDS},
        # The poll's own `results` setting: without it a null results_at could mean "at a close not set yet" or
        # "never", and a page could not say which.
        "results_mode": poll.results,
        "results_shown": poll.results_shown(now),
        "results_at": poll.results_at(),
        "final": is_final(poll, now),
    }
    if document["results_shown"]:
        if results is None:
            raise ValueError(f"the results of {poll.poll_id} are shown now: give them")
        document["results"] = results
    return document
