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
from .domain.times import utc_now
from .services.catalog import PollCatalog
from .services.polls import PollService
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


_lock = threading.Lock()
_runtime: Optional[Runtime] = None


def _build() -> Runtime:
    settings = config.load()
    dynamodb = boto3.session.Session().client("dynamodb", region_name=settings.region, config=_BOTO_CONFIG)
    store = DynamoPollStore(dynamodb, settings.polls_table)
    catalog = PollCatalog(store, ttl=settings.poll_cache_seconds)
    return Runtime(
        settings=settings,
        polls=PollService(store, catalog, utc_now),
        votes=VoteService(catalog, DynamoBallotLedger(dynamodb, settings.ballots_table), utc_now),
        tokens=TokenVerifier(settings.issuer, settings.client_id, JwksCache(settings.jwks_url)),
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
