"""Reconcile and repair one poll: the ledger (the truth), the exact counters and the results index, side by side.

The same use case runs against the local stack and against a deployed stage: it needs only the ports.

Repair mends what can be mended safely at the time it runs:
- the index is filled from the ledger with create-only writes, always: idempotent, and safe while votes keep
  arriving (a ballot the stream indexes meanwhile is the same document, kept once);
- the tallies are rebased, and an index holding ballots the ledger lacks is rebuilt, only on a drained stream:
  the poll is closed, its counters have not moved for `quiet_s`, and the caller's own check of the stream (on
  AWS, the tally function's iterator age) finds nothing waiting. A rebase while records are still on their way
  would count them twice: once in the rebased lane, and again when they arrive in their shard's lane;
- a damaged index (IndexDamaged: a truncated file) is recreated, never written into, and every poll's ballots
  are filled into the new one from the ledger: the damage lost them all, not only this poll's.

An index that cannot answer is reported as such (a mismatch), never as agreeing.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Dict, Optional

from ..domain.errors import NotFound
from ..domain.polls import Poll
from ..domain.results import Windows
from .ports import BallotLedger, IndexDamaged, IndexUnavailable, PollStore, RecreatableIndex, ResultsIndex, TallyStore

SOURCES = ("ledger", "tallies", "index")
EVERYTHING = Windows(coarse_from=0, fine_from=0, until=0)  # totals only: no timeline buckets


@dataclass(frozen=True)
class Comparison:
    poll_id: str
    counts: Dict[str, Dict[str, int]]  # source -> candidate -> votes
    # A roll poll's roll size two ways: the tallies' roll lane, and the ledger's items (a blank or a ballot per
    # voter on the roll). One transaction moves both, so only a hand can part them; repair does not mend that.
    roll: Optional[Dict[str, int]] = None
    index_unavailable: Optional[str] = None  # why the index could not be read (its counts are then empty)

    @property
    def agrees(self) -> bool:
        ledger, tallies, index = (self.counts[s] for s in SOURCES)
        return ledger == tallies == index and self.index_unavailable is None and (
            self.roll is None or self.roll["ledger"] == self.roll["tallies"])

    def table(self) -> str:
        candidates = sorted(set().union(*self.counts.values()))
        lines = [f"poll {self.poll_id}", f"{'candidate':<24}" + "".join(f"{s:>10}" for s in SOURCES)]
        for c in candidates:
            row = [self.counts[s].get(c, 0) for s in SOURCES]
            mark = "" if len(set(row)) == 1 else "   <- differs"
            lines.append(f"{c:<24}" + "".join(f"{n:>10}" for n in row) + mark)
        lines.append(f"{'total':<24}" + "".join(f"{sum(self.counts[s].values()):>10}" for s in SOURCES))
        if self.roll is not None:
            mark = "" if self.roll["ledger"] == self.roll["tallies"] else "   <- differs"
            lines.append(f"{'on the roll':<24}{self.roll['ledger']:>10}{self.roll['tallies']:>10}{'':>10}{mark}")
        if self.index_unavailable:
            lines.append(f"index unavailable: {self.index_unavailable}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RepairReport:
    indexed: int                     # ballots the index lacked and now holds
    index_rebuilt: bool              # documents the ledger lacks were dropped
    tallies_rebased: bool
    held_back: Optional[str] = None  # why what needs a drained stream was not done
    index_recreated: bool = False    # the index was damaged: a new one was made and every poll refilled
    index_unavailable: Optional[str] = None  # why the index could not be repaired now (nothing was done)


class Reconciler:
    def __init__(self, polls: PollStore, ledger: BallotLedger, tallies: TallyStore, index: ResultsIndex,
                 clock: Callable[[], str], quiet_s: float = 60.0):
        self._polls = polls
        self._ledger = ledger
        self._tallies = tallies
        self._index = index
        self._clock = clock
        self._quiet_s = quiet_s

    def _poll(self, poll_id: str) -> Poll:
        poll = self._polls.get(poll_id)
        if poll is None:
            raise NotFound(f"unknown poll {poll_id!r}: it is not in the polls table")
        return poll

    def compare(self, poll_id: str) -> Comparison:
        poll = self._poll(poll_id)
        ledger = Counter(b.candidate for b in self._ledger.ballots(poll_id, poll.buckets))
        tallies = self._tallies.counts(poll_id)
        roll = None
        if poll.electorate == "roll":
            roll = {"ledger": sum(self._ledger.bucket_sizes(poll_id, poll.buckets)), "tallies": tallies.roll or 0}
        try:
            indexed, unavailable = _nonzero(self._index.counts(poll_id, EVERYTHING).votes), None
        except IndexUnavailable as error:
            indexed, unavailable = {}, str(error)
        return Comparison(poll_id, {"ledger": dict(ledger), "tallies": _nonzero(tallies.votes), "index": indexed},
                          roll, unavailable)

    def repair(self, poll_id: str, stream_waiting: Callable[[], Optional[str]] = lambda: None) -> RepairReport:
        """`stream_waiting` says why records may still be on their way to the consumer, or None."""
        poll = self._poll(poll_id)
        ballots = self._ledger.ballots(poll_id, poll.buckets)
        recreated = False
        try:
            indexed = self._index.fill(ballots, self._clock())
        except IndexDamaged:
            # The ledger is read again after the new index is in place: a ballot the stream could not index
            # into the damaged one before then is in the ledger, and any later one the stream indexes itself.
            indexed = self._recreate_index()[poll_id]
            ballots = self._ledger.ballots(poll_id, poll.buckets)
            recreated = True
        except IndexUnavailable as error:
            return RepairReport(indexed=0, index_rebuilt=False, tallies_rebased=False, index_unavailable=str(error))
        after = self.compare(poll_id)
        ledger = after.counts["ledger"]
        needs_drain = after.counts["tallies"] != ledger or after.counts["index"] != ledger
        if not needs_drain:
            return RepairReport(indexed=indexed, index_rebuilt=False, tallies_rebased=False,
                                index_recreated=recreated)
        waiting = self._waiting(poll) or stream_waiting()
        if waiting:
            return RepairReport(indexed=indexed, index_rebuilt=False, tallies_rebased=False, held_back=waiting,
                                index_recreated=recreated)
        rebuilt = after.counts["index"] != ledger
        if rebuilt:
            self._index.replace_poll(poll_id, ballots, self._clock())
        rebased = after.counts["tallies"] != ledger
        if rebased:
            self._tallies.rebase(poll_id, ledger)
        return RepairReport(indexed=indexed, index_rebuilt=rebuilt, tallies_rebased=rebased,
                            index_recreated=recreated)

    def _recreate_index(self) -> Dict[str, int]:
        """A new empty index in place of the damaged one, then every poll's ballots in it (create-only, so safe
        while the stream writes there too): the damage lost them all. How many each poll got."""
        # Only an index with storage of its own raises IndexDamaged, and such an index can be made anew.
        assert isinstance(self._index, RecreatableIndex), "IndexDamaged from an index without recreate()"
        self._index.recreate()
        return {poll.poll_id: self._index.fill(self._ledger.ballots(poll.poll_id, poll.buckets), self._clock())
                for poll in self._polls.all()}

    def _waiting(self, poll: Poll) -> Optional[str]:
        now = self._clock()
        if poll.status(now) != "closed":
            return f"poll {poll.poll_id} is {poll.status(now)}: votes may still arrive"
        last_change = self._tallies.counts(poll.poll_id).as_of
        if last_change and _seconds_between(last_change, now) < self._quiet_s:
            return f"the counters moved {_seconds_between(last_change, now):.0f} s ago (less than {self._quiet_s:g} s)"
        return None


def _nonzero(votes: Dict[str, int]) -> Dict[str, int]:
    return {candidate: n for candidate, n in votes.items() if n}


def _seconds_between(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()
