"""Domain refusals as answers in the API's shape, {"Code", "Message"}, by the refusal's class hierarchy.

Every route of the API is registered through `Blueprint` below, which puts the mapping around its view: no route
can forget it, and a new kind of refusal answers as its nearest known base does.

A store that cannot be reached (DynamoDB or Cognito refusing connections, resetting them or not answering in
time, as moto does while it restarts; or answering with a 5xx after botocore's own retries) is a 503 with
Retry-After, not a 500: the caller did nothing wrong, and a vote resent after it is safe (one ballot per voter).
"""
import functools
from typing import Any, Callable, Optional

import chalice
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from chalice import Response
from chalice.app import HeadersType

from ..domain import errors
from ..observability import logger
from .marks import View, mark

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
    wait = getattr(refusal, "retry_after_s", 0) or RETRY_AFTER_S
    headers: HeadersType = {"Retry-After": str(wait)} if status == 429 else {}
    return Response(body={"Code": code, "Message": str(refusal)}, status_code=status, headers=headers)


def unreachable(error: Optional[BaseException]) -> bool:
    """botocore's word for a store that could not answer now, after its retries; also when a library wrapped it
    (Powertools' GetParameterError, raised while handling the botocore error)."""
    while error is not None:
        if isinstance(error, (BotocoreConnectionError, HTTPClientError)):
            return True
        if isinstance(error, ClientError):
            return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
        error = error.__cause__ or error.__context__
    return False


def unavailable_response(error: Exception) -> Response:
    logger.warning("a store could not be reached", extra={"error": type(error).__name__, "reason": str(error)})
    return Response(body={"Code": "ServiceUnavailableError",
                          "Message": "The service cannot reach its data store right now; try again in a moment."},
                    status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


def answers_refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.TallyError as refusal:
            return refusal_response(refusal)
        except Exception as error:
            if not unreachable(error):
                raise
            return unavailable_response(error)
    return mark(wrapper, tally_answers_refusals=True)


class Blueprint(chalice.Blueprint):
    """Chalice's Blueprint, whose every route answers domain refusals in the API's shape."""

    def route(self, path: str, **kwargs: Any) -> Callable[[View], View]:
        register = super().route(path, **kwargs)
        return lambda view: register(answers_refusals(view))
