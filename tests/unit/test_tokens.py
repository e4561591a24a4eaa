"""Token verification against a key set the test controls: every way a token can be untrustworthy."""
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.cognito_tokens import InvalidToken, JwksCache, KeysUnavailable, TokenVerifier

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "web-client"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


KEY, OTHER_KEY = new_key(), new_key()


def claims(**overrides):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "voter-1", "token_use": "id", "iat": now, "exp": now + 3600,
            "cognito:groups": ["operators"]}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload, key=KEY, kid="k1", alg="RS256"):
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


class KeyServer:
    """Counts fetches of a JWKS document the test can change."""

    def __init__(self, *jwks):
        self.document = {"keys": list(jwks)}
        self.fetches = 0

    def __call__(self, url):
        self.fetches += 1
        return self.document


@pytest.fixture
def server():
    return KeyServer(public_jwk(KEY, "k1"))


@pytest.fixture
def clock():
    return [100.0]


@pytest.fixture
def verifier(server, clock):
    return TokenVerifier(ISSUER, CLIENT, JwksCache("https://example/jwks", fetch=server, monotonic=lambda: clock[0]))


def test_a_good_id_token_gives_the_caller(verifier):
    caller = verifier.verify(sign(claims()))
    assert caller.sub == "voter-1" and caller.is_operator


def test_a_sub_of_128_characters_is_the_longest_taken(verifier):
    assert verifier.verify(sign(claims(sub="x" * 128))).sub == "x" * 128


def test_a_caller_without_groups_is_no_operator(verifier):
    assert not verifier.verify(sign(claims(**{"cognito:groups": None}))).is_operator


