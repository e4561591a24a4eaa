"""Votes leave EMF metrics and JSON logs in which the voter is only a hash."""
import io
import json
import logging

import pytest

from chalicelib.observability import logger, voter_ref
from tests.integration.test_routes import create, vote


@pytest.fixture
def log_lines():
    """What the Powertools logger writes, as it would reach CloudWatch."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("tally").addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger("tally").removeHandler(handler)


def test_votes_publish_metrics_and_logs_without_the_voter_id(client, stack, capfd, log_lines):
    create(client, stack)
    capfd.readouterr()
    vote(client, stack, "red")
    vote(client, stack, "blue")
    out = capfd.readouterr().out
    metrics = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    names = {m["Name"] for d in metrics for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"VotesAccepted", "VotesRejected"} <= names
    assert next(d for d in metrics if "VotesRejected" in d)["reason"] == "conflict"

    logs = [line for line in log_lines() if line["message"].startswith("vote ")]
    assert [line["message"] for line in logs] == ["vote accepted", "vote refused"]
    assert all(line["voter"] == voter_ref(stack.sub("vera")) for line in logs)
    assert stack.sub("vera") not in json.dumps(log_lines()) + out
    # A secret ballot: nothing that names a voter, even by hash, may say whom they voted for.
    assert not any("red" in json.dumps(line) for line in log_lines() if "voter" in line)
