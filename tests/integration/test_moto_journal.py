"""The local moto server brings back, after SIGKILL, every change it answered, as it answered it: replay gives a
user the same sub (a ballot key is an HMAC of it), the stream the same records (sequence numbers, event ids,
creation times, the stream's ARN: the stream runner's key for its position), and a token it issued stays valid.
A journal record a crash cut short is dropped and said; a damaged snapshot or a hole in the journal stops moto
with one sentence that names the file and what to do, never a traceback.

Each test runs `python -m devstack.moto_server` itself, with snapshots far apart, so that what comes back after
the kill comes from the journal."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from devstack import journal, processes
from infra import project_root

KEYS = {"region_name": "us-east-1", "aws_access_key_id": "local", "aws_secret_access_key": "local"}
PASSWORD = "Passw0rd!long"


class MotoServer:
    def __init__(self, state_dir: Path, snapshot_seconds: float = 3600):
        self.state_dir = state_dir
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = state_dir / "moto.log"
        self.argv = [sys.executable, "-m", "devstack.moto_server", "--port", str(self.port), "--state-file",
                     str(state_dir / "moto-state.pickle"), "--snapshot-seconds", str(snapshot_seconds)]
        self.process = None

    def start(self) -> "MotoServer":
        self.process = processes.spawn(self.argv, dict(os.environ), str(self.log))
        processes.wait_for_http(f"{self.url}/moto-api/", 60, self.process)
        return self

    def run_until_exit(self) -> int:
        return subprocess.run(self.argv, cwd=project_root(), stdout=open(self.log, "ab"),
                              stderr=subprocess.STDOUT, timeout=60).returncode

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            processes.stop([self.process], 30)

    def client(self, service: str):
        return boto3.session.Session(**KEYS).client(service, endpoint_url=self.url)


@pytest.fixture
def moto(tmp_path):
    server = MotoServer(tmp_path).start()
    yield server
    server.stop()


def what_moto_holds(server: MotoServer, names: dict) -> dict:
    dynamodb, idp, streams = (server.client(s) for s in ("dynamodb", "cognito-idp", "dynamodbstreams"))
    arn = dynamodb.describe_table(TableName="ballots")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    subs = {}
    for username in ("signed-up", "created"):
        attributes = idp.admin_get_user(UserPoolId=names["pool"], Username=username)["UserAttributes"]
        subs[username] = next(a["Value"] for a in attributes if a["Name"] == "sub")
    return {
        "stream_arn": arn,
        "stream": [(r["eventID"], r["dynamodb"]["SequenceNumber"], r["dynamodb"]["ApproximateCreationDateTime"])
                   for r in records],
        "subs": subs,
        "token_user": idp.get_user(AccessToken=names["access_token"])["Username"],
        "items": sorted(i["k"]["S"] for i in dynamodb.scan(TableName="ballots")["Items"]),
    }


def make_things(server: MotoServer) -> dict:
    dynamodb, idp = server.client("dynamodb"), server.client("cognito-idp")
    dynamodb.create_table(TableName="ballots", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    for n in range(5):
        dynamodb.put_item(TableName="ballots", Item={"k": {"S": f"voter-{n}"}, "candidate": {"S": "red"}},
                          ConditionExpression="attribute_not_exists(k)")
    dynamodb.update_item(TableName="ballots", Key={"k": {"S": "voter-0"}}, UpdateExpression="SET candidate = :c",
                         ExpressionAttributeValues={":c": {"S": "blue"}})
    pool = idp.create_user_pool(PoolName="journal")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client, Username="signed-up", Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="signed-up")
    idp.admin_create_user(UserPoolId=pool, Username="created", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="created", Password=PASSWORD, Permanent=True)
    tokens = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "signed-up", "PASSWORD": PASSWORD})["AuthenticationResult"]
    return {"pool": pool, "client": client, "access_token": tokens["AccessToken"],
            "refresh_token": tokens["RefreshToken"]}


def test_after_sigkill_replay_gives_the_same_subs_stream_records_and_tokens(moto):
    names = make_things(moto)
    before = what_moto_holds(moto, names)
    assert not (moto.state_dir / "moto-state.pickle").exists()  # nothing but the journal to come back from
    moto.kill()

    moto.start()
    assert what_moto_holds(moto, names) == before
    refreshed = moto.client("cognito-idp").initiate_auth(ClientId=names["client"], AuthFlow="REFRESH_TOKEN_AUTH",
                                                         AuthParameters={"REFRESH_TOKEN": names["refresh_token"]})
    assert refreshed["AuthenticationResult"]["IdToken"]
    assert "replayed" in moto.log.read_text()


def test_a_journal_record_cut_short_by_a_crash_is_said_dropped_and_the_rest_replayed(moto):
    names = make_things(moto)
    before = what_moto_holds(moto, names)
    moto.kill()
    (_, last), *_ = reversed(journal.segments(moto.state_dir))
    with open(last, "ab") as out:
        out.write(journal.encode(journal.Record(10_000, 0.0, 0, {}, b"{}"))[:20])

    moto.start()
    assert what_moto_holds(moto, names) == before
    said = moto.log.read_text()
    assert f"{last} ended in a record cut short" in said and "never answered" in said
    moto.client("dynamodb").put_item(TableName="ballots", Item={"k": {"S": "after"}})
    moto.kill()
    moto.start()  # what was appended after the cut is replayed too
    assert "after" in what_moto_holds(moto, names)["items"]


def test_a_damaged_snapshot_stops_moto_with_one_sentence(moto):
    make_things(moto)
    moto.stop()  # an orderly stop: the last snapshot holds everything
    snapshot = moto.state_dir / "moto-state.pickle"
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])

    assert moto.run_until_exit() == 3
    said = moto.log.read_text()
    assert f"{snapshot} is damaged" in said and "`make reset`" in said and "loses every poll" in said
    assert "Traceback" not in said


def test_a_hole_in_the_journal_stops_moto_with_one_sentence(tmp_path):
    server = MotoServer(tmp_path, snapshot_seconds=0.2).start()
    try:
        dynamodb = server.client("dynamodb")
        dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        for n in range(3):
            dynamodb.put_item(TableName="t", Item={"k": {"S": str(n)}})
        server.kill()
    finally:
        server.stop()
    head = journal.segments(tmp_path)[-1][0]
    (tmp_path / journal.segment_name(head + 5)).write_bytes(
        journal.encode(journal.Record(head + 5, 0.0, 0, {}, b"")))  # records after a gap: a segment went missing

    assert server.run_until_exit() == 3
    said = server.log.read_text()
    assert "the journal lacks records" in said and "`make reset`" in said and "Traceback" not in said
