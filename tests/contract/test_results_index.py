"""What every ResultsIndex must do, whichever store is behind it.

The same cases run against the embedded SQLite index everywhere and against a real OpenSearch when
OPENSEARCH_URL is set (CI: .github/workflows/opensearch.yml). They are about content, not freshness: the
fixture refreshes OpenSearch before each count, so its 1 s refresh interval plays no part here.
"""
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.ballots import Ballot
from chalicelib.domain.results import Counts, Windows
from chalicelib.domain.stream import StreamBallot
from chalicelib.domain.times import format_instant

NO_OPENSEARCH = "OPENSEARCH_URL is not set: the OpenSearch contract runs in .github/workflows/opensearch.yml"
START = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
T0 = int(START.timestamp()) * 1000
WINDOWS = Windows(coarse_from=T0, fine_from=T0 + 10 * 60_000, until=T0 + 15 * 60_000)
W1, W2, W3 = "2026-11-22T10:20:00.000Z", "2026-11-22T10:20:01.500Z", "2026-11-22T10:20:02.000Z"


class Subject:
    """An index under test, and how to make what it was sent visible to a count."""

    def __init__(self, index, settle=lambda: None):
        self.index = index
        self.settle = settle

    def counts(self, poll_id, windows=WINDOWS) -> Counts:
        self.settle()
        return self.index.counts(poll_id, windows)


def sqlite_subject(tmp_path):
    from chalicelib.adapters.sqlite_index import SqliteIndex
    yield Subject(SqliteIndex(str(tmp_path / "results.sqlite")))


def opensearch_subject(tmp_path):
    url = os.environ.get("OPENSEARCH_URL")
    if not url:
        pytest.skip(NO_OPENSEARCH)
    from chalicelib.adapters.opensearch_index import OpenSearchIndex, client_for
    client = client_for(url, os.environ.get("AWS_REGION", "us-east-1"), sign=False)
    index = OpenSearchIndex(client, prefix=f"tally-contract-{uuid.uuid4().hex[:12]}")
    yield Subject(index, settle=lambda: client.indices.refresh(index=index.index, ignore=[404]))
    client.indices.delete(index=index.index, ignore=[404])


@pytest.fixture(params=[sqlite_subject, opensearch_subject], ids=["sqlite", "opensearch"])
def subject(request, tmp_path):
    yield from request.param(tmp_path)


def at(ms_after_start: int) -> str:
    return format_instant(START + timedelta(milliseconds=ms_after_start))


_sequence = iter(range(1, 10**9))


def ballot(voter, candidate, poll="colours", cast_at=None) -> StreamBallot:
    """A stream record; each call is a new record, as a replay of the same ballot would be."""
    return StreamBallot(str(next(_sequence)).zfill(40), Ballot(poll, voter, candidate, cast_at or at(90_000)))


def test_counts_by_candidate(subject):
    subject.index.write([ballot("v1", "red"), ballot("v2", "blue"), ballot("v3", "red")], W1)
    subject.index.write([ballot("v4", "red"), ballot("v5", "blue")], W1)
    assert subject.counts("colours").votes == {"red": 3, "blue": 2}


def test_a_ballot_delivered_again_counts_once(subject):
    first = [ballot("v1", "red"), ballot("v2", "blue"), ballot("v3", "red")]
    subject.index.write(first, W1)
    subject.index.write(first, W1)  # the batch retried whole
    subject.index.write([ballot("v3", "red"), ballot("v4", "green"), ballot("v2", "blue")], W2)  # overlapping
    subject.index.write([ballot("v5", "blue"), ballot("v5", "blue")], W2)  # twice in one batch
    assert subject.counts("colours").votes == {"red": 2, "blue": 2, "green": 1}


def test_polls_written_together_are_counted_apart(subject):
    subject.index.write([ballot("v1", "red"), ballot("v1", "cat", poll="animals"), ballot("v2", "blue"),
                         ballot("v2", "dog", poll="animals"), ballot("v3", "dog", poll="animals")], W1)
    assert subject.counts("colours").votes == {"red": 1, "blue": 1}
    assert subject.counts("animals").votes == {"cat": 1, "dog": 2}


