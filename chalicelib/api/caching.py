"""How answers may be cached, and the one way an answer is tagged and revalidated (ETag, If-None-Match: 304).

The audience's answers (the public poll document, /config) are the same for every caller, so shared caches
(CloudFront, with nginx standing in for it in bench/audience.py) keep them: `s-maxage` for them, `max-age` for
browsers, `stale-while-revalidate` so that a cache answers at once while it fetches the next copy, and
`stale-if-error` so that a failing origin shows the last document rather than an error to every viewer.
"""
import hashlib
import json

from chalice import Response
from chalice.app import HeadersType, Request

# An open poll's document changes with every vote counted: about one origin request per second per poll,
# whatever the audience, and viewers at most about a second behind.
LIVE = "public, max-age=1, s-maxage=1, stale-while-revalidate=5, stale-if-error=60"
# A final document (domain/audience.py is_final) no longer changes; only a repair of the counts could.
FINAL = "public, max-age=300, s-maxage=300, stale-while-revalidate=86400, stale-if-error=86400"
# The client's settings change with a deploy only (whose publish invalidates the distribution).
CONFIG = "public, max-age=60, s-maxage=300, stale-while-revalidate=600, stale-if-error=86400"
# An unknown or malformed poll id: briefly, so that a flood of made-up ids reaches the function once per id per
# few seconds, and a poll created a moment ago is found soon after.
MISSING = "public, max-age=5, s-maxage=5"


def tag_of(basis: object) -> str:
    return '"' + hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:20] + '"'


def matches(request: Request, tag: str) -> bool:
    # If-None-Match compares weakly (RFC 9110 13.1.2), and "*" matches any representation there is.
    sent = {t.strip().removeprefix("W/") for t in (request.headers.get("if-none-match") or "").split(",")}
    return tag in sent or "*" in sent


def conditional(request: Request, body: object, tag: str, cache_control: str) -> Response:
    """200 with the body, or 304 without it when the caller holds `tag`; either way the tag and how to cache."""
    headers: HeadersType = {"ETag": tag, "Cache-Control": cache_control}
    if matches(request, tag):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=200, headers=headers)
