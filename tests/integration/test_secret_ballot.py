"""A secret ballot at rest: what Tally stores and logs names no voter, and one ballot per voter still holds."""
import hashlib
import json
import sqlite3

import boto3
from botocore.config import Config

from chalicelib import runtime
from chalicelib.events.tally import tally_ballots
from devstack.stream_runner import StreamRunner, stream_arn_of
from tests.integration.helpers import BOARD, add, body, create, stored, vote

VOTERS = ["zebra-voter-7781", "okapi-voter-3392", "quokka-voter-5510"]


def everything_stored(stack):
    """Every item of every table, and every row of the results index, as text."""
    texts = []
    for table in (stack.settings.polls_table, stack.settings.ballots_table, stack.settings.tallies_table):
        for page in stack.dynamodb.get_paginator("scan").paginate(TableName=table):
            texts += [json.dumps(item) for item in page["Items"]]
    with sqlite3.connect(stack.settings.index_path) as db:
        texts += [json.dumps(row) for row in db.execute("SELECT * FROM ballots")]
    return "\n".join(texts)


def test_no_stored_item_and_no_log_line_holds_a_voters_sub_or_username(client, stack, capfd, tmp_path, log_lines,
                                                                        sampling):
    sampling(1.0)  # every vote logged, as on the sampled share of invocations
    create(client, stack)
    for i, name in enumerate(VOTERS):
        assert vote(client, stack, ["red", "blue"][i % 2], voter=name).status_code == 201
        assert vote(client, stack, ["red", "blue"][i % 2], voter=name).status_code == 200   # a resend
        assert vote(client, stack, ["blue", "red"][i % 2], voter=name).status_code == 409   # another candidate
        assert client.get("/votes/mine?poll_id=colours", headers=stack.voter(name)).status_code == 200
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    StreamRunner(streams, stream_arn_of(stack.dynamodb, stack.settings.ballots_table), tally_ballots,
                 str(tmp_path / "dead.jsonl"), window_seconds=0).drain()
    assert body(client.get("/polls/colours/results", headers=stack.operator()))["total"] == 3

    stored, logged = everything_stored(stack), capfd.readouterr()
    lines = log_lines()
    logs = logged.out + logged.err + json.dumps(lines)
    # A vote's lines are there (sampled), and name no voter, not even by handle: they share the request's
    # correlation and trace ids with the access log and the trace, which hold the path.
    votes_logged = [line for line in lines if line["message"].startswith("vote ")]
    assert len(votes_logged) == 3 * len(VOTERS) and not any("voter" in line for line in votes_logged)
    for name in VOTERS:
        sub = stack.sub(name)
        for secret in (sub, name, hashlib.sha256(sub.encode()).hexdigest()[:16]):
            assert secret not in stored
            assert secret not in logs


def test_a_ballot_is_kept_under_a_keyed_pseudonym_that_only_the_key_recomputes(client, stack):
    from chalicelib.domain.voters import VoterKeys

    create(client, stack)
    assert vote(client, stack, "red", voter=VOTERS[0]).status_code == 201
    (item,) = stack.ballot_items("colours")
    sub = stack.sub(VOTERS[0])
    assert item["voter_id"]["S"] == runtime.get().voter_keys.ballot_id(sub) != sub
    assert len(item["voter_id"]["S"]) == 64
    assert VoterKeys(b"another key, 32 bytes long......").ballot_id(sub) != item["voter_id"]["S"]
    assert runtime.get().voter_keys.log_ref(sub) not in item["voter_id"]["S"], "logs cannot be joined to ballots"


def test_a_roll_names_its_voters_but_links_none_of_them_to_a_ballot(client, stack, tmp_path):
    assert client.post("/polls", headers=stack.operator(), body=json.dumps(BOARD)).status_code == 201
    for name in VOTERS:
        stack.tokens(name)
    assert body(add(client, stack, VOTERS))["added"] == len(VOTERS)
    for i, name in enumerate(VOTERS):
        assert vote(client, stack, ["ann", "bob"][i % 2], "board", voter=name).status_code == 201
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    StreamRunner(streams, stream_arn_of(stack.dynamodb, stack.settings.ballots_table), tally_ballots,
                 str(tmp_path / "dead.jsonl"), window_seconds=0).drain()
    entries = "\n".join(json.dumps(item) for item in stored(stack, stack.settings.rolls_table))
    assert all(name in entries for name in VOTERS), "the roll lists its voters, for its operators"
    stored_elsewhere = everything_stored(stack)
    for name in VOTERS:
        assert stack.voter_id(name) not in entries and stack.sub(name) not in entries
        assert name not in stored_elsewhere and stack.sub(name) not in stored_elsewhere
    assert "ann" not in entries and "candidate" not in entries
