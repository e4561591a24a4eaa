"""The results index on OpenSearch, used when OPENSEARCH_URL is set.

One document per ballot, its _id the ballot's key (a hash of poll and voter: no voter id is ever stored here).
Ballots are written with bulk `create`, so a ballot the stream delivers twice is kept once, as first written,
and a replay moves neither the counts nor as_of. Importing opensearchpy costs 200-300 ms (it imports `requests`
whatever the connection class), so the API imports this module only when OPENSEARCH_URL is set.
"""
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Sequence

from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from ..domain.ballots import Ballot, ballot_key
from ..domain.polls import MAX_CANDIDATES
from ..domain.results import Counts, Windows
from ..domain.stream import REPAIRED_SEQUENCE, StreamBallot
from ..domain.times import format_instant
from ..services.ports import IndexUnavailable

BALLOTS_INDEX = {
    "settings": {"index": {"refresh_interval": "1s"}},
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "poll_id": {"type": "keyword"},
            "candidate": {"type": "keyword"},
            "cast_at": {"type": "date"},
            "written_at": {"type": "date"},
            "sequence": {"type": "keyword"},
        },
    },
}
# A bulk request of about 1 MB: OpenSearch takes 5-15 MB best, and a repair may send a poll of millions.
FILL_CHUNK = 5_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class IndexWriteFailed(Exception):
    """OpenSearch refused part of a bulk request; the stream retries the batch."""


def client_for(url: str, region: str, sign: bool, timeout: float = 5.0) -> OpenSearch:
    # No transport retries: a failed write is retried with its stream batch, and a failed read falls back to
    # the tallies table at once rather than after several timeouts.
    auth = None
    if sign:
        import boto3  # in the Lambda runtime already; only the signed client needs it
        auth = Urllib3AWSV4SignerAuth(boto3.Session().get_credentials(), region, "es")
    return OpenSearch(hosts=[url], http_auth=auth, connection_class=Urllib3HttpConnection,
                      timeout=timeout, max_retries=0)


class OpenSearchIndex:
    def __init__(self, client: OpenSearch, prefix: str = "tally"):
        self._client = client
        self.index = f"{prefix}-ballots"
        self._created = False

    def _ensure_index(self) -> None:
        if self._created:
            return
        try:
            self._client.indices.create(index=self.index, body=BALLOTS_INDEX)
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
        self._created = True

    def _bulk_create(self, docs: List[tuple], refresh: Optional[bool] = None) -> int:
        """Create the documents that are not there yet; return how many were created."""
        body: List[dict] = []
        for doc_id, doc in docs:
            body += [{"create": {"_id": doc_id}}, doc]
        response = self._client.bulk(body=body, index=self.index, refresh=refresh)
        if response.get("errors"):
            failures = [item["create"] for item in response["items"]
                        if item["create"].get("error") and item["create"]["status"] != 409]  # 409: already there
            if failures:
                status, error = failures[0]["status"], failures[0]["error"]
                raise IndexWriteFailed(f"{len(failures)} of {len(docs)} ballots not indexed; first: "
                                       f"{status} {error.get('type')}: {error.get('reason')}")
        return sum(1 for item in response["items"] if item["create"]["status"] == 201)

    def write(self, ballots: Sequence[StreamBallot], written_at: str) -> None:
        if not ballots:
            return
        self._ensure_index()
        self._bulk_create([(ballot_key(item.ballot), _document(item.ballot, written_at, item.sequence))
                           for item in ballots])

    def counts(self, poll_id: str, windows: Windows) -> Counts:
        try:
            response = self._client.search(index=self.index, body=_counts_query(poll_id, windows))
        except NotFoundError as error:
            if error.error != "index_not_found_exception":
                raise
            return Counts(votes={}, per_minute={}, per_second={}, as_of=None, source="index")
        except TransportError as error:
            if _unavailable(error):
                raise IndexUnavailable(str(error)) from error
            raise
        aggs = response["aggregations"]
        return Counts(
            votes={b["key"]: b["doc_count"] for b in aggs["votes"]["buckets"]},
            per_minute=_buckets(aggs["coarse"]),
            per_second=_buckets(aggs["fine"]),
            as_of=_instant(aggs["as_of"]["value"]),
            source="index",
        )

    def fill(self, ballots: Sequence[Ballot], written_at: str) -> int:
        self._ensure_index()
        created = 0
        for start in range(0, len(ballots), FILL_CHUNK):
            created += self._bulk_create([(ballot_key(b), _document(b, written_at, REPAIRED_SEQUENCE))
                                          for b in ballots[start:start + FILL_CHUNK]])
        self._client.indices.refresh(index=self.index)
        return created

    def replace_poll(self, poll_id: str, ballots: Sequence[Ballot], written_at: str) -> None:
        self._ensure_index()
        self._client.delete_by_query(index=self.index, body={"query": {"term": {"poll_id": poll_id}}},
                                     refresh=True, conflicts="proceed")
        self.fill(ballots, written_at)


def _unavailable(error: TransportError) -> bool:
    """The cluster cannot or will not answer (down, overloaded, or refusing our role): the tallies table can."""
    status = error.status_code
    return isinstance(error, TransportConnectionError) or (
        isinstance(status, int) and (status in (401, 403, 429) or status >= 500))


def _document(ballot: Ballot, written_at: str, sequence: str) -> dict:
    return {"poll_id": ballot.poll_id, "candidate": ballot.candidate, "cast_at": ballot.cast_at,
            "written_at": written_at, "sequence": sequence}


def _counts_query(poll_id: str, w: Windows) -> dict:
    def histogram(start: int, end: int, interval: str) -> dict:
        return {
            "filter": {"range": {"cast_at": {"gte": start, "lt": end, "format": "epoch_millis"}}},
            # min_doc_count 1: the timeline fills the empty buckets with zeros itself
            "aggs": {"histogram": {"date_histogram": {"field": "cast_at", "fixed_interval": interval,
                                                      "min_doc_count": 1}}},
        }
    return {
        "size": 0,
        "query": {"term": {"poll_id": poll_id}},
        "aggs": {
            # As many buckets as a poll may have candidates: every shard returns every one, so the counts are exact.
            "votes": {"terms": {"field": "candidate", "size": MAX_CANDIDATES}},
            "coarse": histogram(w.coarse_from, w.fine_from, "1m"),
            "fine": histogram(w.fine_from, w.until, "1s"),
            "as_of": {"max": {"field": "written_at"}},
        },
    }


def _buckets(window: dict) -> dict:
    return {int(b["key"]): b["doc_count"] for b in window["histogram"]["buckets"]}


def _instant(epoch_ms: Optional[float]) -> Optional[str]:
    # integer milliseconds, not a float timestamp, so the milliseconds print exactly
    return None if epoch_ms is None else format_instant(EPOCH + timedelta(milliseconds=int(epoch_ms)))
