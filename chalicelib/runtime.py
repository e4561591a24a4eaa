"""The composition root: builds clients, adapters and services once per warm function, each on first use.

Each piece is built when something first needs it, so a vote never pays for the results index's client
(opensearch-py alone costs ~300 ms of import) and the stream consumer never builds the token verifier.
"""
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Optional

import boto3
from botocore.config import Config

from . import config
from .adapters.cognito_directory import CognitoDirectory
from .adapters.cognito_tokens import JwksCache, TokenVerifier
from .adapters.dynamo_ballots import DynamoBallotLedger
from .adapters.dynamo_polls import DynamoPollStore
from .adapters.dynamo_roll import DynamoRollStore
from .adapters.dynamo_tallies import DynamoTallyStore
from .domain.times import utc_now
from .domain.voters import VoterKeys
from .services.catalog import PollCatalog
from .services.operators import OperatorGate
from .services.polls import CLOCK_SKEW_S, PollService
from .services.ports import BallotLedger, PollStore, ResultsIndex, TallyStore
from .services.reconcile import Reconciler
from .services.results import ResultsService
from .services.roll import RollService
from .services.tallying import TallyService
from .services.votes import VoteService

if TYPE_CHECKING:  # the typed client is the checker's (requirements-dev.txt), not in the Lambda package
    from mypy_boto3_dynamodb import DynamoDBClient

_BOTO_CONFIG = Config(
    # The local server answers many requests at once from one process; Lambda uses one connection.
    max_pool_connections=64,
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


class Runtime:
    def __init__(self, settings: config.Settings):
        self.settings = settings

    @cached_property
    def dynamodb(self) -> "DynamoDBClient":
        return boto3.session.Session().client("dynamodb", region_name=self.settings.region, config=_BOTO_CONFIG)

    @cached_property
    def poll_store(self) -> PollStore:
        return DynamoPollStore(self.dynamodb, self.settings.polls_table)

    @cached_property
    def catalog(self) -> PollCatalog:
        return PollCatalog(self.poll_store, ttl=self.settings.poll_cache_seconds)

    @cached_property
    def polls(self) -> PollService:
        return PollService(self.poll_store, self.catalog, utc_now)

    @cached_property
    def ledger(self) -> BallotLedger:
        return DynamoBallotLedger(self.dynamodb, self.settings.ballots_table)

    @cached_property
    def voter_keys(self) -> VoterKeys:
        """The key of voters' pseudonyms, read from Secrets Manager once per cold start (on the first signed-in
        request): it must not change while a poll is open, or a voter would get a second ballot id."""
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        client = boto3.session.Session().client("secretsmanager", region_name=self.settings.region,
                                                config=_BOTO_CONFIG)
        secret = SecretsProvider(boto3_client=client).get(self.settings.voter_key_secret)
        if not isinstance(secret, str):
            raise ValueError(f"the secret {self.settings.voter_key_secret} must hold the voters' key as text")
        return VoterKeys(secret.encode())

    @cached_property
    def votes(self) -> VoteService:
        return VoteService(self.catalog, self.ledger, utc_now, lambda sub: self.voter_keys.ballot_id(sub))

    @cached_property
    def tokens(self) -> TokenVerifier:
        return TokenVerifier(self.settings.issuer, self.settings.client_id, JwksCache(self.settings.jwks_url))

    @cached_property
    def directory(self) -> CognitoDirectory:
        client = boto3.session.Session().client("cognito-idp", region_name=self.settings.region,
                                                endpoint_url=self.settings.cognito_endpoint, config=_BOTO_CONFIG)
        return CognitoDirectory(client, self.settings.user_pool_id)

    @cached_property
    def operators(self) -> OperatorGate:
        # A results read may trust an operator's standing as long as an instance holds a poll: a revocation then
        # reaches results no later than a close does (services/operators.py).
        return OperatorGate(self.directory, self.settings.operator_mfa_required,
                            standing_ttl_s=self.settings.poll_cache_seconds)

    @cached_property
    def roll(self) -> RollService:
        store = DynamoRollStore(self.dynamodb, self.settings.rolls_table, self.settings.ballots_table,
                                self.settings.tallies_table, utc_now)
        return RollService(self.catalog, store, self.directory, utc_now, lambda sub: self.voter_keys.ballot_id(sub),
                           clock_skew_s=CLOCK_SKEW_S)

    @cached_property
    def tallies(self) -> TallyStore:
        return DynamoTallyStore(self.dynamodb, self.settings.tallies_table, utc_now)

    @cached_property
    def index(self) -> ResultsIndex:
        """The results index: OpenSearch when OPENSEARCH_URL is set, else the embedded SQLite file."""
        if self.settings.opensearch_url:
            from .adapters.opensearch_index import OpenSearchIndex, client_for
            return OpenSearchIndex(client_for(self.settings.opensearch_url, self.settings.region,
                                              self.settings.opensearch_sigv4))
        from .adapters.sqlite_index import SqliteIndex
        return SqliteIndex(self.settings.index_path)

    @cached_property
    def results(self) -> ResultsService:
        return ResultsService(self.catalog, self.index, self.tallies, utc_now)

    @cached_property
    def reconciler(self) -> Reconciler:
        return Reconciler(self.poll_store, self.ledger, self.tallies, self.index, utc_now)

    @cached_property
    def tallying(self) -> TallyService:
        return TallyService(self.tallies, self.index, utc_now)


_lock = threading.Lock()
_runtime: Optional[Runtime] = None


def get() -> Runtime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = Runtime(config.load())
    return _runtime


def reset() -> None:
    """Forget the built runtime, so the next request reads the environment again (tests, new stacks)."""
    global _runtime
    with _lock:
        _runtime = None
