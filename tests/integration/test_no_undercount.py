"""Results never publish an undercount: when the index has lost ballots the counters have, the answer comes from
the counters and says so; the repair refills the index from the ledger, and then the three agree again."""
import json
import sqlite3

import boto3
import pytest
from botocore.config import Config

from chalicelib import runtime
from chalicelib.events.tally import tally_ballots
from cli.reconcile import run
from devstack.stream_runner import StreamRunner, stream_arn_of
from tests.integration.helpers import body, close, create, vote

INDEX_DOWN = "CREATE TRIGGER index_down BEFORE INSERT ON ballots BEGIN SELECT RAISE(ABORT, 'index down'); END"


@pytest.fixture
def runner(stack, tmp_path):
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    return StreamRunner(streams, stream_arn_of(stack.dynamodb, stack.settings.ballots_table), tally_ballots,
                        str(tmp_path / "dead-letters.jsonl"), window_seconds=0)


def results(client, stack):
    reply = client.get("/polls/colours/results", headers=stack.operator())
    assert reply.status_code == 200
    view = body(reply)
    return {c["id"]: c["votes"] for c in view["candidates"] if c["votes"]}, view["source"]


def ledger(stack):
    found = {}
    for candidate in stack.ballots("colours").values():
        found[candidate] = found.get(candidate, 0) + 1
    return found


def test_a_batch_dead_lettered_after_its_counters_never_shows_as_fewer_votes(client, stack, runner, tmp_path,
                                                                              capsys):
    create(client, stack)
    for i, candidate in enumerate(["red", "red", "blue"]):
        assert vote(client, stack, candidate, voter=f"early-{i}").status_code == 201
    assert runtime.get().index is not None  # the index's tables exist, so the fault can be put in them
    with sqlite3.connect(stack.settings.index_path) as db:
        db.execute(INDEX_DOWN)
    runner.drain()  # the counters are written, every index write fails, the batch goes to the dead letters
    letters = [json.loads(line) for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()]
    assert len(letters) == 3 and all("index down" in letter["reason"] for letter in letters)
    with sqlite3.connect(stack.settings.index_path) as db:
        db.execute("DROP TRIGGER index_down")

    assert results(client, stack) == (ledger(stack), "tallies") == ({"red": 2, "blue": 1}, "tallies")
    # Voting goes on, and the index takes the new ballots: it is still behind, and the answer still exact.
    for i, candidate in enumerate(["blue", "blue"]):
        assert vote(client, stack, candidate, voter=f"later-{i}").status_code == 201
    runner.drain()
    assert results(client, stack) == (ledger(stack), "tallies") == ({"red": 2, "blue": 3}, "tallies")
    assert run(stack.settings, "colours", repair=False) == 1
    assert "MISMATCH" in capsys.readouterr().out

    assert run(stack.settings, "colours", repair=True) == 0  # while the poll is open: the index is filled
    assert "repair: 3 ballots added to the index" in capsys.readouterr().out
    assert run(stack.settings, "colours", repair=False) == 0
    assert results(client, stack) == ({"red": 2, "blue": 3}, "index")


def test_a_new_empty_index_answers_from_the_counters_until_it_is_refilled(client, stack, runner):
    create(client, stack)
    for i, candidate in enumerate(["red", "blue", "blue"]):
        assert vote(client, stack, candidate, voter=f"v{i}").status_code == 201
    runner.drain()
    assert results(client, stack) == ({"red": 1, "blue": 2}, "index")
    with sqlite3.connect(stack.settings.index_path) as db:  # a replaced search domain: nothing in it
        db.execute("DELETE FROM ballots")
    assert results(client, stack) == ({"red": 1, "blue": 2}, "tallies")
    assert runtime.get().reconciler.repair("colours").indexed == 3
    assert results(client, stack) == ({"red": 1, "blue": 2}, "index")


def test_the_tallies_are_rebased_only_on_a_drained_stream(client, stack, runner):
    from chalicelib.domain.times import utc_now
    from chalicelib.services.reconcile import Reconciler

    create(client, stack)
    for i, candidate in enumerate(["red", "blue", "blue"]):
        assert vote(client, stack, candidate, voter=f"v{i}").status_code == 201
    runner.drain()
    rt = runtime.get()
    (lane,) = stack.dynamodb.query(TableName=stack.settings.tallies_table, KeyConditionExpression="poll_id = :p",
                                   ExpressionAttributeValues={":p": {"S": "colours"}})["Items"]
    stack.dynamodb.update_item(TableName=stack.settings.tallies_table, UpdateExpression="SET c_blue = :one",
                               Key={k: lane[k] for k in ("poll_id", "shard_id")},
                               ExpressionAttributeValues={":one": {"N": "1"}})  # a lane that lost a count
    reconciler = Reconciler(rt.poll_store, rt.ledger, rt.tallies, rt.index, utc_now, quiet_s=0)

    held = reconciler.repair("colours")
    assert not held.tallies_rebased and "is open: votes may still arrive" in held.held_back
    assert results(client, stack) == ({"red": 1, "blue": 2}, "index"), "the index still shows what was cast"

    close(client, stack)
    done = reconciler.repair("colours")
    assert done.tallies_rebased and done.held_back is None
    assert reconciler.compare("colours").agrees
    runner.drain()  # nothing new on the stream: the lanes kept their checkpoints
    assert reconciler.compare("colours").counts["tallies"] == {"red": 1, "blue": 2}
