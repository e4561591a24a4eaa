"""Routes anyone may call: liveness, and what a client needs to sign in."""

from .. import runtime
from ..domain.polls import limits
from .auth import public
from .errors import Blueprint
from .requests import MAX_BODY_BYTES

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@public
def health():
    return {"status": "ok"}


@bp.route("/config", methods=["GET"])
@public
def client_config():
    settings = runtime.get().settings
    return {
        "region": settings.region,
        "user_pool_id": settings.user_pool_id,
        "client_id": settings.client_id,
        "cognito_endpoint": settings.cognito_endpoint,
        "limits": {**limits(), "max_body_bytes": MAX_BODY_BYTES},
    }
