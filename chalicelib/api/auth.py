"""Every route needs a verified Cognito ID token unless its view is marked @public.

This is middleware rather than an API Gateway authorizer so that it runs, with the same checks and the same
error shape, under `chalice local`, `chalice.test.Client` and Lambda alike. Bodies over 16 KiB (a roll change's
routes: 800 KiB) are refused here too, before anything parses them.
"""
from typing import Callable, Dict, Optional

from chalice import Chalice, Response
from chalice.app import Request, RouteEntry

from .. import runtime
from ..adapters.cognito_tokens import InvalidToken, KeysUnavailable
from ..observability import logger
from .errors import unavailable_response, unreachable
from .marks import View, mark
from .requests import MAX_BODY_BYTES, kib

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


def public(view: View) -> View:
    """Mark a view as open to callers without a token."""
    return mark(view, tally_public=True)


def route_of(app: Chalice, request: Request) -> Optional[RouteEntry]:
    """The route a request is for; None for a path or a method the app has no route for (Chalice refuses it)."""
    path = request.context.get("resourcePath")
    return app.routes.get(path, {}).get(request.method) if path else None


def is_public(route: Optional[RouteEntry]) -> bool:
    return getattr(getattr(route, "view_function", None), "tally_public", False)


def secret_ballot(view: View) -> View:
    """Mark a view whose path or answer names a ballot (POST /votes/{candidate}, GET /votes/mine): its log lines
    carry no voter handle. Every line of a request shares the request's correlation and trace ids, which the
    access log and the trace join to the path and the answer: a handle on any line would put it beside the
    candidate (docs/security.md)."""
    return mark(view, tally_secret_ballot=True)


def _refusal(status: int, code: str, message: str, extra_headers: Optional[Dict[str, str]] = None) -> Response:
    return Response(
        body={"Code": code, "Message": message},
        status_code=status,
        headers={**CORS_HEADERS, **(extra_headers or {})},
    )


def _unauthorized(message: str) -> Response:
    return _refusal(401, "UnauthorizedError", message, {"WWW-Authenticate": 'Bearer realm="tally"'})


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken('Send the ID token as "Authorization: Bearer <token>".')
    return token.strip()


def install(app: Chalice) -> None:
    @app.middleware("http")
    def authenticate(request: Request, get_response: Callable[[Request], Response]) -> Response:
        route = route_of(app, request)
        body = request.raw_body
        limit = getattr(getattr(route, "view_function", None), "tally_max_body_bytes", MAX_BODY_BYTES)
        if body and len(body) > limit:
            return _refusal(413, "PayloadTooLargeError", f"The body is {len(body)} bytes; the limit is {kib(limit)}.")
        if route is None or is_public(route):
            return get_response(request)
        header = request.headers.get("authorization")
        if not header:
            return _unauthorized("Sign in first: this route needs an Authorization: Bearer <ID token> header.")
        try:
            who = runtime.get().tokens.verify(_bearer(header))
        except InvalidToken as error:
            logger.info("token refused", extra={"reason": str(error)})
            return _unauthorized(str(error))
        except KeysUnavailable as error:
            logger.error("signing keys unavailable", extra={"reason": repr(error.__cause__)})
            return _refusal(503, "ServiceUnavailableError", str(error), {"Retry-After": "1"})
        request.context["tally_caller"] = who
        if not getattr(route.view_function, "tally_secret_ballot", False):
            try:  # the voters' key is read on an instance's first signed-in request
                logger.append_keys(voter=runtime.get().voter_keys.log_ref(who.sub))
            except Exception as error:
                if not unreachable(error):
                    raise
                refusal = unavailable_response(error)
                refusal.headers.update(CORS_HEADERS)
                return refusal
        return get_response(request)
