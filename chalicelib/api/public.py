"""Routes anyone may call: liveness, what a client needs to sign in, and each poll's public document."""
import json
import os
import time
from datetime import datetime, timezone
from typing import Optional

from chalice import Response

from .. import runtime
from ..domain.errors import Invalid, NotFound
from ..domain.limits import OPERATORS_GROUP, client_limits
from ..domain.results import Windows
from ..services.ports import IndexUnavailable, ResultsIndex
from . import caching
from .auth import public
from .errors import Blueprint, refusal_response
from .requests import MAX_BODY_BYTES, MAX_ROLL_BODY_BYTES, query
from .results import basis

bp = Blueprint(__name__)


# GET /health?deep=1: is the ballots stream's consumer keeping up? Degraded when a record has waited longer than
# MAX_LAG_SECONDS, or when the consumer has not reported for SILENT_SECONDS (it is down or stuck).
MAX_LAG_SECONDS = 5.0
SILENT_SECONDS = 5.0
# The local stream runner's report (devstack/stream_runner.py --status-file). A deployed stage has none: there,
# Lambda's IteratorAge metric (the TallyLagSeconds metric too) says how far behind the tally function is.
STATUS_FILE_VARIABLE = "TALLY_STREAM_STATUS_FILE"


@bp.route("/health", methods=["GET"])
@public
def health() -> dict:
    params = bp.current_request.query_params
    deep = params.get("deep") if params else None
    if deep not in ("1", "true"):
        return {"status": "ok"}  # liveness: no I/O
    report = stream_health(os.environ.get(STATUS_FILE_VARIABLE), time.time())
    index = index_health(runtime.get().index, time.monotonic())
    return {**report, "status": "ok" if report["status"] == "ok" and index["available"] else "degraded",
            "index": index}


# GET /health?deep=1 also asks the results index for a count, at most once a second per process: anyone may
# call the route, and on a stage each ask is a search request.
INDEX_PROBE_SECONDS = 1.0
PROBE_POLL = "-health"  # no poll can have it: ids start with a letter or digit
_index_probe: dict = {}


def index_health(index: ResultsIndex, now: float) -> dict:
    if _index_probe.get("index") is index and _index_probe["until"] > now:
        kept: dict = _index_probe["answer"]
        return kept
    try:
        index.counts(PROBE_POLL, Windows(coarse_from=0, fine_from=0, until=0))
        answer: dict = {"available": True}
    except IndexUnavailable as error:
        answer = {"available": False, "reason": f"{error}; results come from the counters meanwhile"}
    _index_probe.update(index=index, until=now + INDEX_PROBE_SECONDS, answer=answer)
    return answer


def _instant(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stream_health(status_file: Optional[str], now: float) -> dict:
    if not status_file:
        return {"status": "ok", "stream": {"available": False, "reason": "this stage's stream consumer is "
                                           "Lambda: its IteratorAge metric says how far behind it is"}}
    try:
        with open(status_file) as source:
            report = json.load(source)
        reported_at = float(report["reported_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return {"status": "degraded", "stream": {"available": True, "lag_seconds": None, "last_batch_at": None,
                                                 "waiting": None, "reason": "the stream consumer has not reported"}}
    oldest = report.get("oldest_waiting_at")
    lag = round(max(0.0, now - oldest), 3) if oldest is not None else 0.0
    stream = {"available": True, "lag_seconds": lag, "last_batch_at": _instant(report.get("last_batch_at")),
              "waiting": report.get("waiting"), "reported_at": _instant(reported_at)}
    silent = now - reported_at
    if silent > SILENT_SECONDS:
        stream["reason"] = f"the stream consumer has not reported for {silent:.0f} s: it is down or stuck"
    elif lag > MAX_LAG_SECONDS:
        stream["reason"] = f"records have waited {lag:.0f} s for the stream consumer (more than {MAX_LAG_SECONDS:g} s)"
    return {"status": "degraded" if "reason" in stream else "ok", "stream": stream}


@bp.route("/config", methods=["GET"])
@public
def client_config() -> Response:
    settings = runtime.get().settings
    config = {
        "region": settings.region,
        "user_pool_id": settings.user_pool_id,
        "client_id": settings.client_id,
        "cognito_endpoint": settings.cognito_endpoint,
        "self_signup": settings.self_signup,
        "operators_group": OPERATORS_GROUP,
        "limits": {**client_limits(), "max_body_bytes": MAX_BODY_BYTES, "max_roll_body_bytes": MAX_ROLL_BODY_BYTES},
    }
    return caching.conditional(bp.current_request, config, caching.tag_of(config), caching.CONFIG)


@bp.route("/public/polls/{poll_id}", methods=["GET"])
@public
def public_poll(poll_id: str) -> Response:
    """The audience's one read (domain/audience.py): the same answer whoever asks, token or not, so that a shared
    cache answers nearly every viewer and the function sees about one request per poll per second."""
    request = bp.current_request
    query(request)  # refused uncached: a cache keys on the path alone, so such a refusal must not be kept for it
    try:
        document = runtime.get().results.public(poll_id)
    except (Invalid, NotFound) as refusal:  # the same for everyone, and for a while: cacheable too
        response = refusal_response(refusal)
        response.headers["Cache-Control"] = caching.MISSING
        return response
    tag = caching.tag_of({**document, "results": basis(document["results"]) if "results" in document else None})
    return caching.conditional(request, document, tag, caching.FINAL if document["final"] else caching.LIVE)
