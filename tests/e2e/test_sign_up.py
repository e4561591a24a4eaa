"""Voters' own accounts on the vote page, in Chromium against the whole local stack (self sign-up is open there):
create an account and vote, a forgotten password, an invited voter's first password, deleting one's account.

The local Cognito is moto: it sends no mail and accepts any code, so the page says that plainly and shows the code
to type; these tests read the code from the page, as a person would. What only AWS shows: that the mail arrives,
that a wrong code is refused, and that the SRP proof is checked.
"""
import time

import pytest
import requests
from botocore.exceptions import ClientError
from playwright.sync_api import expect

from devstack import cognito
from tests.e2e.conftest import wait_for
from tests.e2e.dashboard_browser import (
    CHOICE,
    PHONE,
    CognitoCalls,
    check_consoles,
    create_poll,
    id_token,
    open_page,
    results_total,
    site_of,
)

pytestmark = pytest.mark.e2e

GOOD_PASSWORD = "Voting-at-home-42"


def vote_page(browser, stack, poll_id):
    page, console = open_page(browser, PHONE, "vote page")
    cognito_calls = CognitoCalls(page, stack)
    console.expect("/votes/mine", "404")  # a new voter has no vote yet
    page.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    return page, console, cognito_calls


def code_the_page_shows(page) -> str:
    """The local step's note: no mail was sent, and the code to type."""
    note = page.locator("#account-step .local-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("no email was sent")
    return note.locator("code").inner_text()


def sign_up_confirmed(stack, email, password):
    stack.idp.sign_up(ClientId=stack.client_id, Username=email, Password=password,
                      UserAttributes=[{"Name": "email", "Value": email}])
    stack.idp.confirm_sign_up(ClientId=stack.client_id, Username=email, ConfirmationCode="000000")


def test_a_new_voter_creates_an_account_on_the_vote_page_and_votes(running_stack, browser, screenshots):
    stack = running_stack
    poll_id = "sign-up-e2e"
    create_poll(stack, poll_id, "Made an account to vote", ["yes", "no"])
    email = f"new.voter.{time.time_ns()}@example.org"
    page, console, calls = vote_page(browser, stack, poll_id)

    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Email", exact=True).fill(email.upper())  # stored in lower case, as the username
    # The page checks the pool's password rule before it sends anything, and says what is missing.
    page.get_by_label("Choose a password").fill("short1A")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#account-step .form-error")).to_have_text(
        "The password needs 12 or more characters (it has 7) and a symbol, such as ! ? - _ #.")
    assert calls.of("SignUp") == []
    expect(page.locator("#sign-up-rule")).to_contain_text("12 or more characters")
    page.get_by_label("Choose a password").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # The code: locally none was mailed, and the page says so rather than pretend; Cognito's resend is AWS's only.
    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    code = code_the_page_shows(page)
    expect(page.get_by_role("button", name="Send a new code")).to_be_hidden()
    page.screenshot(path=screenshots / "sign-up-code.png", full_page=True)
    page.get_by_label("Code from the email").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()

    # Signed in, straight to the poll of the address, and one tap votes.
    expect(page.locator("#who")).to_have_text(email)
    expect(page.locator("#poll-title")).to_have_text("Made an account to vote")
    page.locator(CHOICE.format("yes")).tap()
    expect(page.locator("#outcome")).to_have_text("Your vote for yes is in. Thank you!")
    page.screenshot(path=screenshots / "sign-up-voted.png", full_page=True)

    (sign_up,) = calls.of("SignUp")
    assert sign_up["Username"] == email and sign_up["UserAttributes"] == [{"Name": "email", "Value": email}]
    assert calls.of("ConfirmSignUp")[0]["ConfirmationCode"] == code
    # After the code, the sign-in is SRP: the password went to Cognito once, in SignUp (which needs it to make the
    # account), and in no other request, to Cognito or the API.
    (initiate,) = calls.of("InitiateAuth")
    assert initiate["AuthFlow"] == "USER_SRP_AUTH" and initiate["AuthParameters"]["USERNAME"] == email
    carrying = [line.split("\n", 1)[0] for line in calls.sent if GOOD_PASSWORD in line]
    assert len(carrying) == 1 and carrying[0].startswith(stack.info["moto_url"]), carrying
    user = stack.idp.admin_get_user(UserPoolId=stack.info["user_pool_id"], Username=email)
    assert {"Name": "email", "Value": email} in user["UserAttributes"] and user["UserStatus"] == "CONFIRMED"
    wait_for(lambda: results_total(stack, poll_id) == 1, 20, "the new voter's ballot counted")
    check_consoles(console)


def test_the_page_checks_passwords_as_the_pool_does(running_stack, browser):
    stack = running_stack
    page, _console = open_page(browser, PHONE, "vote page")
    page.goto(f"{site_of(stack)}vote.html")
    samples = ["Voting-at-home-42", "voting-at-home-42", "VOTING-AT-HOME-42", "Voting-at-home-xx", "Votingathome42",
               "Vote-42-a", "Two words 42A", "Exactly12ch!", "Exactly1ch!", " Leading-space-42"]
    verdicts = page.evaluate("""async (samples) => {
        const { passwordProblems } = await import("./js/password.js");
        return samples.map((p) => passwordProblems(p).length === 0);
    }""", samples)
    for n, (password, page_accepts) in enumerate(zip(samples, verdicts, strict=True)):
        try:
            stack.idp.sign_up(ClientId=stack.client_id, Username=f"rule-{time.time_ns()}-{n}@example.org",
                              Password=password)
            pool_accepts = True
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidPasswordException", error
            pool_accepts = False
        if password.startswith(" "):
            # moto counts a leading space as a symbol; Cognito refuses a space at either end, as the page does.
            assert not page_accepts
            continue
        assert page_accepts == pool_accepts, password
    assert any(verdicts) and not all(verdicts)


