"""Sign-in in a real browser (Playwright driving Debian's Chromium) against the whole local stack: both pages sign
in with SRP through amazon-cognito-identity-js and never send the password; the pages come with a
Content-Security-Policy header that limits them to the API and Cognito and forbids framing.

What moto does not check (so what only AWS proves): moto never verifies the SRP proof (PASSWORD_CLAIM_SIGNATURE),
so here a wrong password would sign in as well; the tests prove the browser's side of the protocol, that the
password stays on the page. Refusals of a wrong password are Cognito's (AWS) to make.
"""
import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.dashboard_browser import (
    CHOICE,
    OPERATOR_SCREEN,
    PHONE,
    CognitoCalls,
    check_consoles,
    create_poll,
    new_voter,
    open_page,
    sign_in,
    site_of,
)

pytestmark = pytest.mark.e2e


def csp(reply) -> dict:
    policy = reply.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_the_dashboard_signs_in_with_srp_and_never_sends_the_password(running_stack, browser, screenshots):
    stack = running_stack
    dash, console = open_page(browser, OPERATOR_SCREEN, "dashboard")
    cognito = CognitoCalls(dash, stack)
    dash.goto(site_of(stack))
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#who")).to_have_text("operator")
    expect(dash.locator("#connection")).to_contain_text("Live")
    cognito.assert_srp_sign_in(stack.info["operator"])
    assert cognito.actions()[:2] == ["InitiateAuth", "RespondToAuthChallenge"]
    # The operator has no authenticator app yet: the page asks Cognito, and offers to set one up.
    assert "GetUser" in cognito.actions()
    expect(dash.locator("#mfa-panel")).to_be_visible()
    expect(dash.locator("#mfa-status")).to_contain_text("no second factor yet")
    # The tokens are in this tab's sessionStorage, under the page's own key, and nowhere else.
    keys = dash.evaluate("() => Object.keys(sessionStorage)")
    assert keys and all(key.startswith("tally.dashboard.session.") for key in keys if "presenting" not in key), keys
    assert dash.evaluate("() => localStorage.length") == 0
    dash.screenshot(path=screenshots / "dashboard-srp-signed-in.png")
    check_consoles(console)


def test_the_vote_page_signs_in_with_srp_and_never_sends_the_password(running_stack, browser, screenshots):
    stack = running_stack
    poll_id = "srp-e2e"
    create_poll(stack, poll_id, "Signed in with SRP", ["yes", "no"])
    voter = new_voter(stack, "srp-voter")
    phone, console = open_page(browser, PHONE, "vote page")
    console.expect("/votes/mine", "404")  # no earlier vote
    cognito = CognitoCalls(phone, stack)
    phone.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    sign_in(phone, voter)
    expect(phone.locator("#who")).to_have_text(voter["username"])
    phone.locator(CHOICE.format("yes")).tap()
    expect(phone.locator("#outcome")).to_have_text("Your vote for yes is in. Thank you!")
    cognito.assert_srp_sign_in(voter)
    phone.screenshot(path=screenshots / "vote-page-srp.png", full_page=True)

    # A reload keeps the session (sessionStorage); signing out ends it at Cognito too.
    phone.reload()
    expect(phone.locator("#outcome")).to_contain_text("You voted for yes at")
    with phone.expect_response(lambda r: r.url.startswith(stack.info["moto_url"])
                               and "GlobalSignOut" in (r.request.headers.get("x-amz-target") or "")) as signed_out:
        phone.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 200
    expect(phone.locator("#sign-in-error")).to_have_text("You have signed out.")
    assert phone.evaluate("() => sessionStorage.length") == 0
    cognito.assert_never_sent(voter["password"])
    check_consoles(console)


def test_the_static_server_sends_a_content_security_policy_that_names_the_api_and_cognito(running_stack):
    stack = running_stack
    site = site_of(stack)
    for path in ["", "index.html", "vote.html", "js/auth.js", "config.json", "no-such-page"]:
        reply = requests.get(site + path, timeout=5)
        policy = csp(reply)
        assert policy["connect-src"] == ["'self'", stack.api, stack.info["moto_url"]], path
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"], path
        assert policy["default-src"] == policy["script-src"] == policy["style-src"] == ["'self'"], path
        assert policy["base-uri"] == ["'none'"], path
        assert reply.headers["X-Frame-Options"] == "DENY", path
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.headers["Referrer-Policy"] == "no-referrer", path


def test_no_other_site_can_frame_the_pages(running_stack, browser, screenshots):
    site = site_of(running_stack)
    page, _console = open_page(browser, PHONE, "a site that frames the pages")
    framer = "http://framer.example/"
    control = f"{site}vote.html?control"
    page.route(framer, lambda route: route.fulfill(content_type="text/html", body=(
        "<!doctype html><title>Framer</title>"
        f'<iframe src="{site}vote.html" width="300" height="500"></iframe>'
        f'<iframe src="{site}" width="300" height="500"></iframe>'
        f'<iframe src="{control}" width="300" height="500"></iframe>')))

    def without_framing_headers(route):
        # The control: the same page with its answer's CSP and X-Frame-Options taken off does show in a frame.
        answer = route.fetch()
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() not in ("content-security-policy", "x-frame-options")}
        route.fulfill(response=answer, headers=headers)

    page.route(control, without_framing_headers)
    page.goto(framer)
    page.wait_for_function("() => document.querySelectorAll('iframe').length === 3")
    expect(page.frame_locator(f'iframe[src="{control}"]').locator("#sign-in-panel")).to_be_attached()
    frames = [frame.url for frame in page.frames[1:]]
    assert control in frames, frames
    assert sum(url.startswith("chrome-error://") for url in frames) == 2, frames  # refused: frame-ancestors 'none'
    page.screenshot(path=screenshots / "framing-refused.png")
