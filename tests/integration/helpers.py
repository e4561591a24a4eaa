"""What the integration tests do through the app and read past it, written once: a test file imports these, never
another test file. The fixtures they take (client, stack, stream, api) are in conftest.py."""
import gzip
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import jwt
import moto

from chalicelib import runtime
from chalicelib.events.tally import tally_ballots
from devstack.stream_runner import LocalContext, StreamRunner, lambda_event, lambda_record

MOTO_RESOURCES = Path(moto.__file__).parent / "cognitoidp" / "resources"

COLOURS = {"poll_id": "colours", "title": "Best colour", "candidates": ["red", {"id": "blue", "label": "Blue"}]}
BOARD = {"poll_id": "board", "title": "Board election", "candidates": ["ann", "bob"], "electorate": "roll"}


def body(response):
    return json.loads(response.body)


def wait_until(condition, timeout=10.0, interval=0.05, message="condition"):
    """Poll `condition` until it is truthy or the deadline passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            assert value, f"{message} did not hold within {timeout} s"
            return value
        time.sleep(interval)


# ---- polls and votes, through chalice.test.Client

def create(client, stack, poll=COLOURS):
    return client.post("/polls", headers=stack.operator(), body=json.dumps(poll))


def vote(client, stack, candidate, poll_id="colours", voter="vera"):
    payload = json.dumps({"poll_id": poll_id}) if poll_id else ""
    return client.post(f"/votes/{candidate}", headers=stack.voter(voter), body=payload)


def close(client, stack, poll_id="colours"):
    """Close the poll and wait until the close has taken effect (it takes effect a cache lifetime later)."""
    response = client.post(f"/polls/{poll_id}/close", headers=stack.operator())
    assert response.status_code == 200, response.body
    wait_until(lambda: body(client.get(f"/polls/{poll_id}", headers=stack.voter()))["status"] == "closed",
               message=f"poll {poll_id} closed")
    return body(response)


def post(url, headers, payload):
    """A POST over HTTP (to the `api` fixture's server): (status, JSON body)."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# ---- rolls

def accounts(stack, *names):
    """Voter accounts in the pool, as self sign-up or an administrator leaves them."""
    for name in names:
        stack.tokens(name)
    return list(names)


def add(client, stack, voters, poll_id="board", invite=None):
    payload = {"voters": voters, **({"invite": invite} if invite is not None else {})}
    return client.post(f"/polls/{poll_id}/roll", headers=stack.operator(), body=json.dumps(payload))


def stored(stack, table, poll_id="board"):
    pages = stack.dynamodb.get_paginator("scan").paginate(
        TableName=table, FilterExpression="poll_id = :p", ExpressionAttributeValues={":p": {"S": poll_id}})
    return [item for page in pages for item in page["Items"]]


# ---- the ballots' stream and the three counts

def runner_for(stream, dead_letters, handler, batch_size=100):
    streams, arn = stream
    return StreamRunner(streams, arn, handler, str(dead_letters), batch_size=batch_size, window_seconds=0)


def counts(poll_id):
    return runtime.get().reconciler.compare(poll_id).counts


def assert_reconciled(poll_id, expected):
    found = counts(poll_id)
    assert found["ledger"] == expected
    assert found["tallies"] == expected
    assert found["index"] == expected


def all_records(stream):
    streams, arn = stream
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return shard, [lambda_record(r, arn) for r in records]


def deliver(stream, shard, records):
    _, arn = stream
    return tally_ballots(lambda_event(records, arn, shard, datetime.now(timezone.utc)), LocalContext())


# ---- tokens: moto's keys, and requests with a token of the test's making

def moto_jwk(name):
    return json.loads(gzip.decompress((MOTO_RESOURCES / f"{name}.json.gz").read_bytes()))


def moto_private_key():
    return jwt.PyJWK(moto_jwk("jwks-private")).key


def resign(token, key=None, algorithm="RS256", kid="dummy", **changes):
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return jwt.encode(claims, key if key is not None else moto_private_key(), algorithm=algorithm,
                      headers={"kid": kid})


def call(client, method, path, token=None, header=None):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.request(method, path, headers=headers, body="{}" if method == "POST" else b"")