def test_a_voter_who_forgot_the_password_chooses_a_new_one_with_the_code(running_stack, browser, screenshots):
    stack = running_stack
    email = f"forgetful.{time.time_ns()}@example.org"
    sign_up_confirmed(stack, email, GOOD_PASSWORD)
    create_poll(stack, "forgot-e2e", "After a new password", ["yes", "no"])
    page, console, calls = vote_page(browser, stack, "forgot-e2e")
    page.get_by_label("Email or username").fill(email)
    page.get_by_role("button", name="Forgot password?").click()
    expect(page.get_by_label("Email", exact=True)).to_have_value(email)  # carried over from the sign-in form
    page.get_by_role("button", name="Email me a code").click()
    code = code_the_page_shows(page)
    page.get_by_label("Code from the email").fill(code)
    page.get_by_label("New password", exact=True).fill("New-password-2026")
    page.get_by_role("button", name="Save it and sign in").click()
    expect(page.locator("#who")).to_have_text(email)
    expect(page.locator("#poll-title")).to_have_text("After a new password")
    page.screenshot(path=screenshots / "forgot-password-signed-in.png", full_page=True)
    assert calls.of("ForgotPassword")[0]["Username"] == email
    # moto checks passwords in the tools' flow: the new one works, the old one no longer does.
    assert id_token(stack, {"username": email, "password": "New-password-2026"})
    with pytest.raises(ClientError, match="NotAuthorized"):
        id_token(stack, {"username": email, "password": GOOD_PASSWORD})
    check_consoles(console)


def test_an_invited_voter_chooses_a_password_at_first_sign_in_and_votes(running_stack, browser, screenshots):
    stack = running_stack
    email = f"invited.{time.time_ns()}@example.org"
    create_poll(stack, "invited-e2e", "Invited to vote", ["yes", "no"])
    # What an operator's invitation makes (roll polls): an account with a temporary password, mailed by Cognito.
    stack.idp.admin_create_user(UserPoolId=stack.info["user_pool_id"], Username=email, MessageAction="SUPPRESS",
                                TemporaryPassword="Temporary-pass-1",
                                UserAttributes=[{"Name": "email", "Value": email},
                                                {"Name": "email_verified", "Value": "true"}])
    page, console, calls = vote_page(browser, stack, "invited-e2e")
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password", exact=True).fill("Temporary-pass-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("no-good")
    page.get_by_role("button", name="Save it and sign in").click()
    expect(page.locator("#account-step .form-error")).to_contain_text("The password needs")
    page.get_by_label("New password", exact=True).fill("Mine-from-now-on-7")
    page.get_by_role("button", name="Save it and sign in").click()
    expect(page.locator("#who")).to_have_text(email)
    page.locator(CHOICE.format("no")).tap()
    expect(page.locator("#outcome")).to_have_text("Your vote for no is in. Thank you!")
    page.screenshot(path=screenshots / "invited-voted.png", full_page=True)
    (challenge,) = [c for c in calls.of("RespondToAuthChallenge") if c["ChallengeName"] == "NEW_PASSWORD_REQUIRED"]
    assert challenge["ChallengeResponses"]["NEW_PASSWORD"] == "Mine-from-now-on-7"
    assert stack.idp.admin_get_user(UserPoolId=stack.info["user_pool_id"], Username=email)["UserStatus"] == \
        "CONFIRMED"
    check_consoles(console)


def test_a_voter_deletes_their_account_and_their_vote_stays_counted(running_stack, browser, screenshots):
    stack = running_stack
    email = f"leaving.{time.time_ns()}@example.org"
    sign_up_confirmed(stack, email, GOOD_PASSWORD)
    create_poll(stack, "delete-e2e", "Before leaving", ["stay", "go"])
    page, console, _calls = vote_page(browser, stack, "delete-e2e")
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password", exact=True).fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator(CHOICE.format("go")).tap()
    expect(page.locator("#outcome")).to_have_text("Your vote for go is in. Thank you!")
    page.get_by_role("button", name="Your account").click()  # the account's own view, from the header
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Delete your account?")).to_be_visible()
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator("#sign-in-error")).to_contain_text("Your account is deleted")
    page.screenshot(path=screenshots / "account-deleted.png", full_page=True)
    with pytest.raises(ClientError, match="UserNotFound"):
        stack.idp.admin_get_user(UserPoolId=stack.info["user_pool_id"], Username=email)
    wait_for(lambda: results_total(stack, "delete-e2e") == 1, 20, "the deleted voter's ballot still counted")
    check_consoles(console)


def test_config_tells_the_page_that_voters_may_sign_up_here(running_stack):
    config = requests.get(f"{running_stack.api}/config", timeout=5).json()
    assert config["self_signup"] is True and config["cognito_endpoint"] == running_stack.info["moto_url"]


def test_the_local_pool_takes_sign_ups_as_the_template_sets_it_for_the_local_stack(running_stack):
    described = running_stack.idp.describe_user_pool(UserPoolId=running_stack.info["user_pool_id"])["UserPool"]
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert described["AutoVerifiedAttributes"] == ["email"]
    assert described["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Name": "verified_email", "Priority": 1}]
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == \
        cognito.RESOURCES["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"]
