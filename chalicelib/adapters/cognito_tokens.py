"""Verify Cognito ID tokens ourselves: RS256 signature against the pool's JWKS, issuer, audience, expiry, use.

API Gateway's Cognito authorizer does not run under `chalice local`, so the same checks run in the function
on every request, wherever it is served.

PyJWT is imported on first use, not with the module: with `cryptography` it is ~36 ms of import, which the
stream consumer (the same package, never verifying a token) and the public routes should not pay at cold start.
"""
import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Optional

ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "token_use"]


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, without echoing the token."""


class KeysUnavailable(Exception):
    """The pool's signing keys cannot be had right now, so no token can be judged: the caller is not at fault."""


MAX_SUB = 128  # Cognito's subs are 36-character UUIDs; a key part of DynamoDB takes at most 1,024 bytes


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: FrozenSet[str]
    username: Optional[str] = None

    @property
    def is_operator(self) -> bool:
        return "operators" in self.groups


def fetch_json(url: str, timeout: float = 3.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return json.load(reply)


class JwksCache:
    """The pool's signing keys, fetched once and fetched again only for an unknown key id.

    Refetches are spaced at least `min_refetch_seconds` apart, so a stream of tokens with made-up key ids
    cannot turn into a stream of requests to the JWKS endpoint. A fetch that fails is tried again after
    `retry_seconds` only: until it succeeds no token can be judged, and every request waits on it.
    """

    def __init__(self, url: str, fetch: Callable[[str], dict] = fetch_json, min_refetch_seconds: float = 30.0,
                 retry_seconds: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        self._url = url
        self._fetch = fetch
        self._min_refetch = min_refetch_seconds
        self._retry = retry_seconds
        self._monotonic = monotonic
        self._keys: Dict[str, object] = {}  # kid -> jwt.PyJWK
        self._next_fetch_at = None  # monotonic; None: never fetched
        self._failure: Optional[Exception] = None  # why the last fetch failed, if it did
        self._lock = threading.Lock()

    def key(self, kid: str):
        key = self._keys.get(kid)
        if key is None:
            with self._lock:
                key = self._keys.get(kid)
                if key is None and (self._next_fetch_at is None or self._monotonic() >= self._next_fetch_at):
                    self._refresh()
                    key = self._keys.get(kid)
        if key is None and self._failure is not None:
            raise KeysUnavailable("The user pool's signing keys could not be loaded; try again in a moment.") \
                from self._failure
        if key is None:
            raise InvalidToken("The token was signed with a key this user pool does not publish.")
        return key

    def _refresh(self) -> None:
        import jwt

        try:
            document = self._fetch(self._url)
            keys = {k["kid"]: jwt.PyJWK(k) for k in document.get("keys", []) if k.get("kid")}
        except Exception as error:
            # Could not reach or read the key set: keep what was known, and trust nothing new until it can be read.
            self._failure = error
            self._next_fetch_at = self._monotonic() + self._retry
            return
        self._failure = None
        self._next_fetch_at = self._monotonic() + self._min_refetch
        self._keys = keys


class TokenVerifier:
    # A few seconds for clocks that disagree: a token Cognito has just issued may carry an iat a moment ahead.
    def __init__(self, issuer: str, client_id: str, keys: JwksCache, leeway_seconds: int = 5):
        self._issuer = issuer
        self._client_id = client_id
        self._keys = keys
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Caller:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("The token is not a well-formed JWT.") from None
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("The token is not signed with RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("The token names no signing key.")
        try:
            claims = jwt.decode(
                token,
                self._keys.key(kid),
                algorithms=ALGORITHMS,
                audience=self._client_id,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired; sign in again.") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("The token is not valid yet (issued in the future); check the device's clock.") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("The token was issued to another app client.") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("The token was issued by another user pool.") from None
        except jwt.exceptions.InvalidSubjectError:
            raise InvalidToken(f"The token's subject (sub) must be 1 to {MAX_SUB} characters of text.") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"The token lacks the {error.claim} claim; an ID token is needed.") from None
        except jwt.PyJWTError:
            raise InvalidToken("The token's signature does not verify.") from None
        if claims["token_use"] != "id":
            raise InvalidToken("This is not an ID token; send the ID token from sign-in.")
        sub = claims["sub"]
        if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUB:
            raise InvalidToken(f"The token's subject (sub) must be 1 to {MAX_SUB} characters of text.")
        username = claims.get("cognito:username")
        groups = claims.get("cognito:groups") or []
        return Caller(sub=sub, groups=frozenset(g for g in groups if isinstance(g, str)),
                      username=username if isinstance(username, str) and 0 < len(username) <= MAX_SUB else None)
