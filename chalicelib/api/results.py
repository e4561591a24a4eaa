"""Live results: totals, shares and a timeline, with an ETag so an unchanged result costs a 304."""
import hashlib
import json

from chalice import Response

from .. import runtime
from ..domain.export import results_csv
from .errors import Blueprint
from .requests import caller, operator

bp = Blueprint(__name__)


def etag(view: dict) -> str:
    # The timeline's empty buckets slide with the clock; what makes a result new is its counts and status.
    basis = {k: view.get(k) for k in ("poll_id", "status", "total", "candidates", "as_of", "source", "turnout")}
    return '"' + hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:20] + '"'


@bp.route("/polls/{poll_id}/results", methods=["GET"])
def poll_results(poll_id):
    request = bp.current_request
    view = runtime.get().results.results(poll_id, operator=caller(request).is_operator)
    tag = etag(view)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    # If-None-Match compares weakly (RFC 9110 13.1.2), and "*" matches any result there is.
    sent = {t.strip().removeprefix("W/") for t in (request.headers.get("if-none-match") or "").split(",")}
    if tag in sent or "*" in sent:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=view, status_code=200, headers=headers)


@bp.route("/polls/{poll_id}/results.csv", methods=["GET"])
def poll_results_csv(poll_id):
    """The results as a file for operators: totals, shares, turnout and timeline (domain/export.py)."""
    operator(bp.current_request)
    service = runtime.get()
    view = service.results.results(poll_id, operator=True)
    title = service.polls.get(poll_id).title
    return Response(body=results_csv(title, view), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{poll_id}-results.csv"'})
