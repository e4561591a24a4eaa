"""Roll routes: operators add voters to a roll poll's roll (inviting the missing), list it, and remove voters."""
from .. import runtime
from .errors import Blueprint
from .requests import MAX_ROLL_BODY_BYTES, body_limit, json_object, operator, query

bp = Blueprint(__name__)


@bp.route("/polls/{poll_id}/roll", methods=["POST"])
@body_limit(MAX_ROLL_BODY_BYTES)
def add_to_roll(poll_id: str) -> dict:
    operator(bp.current_request)
    return runtime.get().roll.add(poll_id, json_object(bp.current_request)).view()


@bp.route("/polls/{poll_id}/roll", methods=["GET"])
def list_roll(poll_id: str) -> dict:
    operator(bp.current_request)
    after = query(bp.current_request, "next").get("next")
    return runtime.get().roll.page(poll_id, after)


@bp.route("/polls/{poll_id}/roll/remove", methods=["POST"])
@body_limit(MAX_ROLL_BODY_BYTES)
def remove_from_roll(poll_id: str) -> dict:
    operator(bp.current_request)
    return runtime.get().roll.remove(poll_id, json_object(bp.current_request)).view()
