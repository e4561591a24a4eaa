"""Reconcile and repair against a deployed stage: its tables found through CloudFormation, the stream's backlog
through CloudWatch (both emulated by moto), and the search domain's requests pinned without a server."""
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws
from opensearchpy import OpenSearch

from chalicelib.adapters.dynamo_ballots import DynamoBallotLedger
from chalicelib.adapters.dynamo_polls import DynamoPollStore
from chalicelib.adapters.dynamo_tallies import DynamoTallyStore
from chalicelib.adapters.opensearch_index import OpenSearchIndex
from chalicelib.domain.ballots import Ballot, bucket_of
from chalicelib.domain.polls import new_poll
from chalicelib.domain.stream import StreamBallot
from chalicelib.domain.times import utc_now
from chalicelib.services.reconcile import Reconciler
from cli.reconcile import iterator_age_check
from infra import piece
from infra.stage import NotAStage, deployed_stage
from tests.opensearch_fake import FakeCluster, RecordingConnection, expected_id

REGION = "eu-west-1"
TABLES = piece("tables")["Resources"]
ENDPOINT = "https://search-tally-prod-abc.eu-west-1.es.amazonaws.com"


def stage_template():
    """The stage's tables as infra/tables.json declares their keys, and the output the command reads."""
    keep = ("AttributeDefinitions", "KeySchema", "BillingMode", "StreamSpecification")
    resources = {name: {"Type": table["Type"], "Properties": {k: v for k, v in table["Properties"].items()
                                                              if k in keep}}
                 for name, table in TABLES.items() if table["Type"] == "AWS::DynamoDB::Table"}
    return json.dumps({"Resources": resources, "Outputs": {"SearchEndpoint": {"Value": ENDPOINT}}})


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.client("cloudformation").create_stack(StackName="tally-prod", TemplateBody=stage_template())
        yield session


def test_the_stage_is_found_from_its_stack(aws):
    stage = deployed_stage(aws.client("cloudformation"), "tally-prod", REGION)
    tables = {t: aws.client("dynamodb").describe_table(TableName=t)["Table"]["KeySchema"]
              for t in (stage.settings.polls_table, stage.settings.ballots_table, stage.settings.tallies_table)}
    assert len(tables) == 3 and all("tally-prod" in name for name in tables)
    assert tables[stage.settings.ballots_table][0]["AttributeName"] == "poll_bucket"
    assert stage.settings.opensearch_url == ENDPOINT and stage.settings.opensearch_sigv4
    assert stage.settings.region == REGION


def test_a_missing_or_foreign_stack_is_not_a_stage(aws):
    with pytest.raises(NotAStage, match="cannot read stack 'nope'"):
        deployed_stage(aws.client("cloudformation"), "nope", REGION)
    aws.client("cloudformation").create_stack(StackName="other", TemplateBody=json.dumps(
        {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}))
    with pytest.raises(NotAStage, match="not a Tally stage"):
        deployed_stage(aws.client("cloudformation"), "other", REGION)


def test_a_stream_backlog_holds_back_what_needs_a_drained_stream(aws):
    cloudwatch = aws.client("cloudwatch")
    now = datetime.now(timezone.utc)
    waiting = iterator_age_check(cloudwatch, "tally-prod-tally", now=lambda: now + timedelta(minutes=1))
    assert waiting() is None, "no data points: nothing on the stream"
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "IteratorAge", "Dimensions": [{"Name": "FunctionName", "Value": "tally-prod-tally"}],
         "Timestamp": now - timedelta(minutes=2), "Value": 1_000, "Unit": "Milliseconds"}])
    assert waiting() is None
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "IteratorAge", "Dimensions": [{"Name": "FunctionName", "Value": "tally-prod-tally"}],
         "Timestamp": now - timedelta(minutes=1), "Value": 600_000, "Unit": "Milliseconds"}])
    assert "iterator age reached 600 s" in waiting()


def search_answer(votes):
    return 200, {"aggregations": {"votes": {"buckets": [{"key": c, "doc_count": n} for c, n in votes.items()]},
                                  "coarse": {"histogram": {"buckets": []}}, "fine": {"histogram": {"buckets": []}},
                                  "as_of": {"value": None}}}


def test_the_repair_fills_the_stage_index_from_every_bucket_of_the_ledger(aws):
    settings = deployed_stage(aws.client("cloudformation"), "tally-prod", REGION).settings
    dynamodb = aws.client("dynamodb")
    polls = DynamoPollStore(dynamodb, settings.polls_table)
    ledger = DynamoBallotLedger(dynamodb, settings.ballots_table)
    tallies = DynamoTallyStore(dynamodb, settings.tallies_table, utc_now)
    poll = new_poll({"poll_id": "final", "title": "Final", "candidates": ["red", "blue"]}, utc_now())
    polls.add(poll)
    ballots = [Ballot("final", f"voter-{n}", "red" if n % 3 else "blue", utc_now()) for n in range(30)]
    for b in ballots:
        assert ledger.cast(b, bucket_of(b.voter_id, poll.buckets)) is None
    tallies.apply("final", "shardId-1", [StreamBallot(str(n + 1).zfill(40), b) for n, b in enumerate(ballots)])
    cluster = FakeCluster()
    connection = type("Recording", (RecordingConnection,), {"cluster": cluster})
    index = OpenSearchIndex(OpenSearch(hosts=[ENDPOINT], connection_class=connection, max_retries=0))
    cluster.answers[("POST", "/tally-ballots/_search")] = search_answer({"red": 5})  # a domain that lost ballots
    reconciler = Reconciler(polls, ledger, tallies, index, utc_now)

    before = reconciler.compare("final")
    assert before.counts == {"ledger": {"red": 20, "blue": 10}, "tallies": {"red": 20, "blue": 10},
                             "index": {"red": 5}}
    start = len(cluster.requests)
    cluster.answers[("POST", "/tally-ballots/_search")] = search_answer({"red": 20, "blue": 10})  # once filled
    report = reconciler.repair("final")
    assert report.indexed == 30 and not report.tallies_rebased and report.held_back is None
    sent = cluster.since(start)
    bulk = [r for r in sent if r.path == "/tally-ballots/_bulk"]
    assert len(bulk) == 1
    assert sorted(a["create"]["_id"] for a in bulk[0].ndjson()[::2]) == \
        sorted(expected_id("final", b.voter_id) for b in ballots)
    assert reconciler.compare("final").agrees
