"""What GET /polls/{id}/results shows: totals, shares and a timeline, from whichever count is at hand."""
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, List, Optional

from .polls import Poll
from .times import format_instant

MINUTE_MS = 60_000
FINE_SPAN_MS = 5 * MINUTE_MS  # the last five minutes second by second, minute by minute before that
# ... but no further back than a day: the timeline of a poll open for months would otherwise grow past what a
# response can carry (Lambda's 6 MB) and what a dashboard polling every second should download. Older votes
# still count in the totals.
COARSE_SPAN_MS = 24 * 60 * MINUTE_MS


@dataclass(frozen=True)
class Windows:
    """Minute buckets over [coarse_from, fine_from), second buckets over [fine_from, until); epoch ms."""
    coarse_from: int
    fine_from: int
    until: int


@dataclass(frozen=True)
class Counts:
    votes: Dict[str, int]
    per_minute: Optional[Dict[int, int]]  # bucket start (epoch ms) -> votes, sparse; None: no timeline known
    per_second: Optional[Dict[int, int]]
    as_of: Optional[str]  # when the count last changed
    source: str  # "index" or "tallies"
    roll: Optional[int] = None  # a roll poll's roll size (from the tallies; an index does not know it)


def trusted(indexed: Counts, exact: Counts) -> Counts:
    """The counts a results answer may publish: the index's, with their timeline, unless the index is behind
    the exact counters on any candidate; then, per candidate, the larger of the two, marked as from the tallies.

    Neither count can exceed the ledger: the counters add each ballot once, the index keeps each ballot once. So
    each is a floor under the truth and the larger is the closer. The counters are written before the index for
    every batch, so in the normal course the index is the one behind: for a moment (a batch between its two
    writes, or not yet refreshed), or for good (a batch dead-lettered after its counters were written, a new or
    replaced search domain). Either way the lag a shortfall is tolerated for is zero: no answer ever shows fewer
    votes than were counted. (The index is ahead only when a repair filled it from the ledger before a lagging
    stream consumer counted the same ballots.)
    """
    candidates = set(indexed.votes) | set(exact.votes)
    if all(indexed.votes.get(c, 0) >= exact.votes.get(c, 0) for c in candidates):
        return indexed
    return Counts(votes={c: max(indexed.votes.get(c, 0), exact.votes.get(c, 0)) for c in candidates},
                  per_minute=indexed.per_minute, per_second=indexed.per_second, as_of=exact.as_of, source="tallies")


def instant_ms(instant: str) -> int:
    return int(datetime.fromisoformat(instant).timestamp() * 1000)


def windows(poll: Poll, now: str) -> Windows:
    start = instant_ms(poll.opens_at or poll.created_at)
    end = instant_ms(min(now, poll.closes_at) if poll.closes_at else now)
    until = end - end % 1000 + 1000
    fine_from = max(until - FINE_SPAN_MS, start)
    coarse_from = max(until - COARSE_SPAN_MS, start)
    return Windows(coarse_from=coarse_from - coarse_from % MINUTE_MS, fine_from=fine_from - fine_from % MINUTE_MS,
                   until=until)


def timeline(counts: Counts, w: Windows) -> List[dict]:
    if counts.per_minute is None or counts.per_second is None:
        return []  # counts without a timeline (the tallies')
    def points(first: int, last: int, step: int, buckets: Dict[int, int]) -> List[dict]:
        return [{"t": _iso(t), "votes": buckets.get(t, 0), "seconds": step // 1000} for t in range(first, last, step)]
    return points(w.coarse_from, w.fine_from, MINUTE_MS, counts.per_minute) + \
        points(w.fine_from, w.until, 1000, counts.per_second)


def _iso(ms: int) -> str:
    return format_instant(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))


def results_view(poll: Poll, counts: Counts, now: str) -> dict:
    total = sum(counts.votes.get(c.id, 0) for c in poll.candidates)
    return {
        "poll_id": poll.poll_id,
        "status": poll.status(now),
        "total": total,
        "candidates": [
            {"id": c.id, "label": c.label, "votes": counts.votes.get(c.id, 0),
             "share": round(counts.votes.get(c.id, 0) / total, 4) if total else 0.0}
            for c in poll.candidates
        ],
        "timeline": timeline(counts, windows(poll, now)),
        # With no vote counted yet, the counts last changed when the poll was made: a stable as_of keeps the
        # ETag stable, so an idle dashboard costs 304s.
        "as_of": counts.as_of or poll.created_at,
        "source": counts.source,
        **({"turnout": {"cast": total, "roll": counts.roll or 0}} if poll.electorate == "roll" else {}),
    }
