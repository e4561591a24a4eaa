"""What votes leave in logs and metrics, and what they do not.

- Accepted and repeated votes are logged only on the sampled share of invocations (Powertools' log sampling);
  every refusal is logged, always; the voter appears only as a hash, never beside a candidate.
- Accepted votes are counted exactly, once, by the tally consumer (BallotsCounted per batch), not by an EMF line
  per vote; an invocation with no metric prints nothing at all.
"""
import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config

from chalicelib.events.tally import tally_ballots
from devstack.stream_runner import LocalContext, StreamRunner, lambda_event, lambda_record, stream_arn_of
from infra import project_root
from tests.integration.helpers import create, vote


def emf(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def metric_names(documents):
    return {m["Name"] for d in documents for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


def vote_lines(log_lines):
    return [line for line in log_lines() if line["message"].startswith("vote ")]


def test_an_accepted_or_repeated_vote_outside_the_sample_writes_nothing(client, stack, capfd, log_lines, sampling):
    sampling(None)  # sampling off: what 99% of prod invocations are
    create(client, stack)
    capfd.readouterr()
    assert vote(client, stack, "red").status_code == 201
    assert vote(client, stack, "red").status_code == 200
    out, err = capfd.readouterr()
    assert vote_lines(log_lines) == []
    assert not [line for line in log_lines() if line["level"] == "INFO"]
    assert emf(out) == []          # no metric line per vote: the consumer counts accepted ballots
    assert err == ""               # and no "No application metrics to publish" warning either


def test_a_sampled_invocation_logs_its_vote_at_info(client, stack, log_lines, sampling):
    create(client, stack)
    sampling(1.0)  # every invocation sampled
    assert vote(client, stack, "red").status_code == 201
    (line,) = vote_lines(log_lines)
    # INFO, not DEBUG: Lambda's log-level filter (ApplicationLogLevel INFO) would drop a DEBUG line.
    assert line["message"] == "vote accepted" and line["level"] == "INFO"
    assert line["poll_id"] == "colours" and "voter" not in line  # a vote's lines name no voter, even by handle


def test_every_refusal_is_logged_and_counted_whatever_the_sampling(client, stack, capfd, log_lines, sampling):
    sampling(None)
    create(client, stack)
    assert vote(client, stack, "red").status_code == 201
    capfd.readouterr()
    assert vote(client, stack, "blue").status_code == 409          # another candidate
    assert vote(client, stack, "purple").status_code == 404         # not a candidate of the poll
    out = capfd.readouterr().out
    refusals = vote_lines(log_lines)
    assert [line["message"] for line in refusals] == ["vote refused", "vote refused"]
    assert refusals[0]["reason"] == "conflict"
    rejected = [d for d in emf(out) if "VotesRejected" in d]
    assert len(rejected) == 2 and rejected[0]["reason"] == "conflict"
    # A secret ballot: a vote's lines share the request's correlation and trace ids with the access log and the
    # trace, which hold the path (the candidate), so they name no voter, not even by handle.
    assert not any("voter" in line for line in refusals)
    handle = log_ref(stack, "vera")
    assert stack.sub("vera") not in json.dumps(log_lines()) + out and handle not in json.dumps(log_lines()) + out


@pytest.fixture
def stream(stack):
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    return streams, stream_arn_of(stack.dynamodb, stack.settings.ballots_table)


def counted(out):
    """The BallotsCounted values the consumer's EMF lines carry, summed."""
    total = 0
    for document in emf(out):
        value = document.get("BallotsCounted", 0)
        total += sum(value) if isinstance(value, list) else value
    return total


def test_ballots_counted_is_the_exact_accepted_count_even_on_redelivery(client, stack, capfd, stream, tmp_path):
    create(client, stack)
    answers = [vote(client, stack, c, voter=f"v{i}").status_code for i, c in enumerate(["red", "blue", "red"] * 3)]
    answers += [vote(client, stack, "red", voter="v0").status_code,    # a resend: 200, no new ballot
                vote(client, stack, "blue", voter="v0").status_code]   # another candidate: 409
    accepted = answers.count(201)
    assert accepted == 9 and answers[-2:] == [200, 409]
    events = []

    def handler(event, context):
        events.append(json.loads(json.dumps(event)))
        return tally_ballots(event, context)

    streams, arn = stream
    capfd.readouterr()
    StreamRunner(streams, arn, handler, str(tmp_path / "dead.jsonl"), batch_size=4, window_seconds=0).drain()
    assert counted(capfd.readouterr().out) == accepted == sum(counts_of(stack))
    for event in events:  # Lambda delivers every batch again: the counters take nothing twice, nor does the metric
        tally_ballots(event, LocalContext())
    assert counted(capfd.readouterr().out) == 0
    assert sum(counts_of(stack)) == accepted


def log_ref(stack, username):
    from chalicelib import runtime
    return runtime.get().voter_keys.log_ref(stack.sub(username))


def counts_of(stack):
    from chalicelib import runtime
    return runtime.get().reconciler.compare("colours").counts["tallies"].values()


def test_a_window_closing_invocation_prints_nothing(stack, capfd, stream):
    _, arn = stream
    capfd.readouterr()
    now = datetime.now(timezone.utc)
    assert tally_ballots(lambda_event([], arn, "shardId-0001", now), LocalContext()) == {
        "batchItemFailures": [], "state": {}}
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_flush_with_no_metric_writes_nothing_on_lambda():
    # In a fresh interpreter as on Lambda (pytest filters warnings its own way): Powertools warns on every flush
    # without a metric, which most API invocations now are; the app silences that warning, nothing else.
    import subprocess
    import sys
    code = ("import app; from chalicelib.observability import metrics; "
            "[metrics.flush_metrics() for _ in range(3)]; import warnings; warnings.warn('other warnings still show')")
    result = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True,
                            timeout=120, env={"PATH": "", "AWS_DEFAULT_REGION": "us-east-1"},
                            cwd=project_root())
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "No application metrics" not in result.stderr and "other warnings still show" in result.stderr


def test_ballots_counted_is_reported_even_when_the_index_write_after_the_counters_fails(client, stack, capfd,
                                                                                      stream):
    import sqlite3

    from chalicelib import runtime
    create(client, stack)
    for i, candidate in enumerate(["red", "blue", "red"]):
        assert vote(client, stack, candidate, voter=f"v{i}").status_code == 201
    streams, arn = stream
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = [lambda_record(r, arn) for r in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]]
    event = lambda_event(records, arn, shard, datetime.now(timezone.utc))
    assert runtime.get().index is not None
    with sqlite3.connect(stack.settings.index_path) as db:
        db.execute("CREATE TRIGGER down BEFORE INSERT ON ballots BEGIN SELECT RAISE(ABORT, 'index down'); END")
    capfd.readouterr()
    with pytest.raises(sqlite3.DatabaseError, match="index down"):
        tally_ballots(event, LocalContext())
    assert counted(capfd.readouterr().out) == 3, "the counters took the batch: the metric says so at once"
    with sqlite3.connect(stack.settings.index_path) as db:
        db.execute("DROP TRIGGER down")
    tally_ballots(event, LocalContext())  # Lambda's retry: the index takes the batch, the counters nothing
    assert counted(capfd.readouterr().out) == 0
