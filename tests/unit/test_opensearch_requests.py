"""The exact requests the OpenSearch adapter sends, pinned without a server.

The client is real; only its connection is replaced by one that records each request and answers with canned
JSON, so everything above the socket (serialization, paths, query parameters, error mapping) is the library's.
"""

import opensearchpy
import pytest
from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

from chalicelib.adapters.opensearch_index import IndexWriteFailed, OpenSearchIndex, client_for
from chalicelib.domain.ballots import Ballot
from chalicelib.domain.results import Counts, Windows
from chalicelib.domain.stream import StreamBallot
from chalicelib.services.ports import IndexUnavailable
from tests.opensearch_fake import FakeCluster, RecordingConnection, expected_id

WRITTEN_AT = "2026-11-22T10:05:00.250Z"
T0 = 1795341600000  # 2026-11-22T10:00:00.000Z in epoch ms


@pytest.fixture
def cluster():
    return FakeCluster()


@pytest.fixture
def index(cluster):
    connection = type("Recording", (RecordingConnection,), {"cluster": cluster})
    return OpenSearchIndex(OpenSearch(hosts=["http://opensearch.test:9200"], connection_class=connection,
                                      max_retries=0))


def ballot(voter, candidate="red", poll="colours", cast_at="2026-11-22T10:01:02.345Z", sequence=1):
    return StreamBallot(str(sequence).zfill(40), Ballot(poll, voter, candidate, cast_at))


def error(status, kind, reason="because"):
    return status, {"error": {"type": kind, "reason": reason}, "status": status}


def test_the_index_is_created_once_with_strict_mappings(index, cluster):
    index.write([ballot("v1")], WRITTEN_AT)
    index.write([ballot("v2")], WRITTEN_AT)
    creates = [r for r in cluster.requests if r.method == "PUT"]
    assert len(creates) == 1
    assert creates[0].path == "/tally-ballots"
    assert creates[0].json() == {
        "settings": {"index": {"refresh_interval": "1s"}},
        "mappings": {"dynamic": "strict", "properties": {
            "poll_id": {"type": "keyword"}, "candidate": {"type": "keyword"}, "cast_at": {"type": "date"},
            "written_at": {"type": "date"}, "sequence": {"type": "keyword"}}},
    }
    assert [r.method for r in cluster.requests] == ["PUT", "POST", "POST"]


def test_an_index_another_process_created_is_used(index, cluster):
    cluster.answers[("PUT", "/tally-ballots")] = error(400, "resource_already_exists_exception")
    index.write([ballot("v1")], WRITTEN_AT)
    index.write([ballot("v2")], WRITTEN_AT)
    assert [(r.method, r.path) for r in cluster.requests] == [
        ("PUT", "/tally-ballots"), ("POST", "/tally-ballots/_bulk"), ("POST", "/tally-ballots/_bulk")]


def test_another_refusal_to_create_the_index_is_raised(index, cluster):
    cluster.answers[("PUT", "/tally-ballots")] = error(400, "illegal_argument_exception")
    with pytest.raises(opensearchpy.RequestError):
        index.write([ballot("v1")], WRITTEN_AT)


def test_a_write_is_one_bulk_request_keyed_by_ballot_with_no_voter_id(index, cluster):
    index.write([ballot("warm-up")], WRITTEN_AT)
    start = len(cluster.requests)
    batch = [ballot("voter-alice", "red", sequence=7),
             ballot("voter-bob", "blue", cast_at="2026-11-22T10:01:03.000Z", sequence=8),
             ballot("voter-alice", "green", poll="animals", sequence=9)]
    index.write(batch, WRITTEN_AT)
    [request] = cluster.since(start)
    assert (request.method, request.path, request.params) == ("POST", "/tally-ballots/_bulk", {})
    assert request.ndjson() == [
        {"create": {"_id": expected_id("colours", "voter-alice")}},
        {"poll_id": "colours", "candidate": "red", "cast_at": "2026-11-22T10:01:02.345Z",
         "written_at": WRITTEN_AT, "sequence": "7".zfill(40)},
        {"create": {"_id": expected_id("colours", "voter-bob")}},
        {"poll_id": "colours", "candidate": "blue", "cast_at": "2026-11-22T10:01:03.000Z",
         "written_at": WRITTEN_AT, "sequence": "8".zfill(40)},
        {"create": {"_id": expected_id("animals", "voter-alice")}},
        {"poll_id": "animals", "candidate": "green", "cast_at": "2026-11-22T10:01:02.345Z",
         "written_at": WRITTEN_AT, "sequence": "9".zfill(40)},
    ]
    assert "voter-" not in request.body


def test_an_empty_write_sends_nothing(index, cluster):
    index.write([], WRITTEN_AT)
    assert cluster.requests == []


