"""What lets the local platform keep its data: moto's backends survive a pickle round trip (Cognito's signing key
included, and a user signs in with their old password), a new stream runner resumes after the last record the
previous one finished, and after a hard crash the index gets what it lacks while a ledger that lost answered
ballots is said, not hidden by shrinking the index to it."""
import os

import boto3
from botocore.config import Config

from chalicelib import runtime
from chalicelib.domain.times import utc_now
from chalicelib.events.tally import tally_ballots
from chalicelib.services.reconcile import Reconciler
from devstack import moto_state, state
from devstack.stream_runner import StreamRunner, stream_arn_of
from tally_client import signin
from tests.integration.helpers import create, vote


def runner(stack, tmp_path, start_after=None):
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    return StreamRunner(streams, stream_arn_of(stack.dynamodb, stack.settings.ballots_table), tally_ballots,
                        str(tmp_path / "dead.jsonl"), window_seconds=0, start_after=start_after)


def test_moto_state_round_trips_and_a_user_signs_in_with_the_old_password(stack, tmp_path):
    moto_state.register_reducers()
    password = signin.new_password()
    signin.create_user(stack.idp, stack.pool_id, "kim", password)
    path = tmp_path / moto_state.FILE_NAME
    moto_state.write(path, final=True)
    assert moto_state.header(path)["final"] is True
    stack.idp.admin_delete_user(UserPoolId=stack.pool_id, Username="kim")
    stack.dynamodb.delete_table(TableName=stack.settings.polls_table)

    moto_state.restore(path)
    assert signin.sign_in(stack.idp, stack.pool_id, stack.client_id, "kim", password)["IdToken"]
    assert stack.settings.polls_table in stack.dynamodb.list_tables()["TableNames"]


def test_a_new_runner_resumes_after_the_last_record_finished(client, stack, tmp_path):
    create(client, stack)
    for i in range(3):
        vote(client, stack, "red", voter=f"first-{i}")
    first = runner(stack, tmp_path)
    assert first.drain() == 3
    for i in range(2):
        vote(client, stack, "blue", voter=f"second-{i}")
    second = runner(stack, tmp_path, start_after=first.positions())
    assert second.drain() == 2  # not the whole stream again
    assert second.status()["waiting"] == 0 and second.status()["last_batch_at"]


def test_the_index_is_filled_after_a_crash_and_a_ledger_that_lost_ballots_is_said(client, stack, tmp_path):
    create(client, stack)
    for i in range(4):
        vote(client, stack, ["red", "blue"][i % 2], voter=f"v{i}")
    runner(stack, tmp_path).drain()
    # What answered votes lost from the ledger look like to the index: a ballot it holds is not in the ledger, and a
    # poll it holds is not in the polls table.
    item = stack.ballot_items("colours")[0]
    stack.dynamodb.delete_item(TableName=stack.settings.ballots_table,
                               Key={k: item[k] for k in ("poll_bucket", "voter_id")})
    create(client, stack, {"poll_id": "gone", "title": "Gone", "candidates": ["x", "y"]})
    vote(client, stack, "x", poll_id="gone", voter="g")
    runner(stack, tmp_path).drain()
    stack.dynamodb.delete_item(TableName=stack.settings.polls_table, Key={"poll_id": {"S": "gone"}})
    vote(client, stack, "blue", voter="not-indexed-yet")  # the stream runner had not reached it at the crash

    env = {**os.environ, "AWS_ENDPOINT_URL": "https://dynamodb.us-east-1.amazonaws.com"}
    found = state.mend_index(env)
    assert "colours: the index holds 1 ballots the ledger lacks" in found and "make reconcile POLL=colours" in found
    assert "gone: the index holds ballots of a poll the polls table lacks" in found
    rt = runtime.get()
    compared = Reconciler(rt.poll_store, rt.ledger, rt.tallies, rt.index, utc_now).compare("colours")
    assert sum(compared.counts["ledger"].values()) == 4 and sum(compared.counts["index"].values()) == 5
    assert not compared.agrees  # reconcile shows the loss instead of reporting agreement
    assert state.mend_index(env) == found  # said again at every start until someone looks
