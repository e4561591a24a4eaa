"""Live results: totals, shares and a timeline, with an ETag so an unchanged result costs a 304."""
from chalice import Response

from .. import runtime
from ..domain.errors import Forbidden
from ..domain.export import results_csv
from .caching import conditional, tag_of
from .errors import Blueprint
from .requests import caller, operator

bp = Blueprint(__name__)


def basis(view: dict) -> dict:
    # The timeline's empty buckets slide with the clock; what makes a result new is its counts and status.
    return {k: view.get(k) for k in ("poll_id", "status", "total", "candidates", "as_of", "source", "turnout")}


def etag(view: dict) -> str:
    return tag_of(basis(view))


@bp.route("/polls/{poll_id}/results", methods=["GET"])
def poll_results(poll_id: str) -> Response:
    request = bp.current_request
    service = runtime.get()
    try:
        view = service.results.results(poll_id, operator=False)
    except Forbidden:
        # Hidden from voters for now: shown to an operator now, not to a token that said so when it was issued
        # (the pool is asked, its answer kept a few seconds: services/operators.py). A live poll never gets here.
        who = caller(request)
        if not service.operators.sees_hidden_results(who.username, who.groups):
            raise
        view = service.results.results(poll_id, operator=True)
    # no-cache: a browser keeps the result and asks again with its ETag every time.
    return conditional(request, view, etag(view), "no-cache")


@bp.route("/polls/{poll_id}/results.csv", methods=["GET"])
def poll_results_csv(poll_id: str) -> Response:
    """The results as a file for operators: totals, shares, turnout and timeline (domain/export.py)."""
    operator(bp.current_request)
    service = runtime.get()
    view = service.results.results(poll_id, operator=True)
    title = service.polls.get(poll_id).title
    return Response(body=results_csv(title, view), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{poll_id}-results.csv"'})