def test_ballots_already_indexed_are_not_an_error(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_bulk")] = (200, {"errors": True, "items": [
        {"create": {"_id": "a", "status": 409, "error": {"type": "version_conflict_engine_exception"}}},
        {"create": {"_id": "b", "status": 201}}]})
    index.write([ballot("v1"), ballot("v2")], WRITTEN_AT)


def test_a_bulk_response_with_errors_raises_naming_the_first(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_bulk")] = (200, {"errors": True, "items": [
        {"create": {"_id": "a", "status": 201}},
        {"create": {"_id": "b", "status": 409, "error": {"type": "version_conflict_engine_exception"}}},
        {"create": {"_id": "c", "status": 400, "error": {"type": "mapper_parsing_exception",
                                                         "reason": "failed to parse field [cast_at]"}}},
        {"create": {"_id": "d", "status": 429, "error": {"type": "rejected_execution_exception"}}}]})
    with pytest.raises(IndexWriteFailed, match=r"2 of 4 .*400 mapper_parsing_exception: failed to parse field"):
        index.write([ballot(v) for v in "abcd"], WRITTEN_AT)


def test_a_connection_error_in_write_is_raised_for_the_stream_to_retry(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_bulk")] = opensearchpy.ConnectionError("N/A", "refused", None)
    with pytest.raises(opensearchpy.ConnectionError):
        index.write([ballot("v1")], WRITTEN_AT)


WINDOWS = Windows(coarse_from=T0, fine_from=T0 + 10 * 60_000, until=T0 + 15 * 60_000)
SEARCH_BODY = {
    "size": 0,
    "query": {"term": {"poll_id": "colours"}},
    "aggs": {
        "votes": {"terms": {"field": "candidate", "size": 100}},
        "coarse": {
            "filter": {"range": {"cast_at": {"gte": T0, "lt": T0 + 600_000, "format": "epoch_millis"}}},
            "aggs": {"histogram": {"date_histogram": {"field": "cast_at", "fixed_interval": "1m",
                                                      "min_doc_count": 1}}}},
        "fine": {
            "filter": {"range": {"cast_at": {"gte": T0 + 600_000, "lt": T0 + 900_000, "format": "epoch_millis"}}},
            "aggs": {"histogram": {"date_histogram": {"field": "cast_at", "fixed_interval": "1s",
                                                      "min_doc_count": 1}}}},
        "as_of": {"max": {"field": "written_at"}},
    },
}


def test_counts_is_one_search_and_reads_its_aggregations(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_search")] = (200, {
        "took": 2, "timed_out": False, "hits": {"total": {"value": 5, "relation": "eq"}, "hits": []},
        "aggregations": {
            "votes": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                      "buckets": [{"key": "red", "doc_count": 3}, {"key": "blue", "doc_count": 2}]},
            "coarse": {"doc_count": 3, "histogram": {"buckets": [
                {"key_as_string": "2026-11-22T10:01:00.000Z", "key": T0 + 60_000, "doc_count": 2},
                {"key_as_string": "2026-11-22T10:04:00.000Z", "key": T0 + 240_000, "doc_count": 1}]}},
            "fine": {"doc_count": 2, "histogram": {"buckets": [
                {"key_as_string": "2026-11-22T10:12:07.000Z", "key": T0 + 727_000, "doc_count": 2}]}},
            "as_of": {"value": float(T0 + 727_123), "value_as_string": "2026-11-22T10:12:07.123Z"},
        }})
    counts = index.counts("colours", WINDOWS)
    [request] = cluster.requests
    assert (request.method, request.path, request.params) == ("POST", "/tally-ballots/_search", {})
    assert request.json() == SEARCH_BODY
    assert counts == Counts(votes={"red": 3, "blue": 2},
                            per_minute={T0 + 60_000: 2, T0 + 240_000: 1}, per_second={T0 + 727_000: 2},
                            as_of="2026-11-22T10:12:07.123Z", source="index")


def test_counts_of_a_poll_with_no_documents(index, cluster):
    empty = {"buckets": []}
    cluster.answers[("POST", "/tally-ballots/_search")] = (200, {"aggregations": {
        "votes": empty, "coarse": {"doc_count": 0, "histogram": empty},
        "fine": {"doc_count": 0, "histogram": empty}, "as_of": {"value": None}}})
    assert index.counts("colours", WINDOWS) == Counts({}, {}, {}, None, "index")


