"""Every request is checked against the pool: 401 for each way a token can be wrong, 403 for a voter
on operator routes. The tokens are Cognito's own (moto), or forged from them."""
import json
import time

import boto3
import pytest

from chalicelib import runtime
from devstack import cognito
from tally_client import signin
from tests.integration.helpers import body, call, create, resign

PROTECTED = [("GET", "/polls"), ("GET", "/polls/demo"), ("POST", "/polls"), ("POST", "/polls/demo/open"),
             ("POST", "/polls/demo/close"), ("POST", "/votes/red"), ("GET", "/votes/mine")]


def assert_401(response, words):
    assert response.status_code == 401, response.body
    assert body(response)["Code"] == "UnauthorizedError"
    assert words in body(response)["Message"]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_protected_route_needs_a_token(client, method, path):
    assert_401(call(client, method, path), "Sign in first")


@pytest.mark.parametrize("method, path", [("GET", "/health"), ("GET", "/config")])
def test_public_routes_need_none(client, method, path):
    assert call(client, method, path).status_code == 200


def test_the_moto_issued_id_token_is_accepted(client, stack):
    assert call(client, "GET", "/polls", stack.tokens("vera")["IdToken"]).status_code == 200


@pytest.mark.parametrize("header, words", [
    ("Basic dmVyYTpzZWNyZXQ=", "Bearer"),
    ("Bearer", "Bearer"),
    ("Bearer not-a-jwt", "well-formed"),
    ("Bearer a.b.c", "well-formed"),
])
def test_malformed_tokens(client, stack, header, words):
    assert_401(call(client, "GET", "/polls", header=header), words)


def test_forged_with_hs256(client, stack):
    forged = resign(stack.tokens("vera")["IdToken"], key="k" * 32, algorithm="HS256")
    assert_401(call(client, "GET", "/polls", forged), "RS256")


def test_forged_with_another_rsa_key_under_the_pools_kid(client, stack):
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = resign(stack.tokens("vera")["IdToken"], key=other, **{"cognito:groups": ["operators"]})
    assert_401(call(client, "POST", "/polls/demo/close", forged), "signature")


def test_a_token_with_a_key_the_pool_does_not_publish(client, stack):
    forged = resign(stack.tokens("vera")["IdToken"], kid="someone-elses")
    assert_401(call(client, "GET", "/polls", forged), "does not publish")


def test_expired(client, stack):
    now = int(time.time())
    expired = resign(stack.tokens("vera")["IdToken"], iat=now - 7200, exp=now - 60)
    assert_401(call(client, "GET", "/polls", expired), "expired")


def test_for_another_app_client(client, stack):
    other_client = stack.idp.create_user_pool_client(
        UserPoolId=stack.pool_id, ClientName="other-app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    password = signin.new_password()
    signin.create_user(stack.idp, stack.pool_id, "otto", password)
    token = signin.sign_in(stack.idp, stack.pool_id, other_client, "otto", password)["IdToken"]
    assert_401(call(client, "GET", "/polls", token), "another app client")


def test_from_another_pool(client, stack):
    # moto signs every pool's tokens with one key, so only the issuer check tells the pools apart.
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id, client_id = cognito.create_pool(idp, name="someone-else")
    password = signin.new_password()
    signin.create_user(idp, pool_id, "mallory", password, [cognito.OPERATORS_GROUP])
    token = signin.sign_in(idp, pool_id, client_id, "mallory", password)["IdToken"]
    token = resign(token, aud=stack.client_id)  # even with our client id as audience
    assert_401(call(client, "POST", "/polls/demo/close", token), "another user pool")


def test_an_access_token_where_an_id_token_is_needed(client, stack):
    assert_401(call(client, "GET", "/polls", stack.tokens("vera")["AccessToken"]), "ID token")
    # moto's access token lacks aud, which alone refuses it; one that has every ID token claim but says it is
    # an access token must be refused for that.
    posing = resign(stack.tokens("vera")["IdToken"], token_use="access")
    assert_401(call(client, "GET", "/polls", posing), "not an ID token")


def test_a_voter_is_forbidden_on_operator_routes(client, stack):
    token = stack.tokens("vera")["IdToken"]
    create = client.post("/polls", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                         body=json.dumps({"title": "Mine", "candidates": ["a", "b"]}))
    assert create.status_code == 403 and body(create)["Code"] == "ForbiddenError"
    assert stack.dynamodb.scan(TableName=stack.settings.polls_table)["Count"] == 0


def test_a_voter_cannot_make_themselves_an_operator(client, stack):
    forged = resign(stack.tokens("vera")["IdToken"], key="k" * 32, algorithm="HS256",
                    **{"cognito:groups": ["operators"]})
    assert_401(call(client, "POST", "/polls", forged), "RS256")


def test_the_local_pool_keeps_the_templates_sign_in_rules(stack):
    template = {name: cognito.RESOURCES[name]["Properties"] for name in ("UserPool", "UserPoolClient")}
    pool = stack.idp.describe_user_pool(UserPoolId=stack.pool_id)["UserPool"]
    assert pool["Policies"] == template["UserPool"]["Policies"]
    # The local stack resolves the template with SelfSignUp open: voters may create their own accounts.
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    web = stack.idp.describe_user_pool_client(UserPoolId=stack.pool_id, ClientId=stack.client_id)["UserPoolClient"]
    assert sorted(web["ExplicitAuthFlows"]) == sorted(template["UserPoolClient"]["ExplicitAuthFlows"])
    assert "ClientSecret" not in web  # a browser can keep no secret
    assert "ALLOW_USER_PASSWORD_AUTH" not in web["ExplicitAuthFlows"], "browsers use SRP: no password is sent"
    mfa = stack.idp.get_user_pool_mfa_config(UserPoolId=stack.pool_id)
    assert mfa["MfaConfiguration"] == "OPTIONAL" and mfa["SoftwareTokenMfaConfiguration"]["Enabled"]
    with pytest.raises(stack.idp.exceptions.InvalidPasswordException):
        signin.create_user(stack.idp, stack.pool_id, "weak", "short1A!")


def test_unreadable_signing_keys_are_a_503_not_the_callers_fault(client, stack, tmp_path, monkeypatch):
    token = stack.tokens("vera")["IdToken"]
    monkeypatch.setenv("TALLY_JWKS_URL", (tmp_path / "nowhere.json").as_uri())
    runtime.reset()
    response = call(client, "GET", "/polls", token)
    assert response.status_code == 503, response.body
    assert body(response)["Code"] == "ServiceUnavailableError" and response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("sub", ["", "x" * 129, "x" * 2048, 42, None])
def test_a_validly_signed_token_with_an_unusable_sub_is_a_401_never_a_500(client, stack, sub):
    create(client, stack)
    token = resign(stack.tokens("vera")["IdToken"], sub=sub)
    for method, path in (("POST", "/votes/red"), ("GET", "/votes/mine?poll_id=colours"), ("GET", "/polls")):
        response = call(client, method, path, token)
        assert response.status_code == 401, (method, path, response.body)
        assert body(response)["Code"] == "UnauthorizedError"
