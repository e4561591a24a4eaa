"""Headers every answer carries, whatever route or refusal produced it.

- `X-Content-Type-Options: nosniff` on every answer: a browser never guesses a type the API did not send.
- `Cache-Control: no-store` on every answer about a signed-in caller (a ballot, the polls as they apply to
  the caller, a refusal of their token) and on every refusal, unless the route chose its own caching: results
  set `no-cache`, so that browsers keep them and revalidate with If-None-Match; the public routes (`@public`,
  api/auth.py) say how their answers are cached: the audience's (a poll's public document, /config) by anyone
  (api/caching.py); /health says nothing.
"""
from typing import Callable

from chalice import Chalice, Response
from chalice.app import Request

from .auth import is_public, route_of


def install(app: Chalice) -> None:
    @app.middleware("http")
    def security_headers(request: Request, get_response: Callable[[Request], Response]) -> Response:
        response = get_response(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # A public route's answers are the same for every caller: it says itself how they may be cached. Its
        # refusals, like every other answer, are never stored unless their route chose otherwise.
        if not is_public(route_of(app, request)) or response.status_code >= 400:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