def test_timeline_buckets_start_on_the_minute_and_second_they_count(subject):
    minute, second = 60_000, 1000
    subject.index.write([
        ballot("early", "red", cast_at=at(-1)),  # before coarse_from: in the total only
        ballot("m0", "red", cast_at=at(30_500)),
        ballot("m1", "blue", cast_at=at(2 * minute - 1)),
        ballot("m9", "red", cast_at=at(10 * minute - 1)),  # last instant of the minute buckets
        ballot("s0", "blue", cast_at=at(10 * minute)),  # first instant of the second buckets
        ballot("s127a", "red", cast_at=at(12 * minute + 7 * second + 123)),
        ballot("s127b", "blue", cast_at=at(12 * minute + 7 * second + 900)),
        ballot("s299", "red", cast_at=at(15 * minute - 1)),
        ballot("late", "blue", cast_at=at(15 * minute)),  # at until: in the total only
    ], W1)
    counts = subject.counts("colours")
    assert counts.votes == {"red": 5, "blue": 4}
    assert counts.per_minute == {T0: 1, T0 + minute: 1, T0 + 9 * minute: 1}
    assert counts.per_second == {T0 + 10 * minute: 1, T0 + 12 * minute + 7 * second: 2,
                                 T0 + 15 * minute - second: 1}


def test_as_of_is_when_the_poll_last_gained_a_ballot(subject):
    subject.index.write([ballot("v1", "red")], W1)
    subject.index.write([ballot("v2", "blue")], W2)
    subject.index.write([ballot("v9", "cat", poll="animals")], W3)  # another poll's write does not count
    assert subject.counts("colours").as_of == W2
    subject.index.write([ballot("v1", "red")], W3)  # a replay changes no count, so not as_of either
    assert subject.counts("colours").as_of == W2
    assert subject.counts("animals").as_of == W3


def test_an_unknown_poll_has_no_votes(subject):
    empty = Counts(votes={}, per_minute={}, per_second={}, as_of=None, source="index")
    assert subject.counts("nobody-voted") == empty  # nothing written at all yet
    subject.index.write([ballot("v1", "red")], W1)
    assert subject.counts("nobody-voted") == empty


def test_the_source_is_the_index(subject):
    subject.index.write([ballot("v1", "red")], W1)
    assert subject.counts("colours").source == "index"


def test_replace_poll_keeps_only_the_ballots_given(subject):
    subject.index.write([ballot("v1", "red"), ballot("v2", "blue"), ballot("v3", "red"),
                         ballot("v1", "cat", poll="animals")], W1)
    subject.index.replace_poll("colours", [Ballot("colours", "v1", "red", at(30_500)),
                                           Ballot("colours", "v4", "blue", at(10 * 60_000))], W2)
    counts = subject.counts("colours")
    assert counts.votes == {"red": 1, "blue": 1}
    assert counts.per_minute == {T0: 1} and counts.per_second == {T0 + 10 * 60_000: 1}
    assert counts.as_of == W2
    assert subject.counts("animals").votes == {"cat": 1}
    subject.index.write([ballot("v1", "red"), ballot("v4", "blue")], W3)  # the stream catching up after a repair
    assert subject.counts("colours").votes == {"red": 1, "blue": 1}


def test_replace_poll_with_no_ballots_empties_the_poll(subject):
    subject.index.write([ballot("v1", "red")], W1)
    subject.index.replace_poll("colours", [], W2)
    assert subject.counts("colours").votes == {}


def test_fill_adds_only_the_ballots_the_index_lacks_and_says_how_many(subject):
    subject.index.write([ballot("v1", "red"), ballot("v2", "blue")], W1)
    lacking = [Ballot("colours", "v1", "red", at(90_000)), Ballot("colours", "v2", "blue", at(90_000)),
               Ballot("colours", "v3", "blue", at(90_000))]
    assert subject.index.fill(lacking, W2) == 1
    assert subject.counts("colours").votes == {"red": 1, "blue": 2}
    assert subject.index.fill(lacking, W3) == 0, "filling again changes nothing"
    subject.index.write([ballot("v3", "blue"), ballot("v4", "red")], W3)  # the stream, while a repair runs
    assert subject.counts("colours").votes == {"red": 2, "blue": 2}
