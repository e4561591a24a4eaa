"""The app against moto in-process (mock_aws): real tables from infra/, a real user pool, real tokens."""
import io
import json
import logging
import secrets
import threading

import boto3
import jwt
import pytest
from botocore.config import Config
from chalice.test import Client
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from chalicelib import config, runtime
from chalicelib.events.tally import tally_ballots
from chalicelib.observability import logger
from devstack import cognito, moto_patches
from devstack.api import make_server
from devstack.processes import free_port
from devstack.stream_runner import StreamRunner, stream_arn_of
from devstack.tables import create_tables
from tally_client import signin
from tests.integration.helpers import moto_jwk

REGION = "us-east-1"


class Stack:
    """Handles on the emulated AWS account, and users signed in through Cognito."""

    def __init__(self, dynamodb, idp, settings, pool_id, client_id):
        self.dynamodb = dynamodb
        self.idp = idp
        self.settings = settings
        self.pool_id = pool_id
        self.client_id = client_id
        self._tokens = {}
        self._lock = threading.Lock()

    def tokens(self, username, groups=()):
        """Create the user on first use and sign in with USER_PASSWORD_AUTH; returns Cognito's tokens."""
        with self._lock:
            if username not in self._tokens:
                password = signin.new_password()
                signin.create_user(self.idp, self.pool_id, username, password, groups)
                self._tokens[username] = signin.sign_in(self.idp, self.pool_id, self.client_id, username, password)
            return self._tokens[username]

    def auth(self, username, groups=()):
        return {"Authorization": f"Bearer {self.tokens(username, groups)['IdToken']}",
                "Content-Type": "application/json"}

    def operator(self):
        return self.auth("olga", [cognito.OPERATORS_GROUP])

    def voter(self, name="vera"):
        return self.auth(name)

    def sub(self, username):
        """The ID token's sub: who the voter is to Cognito, and what no stored item or log line may hold."""
        return jwt.decode(self.tokens(username)["IdToken"], options={"verify_signature": False})["sub"]

    def voter_id(self, username):
        """The id the ballots table keeps the voter's ballots under: a keyed pseudonym of the sub."""
        from chalicelib import runtime
        return runtime.get().voter_keys.ballot_id(self.sub(username))

    def ballot_items(self, poll_id):
        """The poll's items as stored, read past the app (a Scan, whatever their keys)."""
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.settings.ballots_table, ConsistentRead=True,
            FilterExpression="poll_id = :p", ExpressionAttributeValues={":p": {"S": poll_id}})
        return [item for page in pages for item in page["Items"]]

    def ballots(self, poll_id):
        return {item["voter_id"]["S"]: item["candidate"]["S"] for item in self.ballot_items(poll_id)}


def atomic_moto(monkeypatch):
    """Handle one emulated AWS request at a time, as devstack.moto_server does and for the same reason:
    moto's conditional writes are not atomic across threads, DynamoDB's are."""
    lock = threading.RLock()
    handle = BotocoreStubber.process_request

    def one_at_a_time(self, request):
        with lock:
            return handle(self, request)
    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)


@pytest.fixture
def stack(tmp_path, monkeypatch):
    atomic_moto(monkeypatch)
    moto_patches.transactions_without_table_copies(monkeypatch.setattr)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(moto_jwk("jwks-public")))
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION, "TALLY_POLLS_TABLE": "it-polls", "TALLY_BALLOTS_TABLE": "it-ballots",
        "TALLY_TALLIES_TABLE": "it-tallies", "TALLY_ROLLS_TABLE": "it-rolls", "TALLY_JWKS_URL": jwks.as_uri(),
        "TALLY_INDEX_PATH": str(tmp_path / "results.sqlite3"),
        # A close takes effect one cache lifetime (plus a second) after it is asked for: keep tests short.
        "TALLY_POLL_CACHE_SECONDS": "0.2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("TALLY_COGNITO_ENDPOINT", raising=False)
    monkeypatch.delenv("OPENSEARCH_URL", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        idp = boto3.client("cognito-idp", region_name=REGION)
        settings = config.load()
        create_tables(dynamodb, settings)
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=settings.voter_key_secret, SecretString=secrets.token_urlsafe(48))
        pool_id, client_id = cognito.create_pool(idp)
        monkeypatch.setenv("TALLY_USER_POOL_ID", pool_id)
        monkeypatch.setenv("TALLY_CLIENT_ID", client_id)
        runtime.reset()
        yield Stack(dynamodb, idp, config.load(), pool_id, client_id)
        runtime.reset()


@pytest.fixture
def stream(stack):
    """The ballots table's stream: (the streams client, its ARN)."""
    # moto (5.2.5) does not answer botocore's account-based streams endpoint yet.
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    arn = stream_arn_of(stack.dynamodb, stack.settings.ballots_table)
    return streams, arn


@pytest.fixture
def dead_letters(tmp_path):
    return tmp_path / "dead-letters.jsonl"


@pytest.fixture
def drain(stream, dead_letters):
    """The stream consumer, run until the stream is empty: call it to count what was cast so far."""
    streams, arn = stream
    return StreamRunner(streams, arn, tally_ballots, str(dead_letters), window_seconds=0).drain


@pytest.fixture
def api(stack):
    """The app behind the threaded local HTTP server (as `chalice local` serves it), for requests in parallel."""
    from chalice.config import Config as ChaliceConfig

    from app import app
    port = free_port()
    server = make_server(app, ChaliceConfig.create(), "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def client(stack):
    from app import app
    with Client(app) as test_client:
        yield test_client.http


@pytest.fixture
def log_lines():
    """What the Powertools logger writes, as it would reach CloudWatch."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("tally").addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger("tally").removeHandler(handler)


@pytest.fixture
def sampling():
    """Set the share of invocations Powertools samples (prod: POWERTOOLS_LOGGER_SAMPLE_RATE); restored after."""
    before = logger.sampling_rate

    def set_rate(rate):
        logger.sampling_rate = rate
        logger.refresh_sample_rate_calculation()
    yield set_rate
    set_rate(before)
