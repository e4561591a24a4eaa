"""Domain refusals as answers in the API's shape, {"Code", "Message"}, by the refusal's class hierarchy.

Every route of the API is registered through `Blueprint` below, which puts the mapping around its view: no route
can forget it, and a new kind of refusal answers as its nearest known base does.
"""
import functools

import chalice
from chalice import Response

from ..domain import errors

# Most specific first is not needed: a refusal's own class is looked up first, then its bases (its MRO).
_AS_HTTP = {
    errors.Invalid: (400, "BadRequestError"),
    errors.Forbidden: (403, "ForbiddenError"),
    errors.NotFound: (404, "NotFoundError"),
    errors.Conflict: (409, "ConflictError"),
    errors.Throttled: (429, "TooManyRequestsError"),
    errors.TallyError: (400, "BadRequestError"),
}
# DynamoDB throttling passes within a second or so as on-demand capacity adapts; clients add their own jitter.
RETRY_AFTER_S = 1


def refusal_response(refusal: errors.TallyError) -> Response:
    status, code = next(_AS_HTTP[kind] for kind in type(refusal).__mro__ if kind in _AS_HTTP)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 429 else {}
    return Response(body={"Code": code, "Message": str(refusal)}, status_code=status, headers=headers)


def answers_refusals(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except errors.TallyError as refusal:
            return refusal_response(refusal)
    wrapper.tally_answers_refusals = True
    return wrapper


class Blueprint(chalice.Blueprint):
    """Chalice's Blueprint, whose every route answers domain refusals in the API's shape."""

    def route(self, path: str, **kwargs):
        register = super().route(path, **kwargs)
        return lambda view: register(answers_refusals(view))
