"""Headers every answer carries, whatever route or refusal produced it.

- `X-Content-Type-Options: nosniff` on every answer: a browser never guesses a type the API did not send.
- `Cache-Control: no-store` on every answer about a signed-in caller (a ballot, the polls as they apply to
  the caller, a refusal of their token), unless the route chose its own caching: results set `no-cache`, so
  that browsers keep them and revalidate with If-None-Match; the audience's public answers (a poll's public
  document, /config) are cacheable by anyone (api/caching.py).
"""
from chalice import Chalice

PUBLIC_PATHS = frozenset({"/health", "/config"})


def install(app: Chalice) -> None:
    @app.middleware("http")
    def security_headers(request, get_response):
        response = get_response(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.context.get("resourcePath") not in PUBLIC_PATHS:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
