"""Operator routes ask the user pool who is an operator now: a token's groups are an hour old at worst."""
import json

import pytest

from chalicelib import runtime
from devstack import cognito
from tests.integration.helpers import COLOURS, body, create

OPERATOR_ROUTES = [("POST", "/polls", json.dumps({**COLOURS, "poll_id": "another"})),
                   ("POST", "/polls/colours/open", ""), ("POST", "/polls/colours/close", "")]


def attempts(client, headers):
    return [client.request(method, path, headers=headers, body=payload) for method, path, payload in OPERATOR_ROUTES]


def test_an_operator_removed_from_the_group_gets_403_on_the_next_operator_request(client, stack):
    create(client, stack)
    headers = stack.operator()  # the token still says "operators" after the removal
    stack.idp.admin_remove_user_from_group(UserPoolId=stack.pool_id, Username="olga",
                                           GroupName=cognito.OPERATORS_GROUP)
    for reply in attempts(client, headers):
        assert reply.status_code == 403 and "membership has ended" in body(reply)["Message"]
    assert body(client.get("/polls/colours", headers=stack.voter()))["status"] == "open", "nothing was changed"


def test_a_disabled_operator_gets_403_at_once(client, stack):
    create(client, stack)
    headers = stack.operator()
    stack.idp.admin_disable_user(UserPoolId=stack.pool_id, Username="olga")
    assert all(reply.status_code == 403 for reply in attempts(client, headers))


def test_an_operator_given_back_the_group_may_act_again(client, stack):
    create(client, stack)
    headers = stack.operator()
    stack.idp.admin_remove_user_from_group(UserPoolId=stack.pool_id, Username="olga",
                                           GroupName=cognito.OPERATORS_GROUP)
    assert client.post("/polls/colours/close", headers=headers).status_code == 403
    stack.idp.admin_add_user_to_group(UserPoolId=stack.pool_id, Username="olga", GroupName=cognito.OPERATORS_GROUP)
    assert client.post("/polls/colours/close", headers=headers).status_code == 200


@pytest.fixture
def mfa_required(monkeypatch):
    monkeypatch.setenv("TALLY_OPERATOR_MFA", "required")
    runtime.reset()
    yield
    runtime.reset()


def test_where_the_stage_requires_mfa_an_operator_without_it_is_refused_and_with_it_is_let_in(client, stack,
                                                                                                mfa_required):
    headers = stack.operator()
    refused = client.post("/polls", headers=headers, body=json.dumps(COLOURS))
    assert refused.status_code == 403 and "authenticator app (TOTP MFA)" in body(refused)["Message"]
    access = stack.tokens("olga", [cognito.OPERATORS_GROUP])["AccessToken"]
    stack.idp.associate_software_token(AccessToken=access)
    stack.idp.verify_software_token(AccessToken=access, UserCode="123456")
    stack.idp.set_user_mfa_preference(AccessToken=access,
                                      SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert client.post("/polls", headers=headers, body=json.dumps(COLOURS)).status_code == 201
    assert client.post("/polls", headers=stack.voter(), body=json.dumps(COLOURS)).status_code == 403
