"""Poll routes: anyone signed in reads polls; operators create, open and close them."""
from chalice import Response

from .. import runtime
from ..domain.errors import Invalid
from ..domain.polls import Poll, poll_view
from ..domain.times import parse_instant, utc_now
from .errors import Blueprint
from .requests import caller, json_object, operator

bp = Blueprint(__name__)


@bp.route("/polls", methods=["POST"])
def create_poll() -> Response:
    operator(bp.current_request)
    poll = runtime.get().polls.create(json_object(bp.current_request))
    return Response(body=poll_view(poll, utc_now()), status_code=201,
                    headers={"Location": f"/polls/{poll.poll_id}"})


def _for_caller(poll: Poll, now: str) -> dict:
    """The poll, and whether the signed-in caller may vote in it (a read for a roll poll only)."""
    return {**poll_view(poll, now), "eligible": runtime.get().votes.eligible(caller(bp.current_request).sub, poll)}


@bp.route("/polls", methods=["GET"])
def list_polls() -> dict:
    caller(bp.current_request)
    now = utc_now()
    return {"polls": [_for_caller(poll, now) for poll in runtime.get().polls.list()]}


@bp.route("/polls/{poll_id}", methods=["GET"])
def get_poll(poll_id: str) -> dict:
    caller(bp.current_request)
    return _for_caller(runtime.get().polls.get(poll_id), utc_now())


@bp.route("/polls/{poll_id}/open", methods=["POST"])
def open_poll(poll_id: str) -> dict:
    operator(bp.current_request)
    return poll_view(runtime.get().polls.open(poll_id), utc_now())


@bp.route("/polls/{poll_id}/close", methods=["POST"])
def close_poll(poll_id: str) -> dict:
    request = bp.current_request
    operator(request)
    body = json_object(request, optional=True)
    extra = set(body) - {"at"}
    if extra:
        raise Invalid(f"Unknown fields: {', '.join(sorted(extra))}. A close's body holds only at.")
    at = parse_instant(body["at"], "at") if body.get("at") is not None else None
    return poll_view(runtime.get().polls.close(poll_id, at), utc_now())