# Each token is made when its case runs, not when the module is collected: a suite can run for longer than a
# token's lifetime or the "not valid yet" margin.
@pytest.mark.parametrize("make, reason", [
    (lambda: "", "well-formed"),
    (lambda: "not.a.jwt", "well-formed"),
    (lambda: "abc", "well-formed"),
    (lambda: jwt.encode(claims(), "s" * 32, algorithm="HS256", headers={"kid": "k1"}), "RS256"),
    (lambda: sign(claims(), key=OTHER_KEY), "signature"),
    (lambda: sign(claims(exp=int(time.time()) - 10)), "expired"),
    (lambda: sign(claims(aud="another-client")), "another app client"),
    (lambda: sign(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other")), "another user pool"),
    (lambda: sign(claims(aud=None, client_id=CLIENT, token_use="access")), "aud claim"),
    (lambda: sign(claims(token_use="access")), "not an ID token"),
    (lambda: sign(claims(sub=None)), "sub claim"),
    (lambda: sign(claims(sub="")), "subject"),
    (lambda: sign(claims(sub="x" * 129)), "subject"),
    (lambda: sign(claims(sub="x" * 2048)), "subject"),
    (lambda: sign(claims(sub=12345)), "subject"),
    (lambda: sign(claims(sub=["voter-1"])), "subject"),
    (lambda: sign(claims(iat=int(time.time()) + 600)), "not valid yet"),
])
def test_untrustworthy_tokens_are_refused(verifier, make, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(make())


def test_alg_none_is_refused(verifier):
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(InvalidToken, match="RS256"):
        verifier.verify(token)


def test_keys_are_fetched_once_and_cached(verifier, server):
    for _ in range(5):
        verifier.verify(sign(claims()))
    assert server.fetches == 1


def test_an_unknown_kid_fetches_the_key_set_again_and_finds_a_rotated_key(verifier, server, clock):
    verifier.verify(sign(claims()))
    server.document["keys"].append(public_jwk(OTHER_KEY, "k2"))
    clock[0] += 60
    assert verifier.verify(sign(claims(), key=OTHER_KEY, kid="k2")).sub == "voter-1"
    assert server.fetches == 2


def test_made_up_kids_cannot_make_us_fetch_on_every_request(verifier, server, clock):
    verifier.verify(sign(claims()))
    for i in range(20):
        with pytest.raises(InvalidToken, match="does not publish"):
            verifier.verify(sign(claims(), key=OTHER_KEY, kid=f"made-up-{i}"))
    assert server.fetches == 1
    clock[0] += 31
    with pytest.raises(InvalidToken):
        verifier.verify(sign(claims(), key=OTHER_KEY, kid="made-up-again"))
    assert server.fetches == 2


def test_an_unreachable_key_set_trusts_nothing_and_is_tried_again_soon(server, clock):
    up = [False]

    def flaky(url):
        if not up[0]:
            raise OSError("connection refused")
        return server(url)
    verifier = TokenVerifier(ISSUER, CLIENT, JwksCache("https://example/jwks", fetch=flaky, monotonic=lambda: clock[0]))
    # Not the caller's fault, so not a 401 that would send them to sign in again: the API answers 503.
    with pytest.raises(KeysUnavailable, match="could not be loaded"):
        verifier.verify(sign(claims()))
    up[0] = True
    with pytest.raises(KeysUnavailable):  # within the retry pause: no fetch
        verifier.verify(sign(claims()))
    assert server.fetches == 0
    clock[0] += 1
    assert verifier.verify(sign(claims())).sub == "voter-1"
    assert server.fetches == 1


def test_a_clock_a_few_seconds_behind_the_issuer_is_tolerated(verifier):
    assert verifier.verify(sign(claims(iat=int(time.time()) + 3))).sub == "voter-1"


# Signed with a trusted key, with claims Cognito never issues: the signature says who wrote a token, not that
# each claim has the shape the code after it relies on (PyJWT itself takes exp "99999999999" as a number, and an
# aud list that holds our client id).
@pytest.mark.parametrize("make, reason", [
    (lambda: sign(claims(sub="\ud800")), "visible ASCII"),
    (lambda: sign(claims(sub="voter\x00-1")), "visible ASCII"),
    (lambda: sign(claims(sub="voter-1\n")), "visible ASCII"),
    (lambda: sign(claims(sub="\u202evoter")), "visible ASCII"),
    (lambda: sign(claims(sub="voter 1")), "visible ASCII"),
    (lambda: sign(claims(exp=str(int(time.time()) + 3600))), "exp claim"),
    (lambda: sign(claims(exp="99999999999")), "exp claim"),
    (lambda: sign(claims(exp=float(int(time.time()) + 3600))), "exp claim"),
    (lambda: sign(claims(iat=str(int(time.time())))), "iat claim"),
    (lambda: sign(claims(auth_time="yesterday")), "auth_time claim"),
    (lambda: sign(claims(aud=[CLIENT])), "audience"),
    (lambda: sign(claims(aud=[CLIENT, "another-client"])), "audience"),
    (lambda: sign(claims(**{"cognito:username": "vera\x07"})), "cognito:username"),
    (lambda: sign(claims(**{"cognito:username": "\udfff"})), "cognito:username"),
    (lambda: sign(claims(**{"cognito:username": 42})), "cognito:username"),
    (lambda: sign(claims(**{"cognito:groups": "operators"})), "cognito:groups"),
    (lambda: sign(claims(**{"cognito:groups": {"operators": True}})), "cognito:groups"),
    (lambda: sign(claims(**{"cognito:groups": ["operators", 7]})), "cognito:groups"),
])
def test_claims_cognito_never_issues_are_refused(verifier, make, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(make())


def test_a_token_over_8_kib_is_refused_before_it_is_parsed(verifier, server):
    with pytest.raises(InvalidToken, match="over 8 KiB"):
        verifier.verify(sign(claims(padding="x" * 8 * 1024)))
    assert server.fetches == 0  # not even its key was looked up
    assert verifier.verify(sign(claims(padding="x" * 4000))).sub == "voter-1"


def test_cognito_shaped_claims_still_pass(verifier):
    caller = verifier.verify(sign(claims(sub="0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", auth_time=int(time.time()),
                                         **{"cognito:username": "zoë@example.org", "cognito:groups": []})))
    assert caller.username == "zoë@example.org" and not caller.is_operator