def test_a_missing_index_means_no_votes(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_search")] = error(404, "index_not_found_exception")
    assert index.counts("colours", WINDOWS) == Counts({}, {}, {}, None, "index")
    assert [r.method for r in cluster.requests] == ["POST"]  # reading never creates the index


@pytest.mark.parametrize("failure", [
    opensearchpy.ConnectionError("N/A", "connection refused", None),
    opensearchpy.ConnectionTimeout("TIMEOUT", "read timed out", None),
])
def test_a_connection_error_in_counts_is_index_unavailable(index, cluster, failure):
    cluster.answers[("POST", "/tally-ballots/_search")] = failure
    with pytest.raises(IndexUnavailable):
        index.counts("colours", WINDOWS)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_an_overloaded_or_failing_cluster_is_index_unavailable(index, cluster, status):
    cluster.answers[("POST", "/tally-ballots/_search")] = error(status, "some_exception")
    with pytest.raises(IndexUnavailable):
        index.counts("colours", WINDOWS)


def test_a_bad_request_in_counts_is_a_bug_not_an_outage(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_search")] = error(400, "parsing_exception")
    with pytest.raises(opensearchpy.RequestError):
        index.counts("colours", WINDOWS)


def test_replace_poll_deletes_the_poll_then_indexes_the_ballots_and_refreshes(index, cluster):
    index.write([ballot("warm-up")], WRITTEN_AT)
    start = len(cluster.requests)
    index.replace_poll("colours", [Ballot("colours", "voter-alice", "red", "2026-11-22T10:01:02.345Z")], WRITTEN_AT)
    delete, bulk, refresh = cluster.since(start)
    assert (delete.method, delete.path) == ("POST", "/tally-ballots/_delete_by_query")
    assert delete.params == {"refresh": "true", "conflicts": "proceed"}
    assert delete.json() == {"query": {"term": {"poll_id": "colours"}}}
    assert (bulk.method, bulk.path, bulk.params) == ("POST", "/tally-ballots/_bulk", {})
    assert bulk.ndjson() == [
        {"create": {"_id": expected_id("colours", "voter-alice")}},
        {"poll_id": "colours", "candidate": "red", "cast_at": "2026-11-22T10:01:02.345Z",
         "written_at": WRITTEN_AT, "sequence": "0" * 40}]
    assert "voter-alice" not in bulk.body
    assert (refresh.method, refresh.path) == ("POST", "/tally-ballots/_refresh")


def test_fill_creates_only_what_is_missing_in_chunks_then_refreshes_and_counts_what_it_created(index, cluster):
    ballots = [Ballot("colours", f"voter-{n}", "red", "2026-11-22T10:01:02.345Z") for n in range(12_000)]
    answers = iter([(200, {"errors": True, "items": [{"create": {"status": 409 if n % 2 else 201,
                                                                 **({"error": {"type": "version_conflict"}}
                                                                    if n % 2 else {})}}
                                                     for n in range(size)]})
                    for size in (5_000, 5_000, 2_000)])
    handle = cluster.handle
    cluster.handle = lambda request: next(answers) if request.path.endswith("/_bulk") else handle(request)
    start = len(cluster.requests)
    assert index.fill(ballots, WRITTEN_AT) == 6_000, "a 409 is a document that was there already"
    sent = cluster.since(start)
    bulks = [r for r in sent if r.path == "/tally-ballots/_bulk"]
    assert [len(b.ndjson()) // 2 for b in bulks] == [5_000, 5_000, 2_000]
    assert all(action == {"create": {"_id": expected_id("colours", f"voter-{n}")}}
               for n, action in enumerate(a for b in bulks for a in b.ndjson()[::2]))
    assert (sent[-1].method, sent[-1].path) == ("POST", "/tally-ballots/_refresh")


def test_fill_fails_loudly_when_a_document_is_refused_for_another_reason(index, cluster):
    cluster.answers[("POST", "/tally-ballots/_bulk")] = (200, {"errors": True, "items": [
        {"create": {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}}]})
    with pytest.raises(IndexWriteFailed, match="429 es_rejected_execution_exception"):
        index.fill([Ballot("colours", "v1", "red", "2026-11-22T10:01:02.345Z")], WRITTEN_AT)


def test_an_unsigned_client_talks_plain_http_through_urllib3():
    client = client_for("http://localhost:9200", "eu-west-1", sign=False)
    [connection] = client.transport.connection_pool.connections
    assert isinstance(connection, Urllib3HttpConnection)
    assert connection.host == "http://localhost:9200"
    assert connection.http_auth is None


def test_a_signed_client_signs_for_es_with_the_sessions_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    client = client_for("https://search-tally.eu-west-1.es.amazonaws.com", "eu-west-1", sign=True)
    [connection] = client.transport.connection_pool.connections
    assert isinstance(connection, Urllib3HttpConnection)
    assert connection.host == "https://search-tally.eu-west-1.es.amazonaws.com:443"
    assert isinstance(connection.http_auth, Urllib3AWSV4SignerAuth)
    headers = connection.http_auth("POST", "https://search-tally.eu-west-1.es.amazonaws.com/tally-ballots/_search",
                                   b"{}")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "session-token"
