"""moto's port answers no web origin but the stack's own pages (issue 18, part 6).

The dashboard and the vote page sign in against moto's Cognito from the browser, so their origin must be let in
(CORS preflight and answers). Any other page open in the developer's browser must neither read nor change the
local data: no Access-Control-Allow-Origin for it, its preflight refused, and its "simple" requests, which a
browser sends without asking first, refused before moto runs them (moto's /moto-api/reset would wipe every
poll, ballot and voter). A Host header naming another site (DNS rebinding, where the page's own origin resolves
to 127.0.0.1) is refused too. Tools and the stack itself send no Origin and are served as before.
"""
import json
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e
FOREIGN = "https://pages.example.net"
SDK_HEADERS = "cache-control,content-type,x-amz-target,x-amz-user-agent"  # what amazon-cognito-identity-js sends


def page_origin(stack) -> str:
    parts = urlsplit(stack.info["dashboard_url"])
    return f"{parts.scheme}://{parts.netloc}"


def preflight(stack, origin: str) -> requests.Response:
    return requests.options(f"{stack.moto_url}/", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": SDK_HEADERS})


def cognito(stack, origin: str, action: str, body: dict) -> requests.Response:
    return requests.post(f"{stack.moto_url}/", data=json.dumps(body), timeout=10, headers={
        "Origin": origin, "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}"})


def sign_in_body(stack) -> dict:
    return {"ClientId": stack.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": stack.operator["username"], "PASSWORD": stack.operator["password"]}}


def test_the_stack_s_own_pages_may_call_moto_from_the_browser(running_stack):
    origin = page_origin(running_stack)
    asked = preflight(running_stack, origin)
    assert asked.status_code in (200, 204)
    assert asked.headers["Access-Control-Allow-Origin"] == origin
    allowed = {name.strip().lower() for name in asked.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-amz-target", "content-type"} <= allowed
    assert "POST" in asked.headers["Access-Control-Allow-Methods"]
    signed_in = cognito(running_stack, origin, "InitiateAuth", sign_in_body(running_stack))
    assert signed_in.status_code == 200 and signed_in.json()["AuthenticationResult"]["IdToken"]
    assert signed_in.headers["Access-Control-Allow-Origin"] == origin


def test_a_foreign_origin_gets_no_cors_and_changes_nothing(running_stack):
    asked = preflight(running_stack, FOREIGN)
    assert asked.status_code == 403 and "Access-Control-Allow-Origin" not in asked.headers

    read = cognito(running_stack, FOREIGN, "InitiateAuth", sign_in_body(running_stack))
    assert read.status_code == 403 and "Access-Control-Allow-Origin" not in read.headers
    assert "IdToken" not in read.text

    made = cognito(running_stack, FOREIGN, "SignUp", {"ClientId": running_stack.client_id, "Username": "intruder",
                                                     "Password": "Intrud3r!long-enough"})
    assert made.status_code == 403
    with pytest.raises(running_stack.idp.exceptions.UserNotFoundException):
        running_stack.idp.admin_get_user(UserPoolId=running_stack.user_pool_id, Username="intruder")

    # A form post needs no preflight: the browser sends it and only hides the answer. moto must not run it.
    wiped = requests.post(f"{running_stack.moto_url}/moto-api/reset", data="x", timeout=10,
                          headers={"Origin": FOREIGN, "Content-Type": "text/plain"})
    assert wiped.status_code == 403
    assert running_stack.client(running_stack.token("operator")).get("/polls/demo").status_code == 200


def test_a_host_that_is_not_moto_s_is_refused(running_stack):
    port = urlsplit(running_stack.moto_url).port
    rebound = requests.get(f"{running_stack.moto_url}/moto-api/data.json", timeout=10,
                           headers={"Host": f"pages.example.net:{port}"})
    assert rebound.status_code == 403 and "Access-Control-Allow-Origin" not in rebound.headers
    assert requests.get(f"{running_stack.moto_url}/moto-api/data.json", timeout=10).status_code == 200
