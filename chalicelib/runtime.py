"""The composition root: builds the clients, adapters and services once per warm function, on first use."""
import threading
from dataclasses import dataclass
from typing import Optional

import boto3
from botocore.config import Config

from . import config
from .adapters.cognito_tokens import JwksCache, TokenVerifier
from .adapters.dynamo_ballots import DynamoBallotLedger
from .adapters.dynamo_polls import DynamoPollStore
from .adapters.dynamo_tallies import DynamoTallyStore
from .domain.times import utc_now
from .services.catalog import PollCatalog
from .services.polls import PollService
from .services.results import ResultsService
from .services.tallying import TallyService
from .services.votes import VoteService

_BOTO_CONFIG = Config(
    # The local server answers many requests at once from one process; Lambda uses one connection.
    max_pool_connections=64,
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@dataclass(frozen=True)
class Runtime:
    settings: config.Settings
    polls: PollService
    votes: VoteService
    tokens: TokenVerifier
    results: ResultsService
    tallying: TallyService
    tallies: DynamoTallyStore
    index: object  # a ResultsIndex
    ledger: DynamoBallotLedger


_lock = threading.Lock()
_runtime: Optional[Runtime] = None


def _results_index(settings: config.Settings):
    if settings.opensearch_url:
        # Imported only here: opensearch-py costs ~200 ms of import that the embedded default does not need.
        from .adapters.opensearch_index import OpenSearchIndex, client_for
        return OpenSearchIndex(client_for(settings.opensearch_url, settings.region, settings.opensearch_sigv4))
    from .adapters.sqlite_index import SqliteIndex
    return SqliteIndex(settings.index_path)


def _build() -> Runtime:
    settings = config.load()
    dynamodb = boto3.session.Session().client("dynamodb", region_name=settings.region, config=_BOTO_CONFIG)
    store = DynamoPollStore(dynamodb, settings.polls_table)
    catalog = PollCatalog(store, ttl=settings.poll_cache_seconds)
    tallies = DynamoTallyStore(dynamodb, settings.tallies_table, utc_now)
    index = _results_index(settings)
    ledger = DynamoBallotLedger(dynamodb, settings.ballots_table)
    return Runtime(
        settings=settings,
        polls=PollService(store, catalog, utc_now),
        votes=VoteService(catalog, ledger, utc_now),
        tokens=TokenVerifier(settings.issuer, settings.client_id, JwksCache(settings.jwks_url)),
        results=ResultsService(catalog, index, tallies, utc_now),
        tallying=TallyService(tallies, index, utc_now),
        tallies=tallies,
        index=index,
        ledger=ledger,
    )


def get() -> Runtime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = _build()
    return _runtime


def reset() -> None:
    """Forget the built runtime, so the next request reads the environment again (tests, new stacks)."""
    global _runtime
    with _lock:
        _runtime = None
