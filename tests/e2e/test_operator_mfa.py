"""An operator's authenticator app (TOTP MFA) on the dashboard, in a real browser against a whole local stack whose
API requires it (TALLY_OPERATOR_MFA=required, the default of AWS stages): refused, led to the set-up, set up, then
asked for the code at the next sign-in.

moto checks the codes (MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP, set by the stack), but against one fixed secret for
every user: the test reads the secret the page shows and computes the codes from it (RFC 6238), as an
authenticator app would. Only AWS gives each user a secret of their own, and refuses a code used twice.
"""
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import start_stack
from tests.e2e.dashboard_browser import (
    OPERATOR_SCREEN,
    CognitoCalls,
    check_consoles,
    current_totp,
    id_token,
    new_operator,
    open_page,
    sign_in,
    site_of,
    totp,
)

pytestmark = pytest.mark.e2e

MFA_REFUSAL = "Operators must use an authenticator app (TOTP MFA) on this stage"


@pytest.fixture(scope="module")
def mfa_stack(tmp_path_factory):
    with start_stack(tmp_path_factory, TALLY_OPERATOR_MFA="required") as stack:
        yield stack


def create_through_the_form(dash, title: str, poll_id: str) -> None:
    dash.get_by_label("Title", exact=True).fill(title)
    dash.get_by_label("Candidates").fill("Yes\nNo")
    details = dash.locator("details.more")
    if not details.evaluate("(node) => node.open"):
        dash.get_by_text("Id, schedule, results visibility and expected load").click()
    dash.get_by_label("Poll id").fill(poll_id)
    dash.get_by_role("button", name="Create poll").click()


def test_an_operator_is_led_to_set_up_an_authenticator_app_then_signs_in_with_its_code(mfa_stack, browser,
                                                                                      screenshots):
    stack = mfa_stack
    operator = new_operator(stack, "op-mfa")
    dash, console = open_page(browser, OPERATOR_SCREEN, "dashboard")
    cognito = CognitoCalls(dash, stack)
    dash.goto(site_of(stack))
    sign_in(dash, operator)
    expect(dash.locator("#who")).to_have_text(operator["username"])
    expect(dash.locator("#mfa-status")).to_contain_text("no second factor yet")

    # --- Without an authenticator app this stage refuses to create a poll, and the page leads to the set-up. ---
    console.expect("/polls", "403")
    create_through_the_form(dash, "Needs MFA (e2e)", "mfa-e2e")
    expect(dash.locator("#create-error")).to_contain_text(MFA_REFUSAL)
    expect(dash.locator("#mfa-status")).to_contain_text(MFA_REFUSAL)
    expect(dash.locator("#mfa-start")).to_be_focused()
    dash.screenshot(path=screenshots / "mfa-refused.png")

    # --- The set-up: the secret as text and as an otpauth:// URI; the app's code turns it on. ---------------------
    dash.get_by_role("button", name="Set up an authenticator app").click()
    expect(dash.locator("#mfa-secret")).to_have_text(re.compile(r"^[A-Za-z2-7]+=*$"))
    expect(dash.get_by_label("The 6-digit code the app now shows")).to_be_focused()
    secret = dash.locator("#mfa-secret").inner_text()
    uri = dash.locator("#mfa-uri").inner_text()
    assert uri == (f"otpauth://totp/Tally:{operator['username']}?secret={secret}&issuer=Tally"
                   "&algorithm=SHA1&digits=6&period=30")
    assert dash.locator("#mfa-link").get_attribute("href") == uri
    dash.screenshot(path=screenshots / "mfa-set-up.png")
    # A wrong code is refused by Cognito, and said.
    wrong = f"{(int(totp(secret)) + 1) % 1_000_000:06d}"
    dash.get_by_label("The 6-digit code the app now shows").fill(wrong)
    dash.get_by_role("button", name="Verify and turn on").click()
    expect(dash.locator("#mfa-error")).to_have_text(
        "That code is not the one the authenticator app shows now. Enter the current code.")
    dash.get_by_label("The 6-digit code the app now shows").fill(current_totp(secret))
    dash.get_by_role("button", name="Verify and turn on").click()
    expect(dash.locator("#mfa-status")).to_contain_text("The authenticator app is on")
    assert cognito.of("SetUserMFAPreference")[-1]["SoftwareTokenMfaSettings"] == {"PreferredMfa": True,
                                                                                  "Enabled": True}
    user = stack.idp.admin_get_user(UserPoolId=stack.info["user_pool_id"], Username=operator["username"])
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    # --- Now the same request goes through: the API asks the pool at each operator request. -----------------
    dash.get_by_role("button", name="Create poll").click()
    expect(dash.locator("#notice")).to_contain_text("Created “Needs MFA (e2e)” (id mfa-e2e)")
    expect(dash.locator("#results-title")).to_have_text("Needs MFA (e2e)")

    # --- Sign out, and in again: Cognito asks for the app's code (SOFTWARE_TOKEN_MFA), the page asks for it. ---
    dash.get_by_role("button", name="Sign out").click()
    expect(dash.locator("#sign-in-error")).to_have_text("You have signed out.")
    expect(dash.locator("#mfa-panel")).to_be_hidden()
    sign_in(dash, operator)
    expect(dash.get_by_label("Authenticator code")).to_be_focused()
    expect(dash.locator("#session")).to_be_hidden()
    dash.screenshot(path=screenshots / "mfa-challenge.png")
    console.expect(stack.info["moto_url"], "400")  # the wrong code, refused by Cognito
    dash.get_by_label("Authenticator code").fill(wrong if wrong != totp(secret) else "000000")
    dash.get_by_role("button", name="Verify code").click()
    expect(dash.locator("#totp-error")).to_have_text(
        "That code is not the one the authenticator app shows now. Enter the current code.")
    dash.get_by_label("Authenticator code").fill(current_totp(secret))
    dash.get_by_role("button", name="Verify code").click()
    expect(dash.locator("#who")).to_have_text(operator["username"])
    expect(dash.locator("#connection")).to_contain_text("Live")
    expect(dash.locator("#mfa-panel")).to_be_hidden()
    answers = [b for b in cognito.of("RespondToAuthChallenge") if b["ChallengeName"] == "SOFTWARE_TOKEN_MFA"]
    assert len(answers) == 2 and all(set(a["ChallengeResponses"]) >= {"USERNAME", "SOFTWARE_TOKEN_MFA_CODE"}
                                     for a in answers)
    cognito.assert_never_sent(operator["password"])

    # And the operator, signed in with the second factor, opens and closes polls as before.
    create_through_the_form(dash, "After MFA (e2e)", "after-mfa-e2e")
    expect(dash.locator("#notice")).to_contain_text("Created “After MFA (e2e)” (id after-mfa-e2e)")
    dash.screenshot(path=screenshots / "mfa-signed-in.png")
    check_consoles(console)


def test_the_api_refuses_an_operator_without_mfa_on_this_stage(mfa_stack):
    # The stack's own operator has no authenticator app: the API refuses operator routes, and reads stay open.
    stack = mfa_stack
    headers = {"Authorization": f"Bearer {id_token(stack, stack.info['operator'])}"}
    refused = requests.post(f"{stack.api}/polls", json={"title": "x", "candidates": ["a", "b"]}, headers=headers,
                            timeout=10)
    assert refused.status_code == 403 and MFA_REFUSAL in refused.json()["Message"]
    assert requests.get(f"{stack.api}/polls", headers=headers, timeout=10).status_code == 200
