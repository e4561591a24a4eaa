"""Verify Cognito ID tokens ourselves: RS256 signature against the pool's JWKS, issuer, audience, expiry, use.

API Gateway's Cognito authorizer does not run under `chalice local`, so the same checks run in the function
on every request, wherever it is served.

PyJWT is imported on first use, not with the module: with `cryptography` it is ~36 ms of import, which the
stream consumer (the same package, never verifying a token) and the public routes should not pay at cold start.
"""
import json
import re
import threading
import time
import unicodedata
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, Optional

from ..domain.limits import OPERATORS_GROUP

if TYPE_CHECKING:  # imported on first use (above)
    import jwt

ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "token_use"]


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, without echoing the token."""


class KeysUnavailable(Exception):
    """The pool's signing keys cannot be had right now, so no token can be judged: the caller is not at fault."""


MAX_SUB = 128  # Cognito's subs are 36-character UUIDs; a key part of DynamoDB takes at most 1,024 bytes
# Visible ASCII only: a lone surrogate cannot be encoded (the keyed pseudonym hashes the sub's UTF-8), and a
# control character has no business in an id that reaches logs by its pseudonym and the roll by its value.
SUB = re.compile(rf"[\x21-\x7e]{{1,{MAX_SUB}}}")
# An ID token is 1 to 2 KiB (a few KiB with many groups). One this long is refused before it is parsed; API
# Gateway refuses the request first on AWS, where request line and headers together take at most 10,240 bytes.
MAX_TOKEN_CHARS = 8 * 1024


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: FrozenSet[str]
    username: Optional[str] = None

    @property
    def is_operator(self) -> bool:
        return OPERATORS_GROUP in self.groups


def fetch_json(url: str, timeout: float = 3.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        document: dict = json.load(reply)
    return document


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
        self._keys: Dict[str, "jwt.PyJWK"] = {}
        self._next_fetch_at: Optional[float] = None  # monotonic; None: never fetched
        self._failure: Optional[Exception] = None  # why the last fetch failed, if it did
        self._lock = threading.Lock()

    def key(self, kid: str) -> "jwt.PyJWK":
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

        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken(f"The token is over {MAX_TOKEN_CHARS // 1024} KiB; an ID token from sign-in is a "
                               "few KiB.")
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
        except jwt.InvalidIssuedAtError:
            raise InvalidToken("The token's iat claim must be a whole number of seconds.") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"The token lacks the {error.claim} claim; an ID token is needed.") from None
        except jwt.PyJWTError:
            raise InvalidToken("The token's signature does not verify.") from None
        return _caller(claims)


def _caller(claims: dict) -> Caller:
    """The caller the verified claims name, if every claim has the shape Cognito gives it. The signature says
    only who wrote the token; each claim is still read as untrusted input, never as whatever a parser made of it
    (PyJWT takes exp "99999999999" as a number and an aud list that holds our client id)."""
    if claims["token_use"] != "id":
        raise InvalidToken("This is not an ID token; send the ID token from sign-in.")
    for name in ("exp", "iat", "auth_time", "nbf"):
        if name in claims and type(claims[name]) is not int:
            raise InvalidToken(f"The token's {name} claim must be a whole number of seconds.")
    if not isinstance(claims["aud"], str):
        raise InvalidToken("The token's audience (aud) must be one app client's id.")
    sub = claims["sub"]
    if not isinstance(sub, str) or not SUB.fullmatch(sub):
        raise InvalidToken(f"The token's subject (sub) must be 1 to {MAX_SUB} visible ASCII characters.")
    username = claims.get("cognito:username")
    if username is not None and not _is_username(username):
        raise InvalidToken("The token's cognito:username is not a username.")
    groups = claims.get("cognito:groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InvalidToken("The token's cognito:groups must be a list of group names.")
    return Caller(sub=sub, groups=frozenset(groups), username=username)


def _is_username(value: object) -> bool:
    # Cognito's usernames are letters, marks, symbols, numbers and punctuation ([\p{L}\p{M}\p{S}\p{N}\p{P}]+):
    # no spaces, no control or format characters, no lone surrogates.
    return isinstance(value, str) and 0 < len(value) <= MAX_SUB and all(
        unicodedata.category(c)[0] in "LMSNP" for c in value)
