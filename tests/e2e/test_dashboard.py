"""The operator dashboard and the mobile vote page in a real browser (Playwright driving Debian's Chromium),
against the whole stack as `make run` starts it, static server included.

Every page fails its test on any console error or uncaught exception, except the API refusals a step provokes
on purpose (Chromium logs every answer of 400 or more as a console error), each named where it is provoked.
Screenshots go to pytest's temporary folder; with TALLY_README_SCREENSHOT=1 the live dashboard is also written
to docs/dashboard.png, the README's picture.
"""
import os
import re
import shutil
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, wait_for
from tests.e2e.dashboard_browser import (
    CHOICE,
    OPERATOR_SCREEN,
    PHONE,
    CognitoCalls,
    api_vote,
    chart_data,
    check_consoles,
    create_poll,
    id_token,
    local_time_input,
    new_voter,
    open_page,
    results_total,
    seconds_until,
    settled_screenshot,
    sign_in,
    site_of,
)

pytestmark = pytest.mark.e2e

POLL = "pasta-e2e"
TITLE = "Best pasta (e2e)"
SESSION_KEY = "tally.dashboard.session"


def row_figures(page, candidate: str):
    row = page.locator(f'#counts tr[data-candidate="{candidate}"]')
    return row.locator(".votes"), row.locator(".share")


class Journey:
    """One poll's life on the dashboard and the vote page, in steps: each test_journey_ test takes it one step on
    from where the one before left it (they run in the order written), so that a step that fails still lets the
    later ones run and report. Every page it opens has its console checked at the end."""

    def __init__(self, stack, browser, screenshots):
        self.stack, self.browser, self.screenshots = stack, browser, screenshots
        self.site = site_of(stack)
        self.consoles = []
        self.dash, self.dash_console = self.open_page(OPERATOR_SCREEN, "dashboard")
        self.results_requests = []
        self.dash.on("request", lambda r: self.results_requests.append(r)
                     if r.url.endswith(f"/polls/{POLL}/results") else None)

    def open_page(self, device: dict, name: str):
        page, console = open_page(self.browser, device, name)
        self.consoles.append(console)
        return page, console


@pytest.fixture(scope="module")
def journey(running_stack, browser, screenshots):
    yield Journey(running_stack, browser, screenshots)
    print(f"screenshots in {screenshots}")


def test_journey_the_operator_signs_in_and_creates_a_poll_with_the_form(journey):
    stack, dash = journey.stack, journey.dash
    dash.goto(journey.site)
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#who")).to_have_text("operator")
    dash.get_by_label("Title", exact=True).fill(TITLE)
    dash.get_by_label("Candidates").fill("Carbonara\nAmatriciana\nCacio e pepe\n")
    expect(dash.locator("#create-candidates-ids")).to_have_text("Ids: carbonara, amatriciana, cacio-e-pepe")
    dash.get_by_text("Id, schedule, results visibility and expected load").click()
    dash.get_by_label("Poll id").fill(POLL)
    dash.get_by_role("button", name="Create poll").click()
    expect(dash.locator("#notice")).to_contain_text(f"Created “{TITLE}” (id {POLL})")
    expect(dash.locator("#results-title")).to_have_text(TITLE)
    expect(dash.locator("#results-status")).to_have_text("Open")
    expect(dash.locator(f'.poll-item[data-poll="{POLL}"] .badge')).to_have_text("Open")
    expect(dash.locator("#connection")).to_contain_text("Live")
    expect(dash.locator("#total")).to_have_text("0")
    operator_token = id_token(stack, stack.info["operator"])
    poll = requests.get(f"{stack.api}/polls/{POLL}", headers={"Authorization": f"Bearer {operator_token}"},
                        timeout=10).json()
    assert [c["label"] for c in poll["candidates"]] == ["Carbonara", "Amatriciana", "Cacio e pepe"]


def test_journey_a_voter_on_a_phone_picks_the_poll_and_votes_once(journey):
    """Two polls are open (demo and this one), so the page asks which."""
    journey.phone, phone_console = journey.open_page(PHONE, "vote page, phone-1")
    phone = journey.phone
    phone_console.expect("/votes/mine", "404")  # the page asks for an earlier vote; there is none yet
    phone.goto(f"{journey.site}vote.html")
    voter_1 = new_voter(journey.stack, "phone-1")
    sign_in(phone, voter_1)
    phone.get_by_role("link", name=TITLE).tap()
    expect(phone.locator("#poll-title")).to_have_text(TITLE)
    expect(phone.locator("#poll-state")).to_have_text("Voting is open.")
    phone.locator(CHOICE.format("carbonara")).tap()
    expect(phone.locator("#outcome")).to_have_text("Your vote for Carbonara is in. Thank you!")
    expect(phone.locator(CHOICE.format("carbonara"))).to_have_attribute("aria-pressed", "true")
    # The same tap again does no harm: the API answers 200 with the ballot that stands.
    phone.locator(CHOICE.format("carbonara")).tap()
    expect(phone.locator("#outcome")).to_contain_text("Your vote for Carbonara was already recorded at")
    # Another choice is refused (409) and explained.
    phone_console.expect("/votes/amatriciana", "409")
    phone.locator(CHOICE.format("amatriciana")).tap()
    expect(phone.locator("#outcome")).to_have_text(
        "You already voted for Carbonara in this poll, and a vote cannot be changed. Your vote stands.")
    phone.screenshot(path=journey.screenshots / "vote-page.png", full_page=True)


def test_journey_a_voter_with_the_keyboard_only_votes_and_a_quick_double_enter_counts_once(journey):
    """The poll is in the link."""
    keys, keys_console = journey.open_page(PHONE, "vote page, keyboard")
    keys_console.expect("/votes/mine", "404")
    keys.goto(f"{journey.site}vote.html?poll={POLL}")
    voter_2 = new_voter(journey.stack, "keyboard-1")
    expect(keys.locator("#sign-in-username")).to_be_visible()
    keys.keyboard.press("Tab")
    expect(keys.locator("#sign-in-username")).to_be_focused()
    keys.keyboard.type(voter_2["username"])
    keys.keyboard.press("Tab")
    keys.keyboard.type(voter_2["password"])
    keys.keyboard.press("Enter")
    target = keys.locator(CHOICE.format("cacio-e-pepe"))
    expect(target).to_be_enabled()
    for _ in range(8):
        if target.evaluate("(node) => node === document.activeElement"):
            break
        keys.keyboard.press("Tab")
    expect(target).to_be_focused()
    keys.keyboard.press("Enter")
    keys.keyboard.press("Enter")
    expect(keys.locator("#outcome")).to_have_text(re.compile(
        r"^Your vote for Cacio e pepe (is in\. Thank you!|was already recorded at .*)$"))


def test_journey_a_third_voter_opens_the_page_and_waits(journey):
    """After the close, their tap must be refused (test_journey_the_vote_page_refuses_votes_after_the_close)."""
    journey.late, journey.late_console = journey.open_page(PHONE, "vote page, late voter")
    late = journey.late
    journey.late_console.expect("/votes/mine", "404")
    late.goto(f"{journey.site}vote.html?poll={POLL}")
    journey.late_voter = new_voter(journey.stack, "late-1")
    sign_in(late, journey.late_voter)
    expect(late.locator(CHOICE.format("carbonara"))).to_be_enabled()


def test_journey_the_dashboard_shows_the_exact_counts_within_2_s_of_the_last_vote(journey):
    stack, dash = journey.stack, journey.dash
    # Voters through the API.
    for name, candidate in [("api-1", "amatriciana"), ("api-2", "amatriciana"), ("api-3", "amatriciana"),
                            ("api-4", "carbonara")]:
        assert api_vote(stack, new_voter(stack, name), POLL, candidate).status_code == 201
    last_vote = time.monotonic()

    expected = {"carbonara": ["2", "33%"], "amatriciana": ["3", "50%"], "cacio-e-pepe": ["1", "17%"]}
    dash.wait_for_function(
        """(expected) => document.querySelector("#total").textContent === "6" &&
             Object.entries(expected).every(([id, [votes, share]]) => {
               const row = document.querySelector(`#counts tr[data-candidate="${id}"]`);
               return row && row.querySelector(".votes").textContent === votes
                          && row.querySelector(".share").textContent === share;
             })""",
        arg=expected, timeout=max(1, 2000 - (time.monotonic() - last_vote) * 1000))
    shown_after = time.monotonic() - last_vote
    assert shown_after <= 2.0, f"the dashboard showed the counts {shown_after:.2f} s after the last vote"
    for candidate, (votes, share) in expected.items():
        expect(row_figures(dash, candidate)[0]).to_have_text(votes)
        expect(row_figures(dash, candidate)[1]).to_have_text(share)
    assert chart_data(dash, "#bars-chart") == [2, 3, 1]
    # Per second, the last five minutes. The timeline is the index's, which follows the counters behind the totals
    # (docs/architecture.md, Results): a moment later on a busy machine.
    dash.wait_for_function("() => Chart.getChart(document.querySelector('#timeline-chart'))"
                           ".data.datasets[0].data.reduce((sum, votes) => sum + votes, 0) === 6", timeout=10_000)
    dash.evaluate("window.scrollTo(0, 0)")
    settled_screenshot(dash, journey.screenshots / "dashboard-live.png")
    if os.environ.get("TALLY_README_SCREENSHOT"):
        shutil.copyfile(journey.screenshots / "dashboard-live.png", ROOT / "docs" / "dashboard.png")
    dash.get_by_role("button", name="Per minute").click()
    expect(dash.get_by_role("button", name="Per minute")).to_have_attribute("aria-pressed", "true")
    assert sum(chart_data(dash, "#timeline-chart")) == 6
    expect(dash.locator("#connection")).to_contain_text("Live · checked")
    expect(dash.locator("#freshness")).to_contain_text("Counts as of")
    expect(dash.locator("#source-note")).to_be_hidden()
    expect(dash.locator("#countdown")).to_have_text("Open until closed by hand")


def test_journey_the_dashboard_asks_for_the_results_with_their_etag_and_gets_304(journey):
    """The browser sends back the ETag it holds, and the API answers 304 while nothing changed (the page then
    reuses what it has)."""
    api_log = journey.stack.state_dir / "api.log"  # its access lines name routes, not paths (devstack/api.py)
    wait_for(lambda: '"GET /polls/{poll_id}/results HTTP/1.1" 304' in api_log.read_text(), 5, "a 304 for the results")
    sent_tags = [r.all_headers().get("if-none-match") for r in journey.results_requests[-3:]]
    assert all(tag and tag.startswith('"') for tag in sent_tags), f"If-None-Match sent: {sent_tags}"


def test_journey_the_operator_closes_the_poll_and_the_dashboard_counts_down_to_the_close(journey):
    """Two steps (a closed poll cannot reopen). The close takes effect a few seconds ahead (the answer's
    closes_at), once every API instance can know of it; the page counts down to it."""
    dash = journey.dash
    dash.get_by_role("button", name=f"Close poll {TITLE}", exact=True).click()
    expect(dash.locator(f"#confirm-{POLL}")).to_contain_text("It takes effect a few seconds after you confirm")
    with dash.expect_response(lambda r: r.url.endswith(f"/polls/{POLL}/close")) as answer:
        dash.get_by_role("button", name=f"Close poll {TITLE} in a few seconds", exact=True).click()
    closes_at = answer.value.json()["closes_at"]
    expect(dash.locator("#notice")).to_contain_text(f"“{TITLE}” closes at")
    expect(dash.locator("#countdown")).to_have_text(re.compile(r"^Closing at .+ · (closes in \d+ s|closing now…)$"))
    # ...and then it is closed by itself, at closes_at (a deadline, not a fixed wait).
    expect(dash.locator("#results-status")).to_have_text("Closed", timeout=seconds_until(closes_at, 10) * 1000)
    expect(dash.locator("#countdown")).to_contain_text("Closed at")
    expect(dash.locator(f'.poll-item[data-poll="{POLL}"] .badge')).to_have_text("Closed")
    expect(dash.get_by_role("button", name=f"Close poll {TITLE}", exact=True)).to_have_count(0)


def test_journey_the_vote_page_refuses_votes_after_the_close(journey):
    """The late voter's page still showed the poll open (unless its own status check came first and disabled the
    buttons): either way the tap does not count and the page says why."""
    stack, late = journey.stack, journey.late
    journey.late_console.expect("/votes/carbonara", "409")
    late_votes = []
    late.on("response", lambda r: late_votes.append(r.status) if r.url.endswith("/votes/carbonara") else None)
    late.locator(CHOICE.format("carbonara")).tap(force=True)
    expect(late.locator("#outcome")).to_contain_text("Voting has closed for this poll")
    assert late_votes in ([], [409]), f"the late tap was answered {late_votes}"
    expect(late.locator("#poll-state")).to_have_text("Voting has closed.")
    expect(late.locator(CHOICE.format("carbonara"))).to_be_disabled()
    late.reload()
    expect(late.locator("#outcome")).to_have_text("Voting has closed for this poll, so no more votes can be cast.")
    for candidate in ("carbonara", "amatriciana", "cacio-e-pepe"):
        expect(late.locator(CHOICE.format(candidate))).to_be_disabled()
    late.screenshot(path=journey.screenshots / "vote-page-closed.png", full_page=True)
    mine = requests.get(f"{stack.api}/votes/mine", params={"poll_id": POLL},
                        headers={"Authorization": f"Bearer {id_token(stack, journey.late_voter)}"}, timeout=10)
    assert mine.status_code == 404
    assert api_vote(stack, new_voter(stack, "api-late"), POLL, "carbonara").status_code == 409


def test_journey_the_first_voter_sees_the_vote_and_the_close_and_the_final_count_stands(journey):
    phone, dash = journey.phone, journey.dash
    phone.reload()
    expect(phone.locator("#outcome")).to_contain_text("You voted for Carbonara at")
    expect(phone.locator("#poll-state")).to_have_text("Voting has closed.")
    expect(phone.locator(CHOICE.format("carbonara"))).to_have_attribute("aria-pressed", "true")
    # The final count stands on the dashboard.
    expect(dash.locator("#total")).to_have_text("6")
    settled_screenshot(dash, journey.screenshots / "dashboard-closed.png")


def test_journey_no_page_of_the_journey_logged_an_unexpected_error(journey):
    check_consoles(*journey.consoles)


def test_the_dashboard_says_reconnecting_while_the_api_is_away_and_recovers_by_itself(running_stack, browser):
    stack = running_stack
    dash, console = open_page(browser, OPERATOR_SCREEN, "dashboard")
    dash.goto(f"{site_of(stack)}#poll=demo")
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#results-title")).to_have_text("Which topping wins?")
    expect(dash.locator("#connection")).to_contain_text("Live")
    before = int(dash.locator("#total").inner_text())

    # The API goes away, for this page: its results requests are refused at the socket.
    results = f"{stack.api}/polls/demo/results"
    console.expect("/polls/demo/results", "ERR_CONNECTION_REFUSED")
    dash.route(results, lambda route: route.abort("connectionrefused"))
    expect(dash.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    expect(dash.locator("#connection")).to_contain_text("Reconnecting… the API is not answering (next try in")

    # A vote arrives meanwhile; when the API is back the page catches up without a reload.
    assert api_vote(stack, new_voter(stack, "while-away"), "demo", "funghi").status_code == 201
    dash.unroute(results)
    expect(dash.locator("#connection")).to_contain_text("Live", timeout=15_000)
    expect(dash.locator("#total")).to_have_text(str(before + 1))
    check_consoles(console)


def test_sign_in_mistake_token_refresh_and_sign_out(running_stack, browser):
    stack = running_stack
    dash, console = open_page(browser, OPERATOR_SCREEN, "dashboard")
    cognito = CognitoCalls(dash, stack)
    dash.goto(site_of(stack))

    # moto never checks the SRP proof (a wrong password signs in there: only AWS refuses it), but it does refuse
    # an unknown user, in the same words.
    console.expect(stack.info["moto_url"], "400")
    sign_in(dash, {"username": "no-such-operator", "password": "Not-the-password-1"})
    expect(dash.locator("#sign-in-error")).to_have_text("Wrong username or password.")
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#connection")).to_contain_text("Live")
    cognito.assert_never_sent(stack.info["operator"]["password"])
    prefix = f"{SESSION_KEY}.CognitoIdentityServiceProvider.{stack.info['client_id']}.operator."

    # A stored session that has expired (here: the browser's clock is an hour ahead of Cognito's, as the library
    # measures it) is renewed with the refresh token (REFRESH_TOKEN_AUTH) before the page uses it.
    dash.evaluate("(key) => sessionStorage.setItem(key, String(-3600))", prefix + "clockDrift")
    with dash.expect_response(lambda r: r.url.startswith(stack.info["moto_url"])
                              and "REFRESH_TOKEN_AUTH" in (r.request.post_data or "")) as refresh:
        dash.reload()
    assert refresh.value.status == 200
    expect(dash.locator("#who")).to_have_text("operator")
    expect(dash.locator("#connection")).to_contain_text("Live")
    assert abs(int(dash.evaluate("(key) => sessionStorage.getItem(key)", prefix + "clockDrift"))) < 60

    # A 401 from the API (a token revoked or expired early) is answered with a refresh, then the request again.
    results = f"{stack.api}/polls/**/results"
    refused = []

    def refuse_once(route):
        if refused:
            return route.continue_()
        refused.append(route.request.url)
        cors = {k: v for k, v in requests.get(f"{stack.api}/health", timeout=5).headers.items()
                if k.lower().startswith("access-control-")}
        route.fulfill(status=401, headers={**cors, "Content-Type": "application/json"},
                      body='{"Code": "UnauthorizedError", "Message": "The token has expired."}')

    console.expect("/results", "401")
    with dash.expect_response(lambda r: r.url.startswith(stack.info["moto_url"])
                              and "REFRESH_TOKEN_AUTH" in (r.request.post_data or "")) as refresh:
        dash.route(results, refuse_once)
    assert refresh.value.status == 200 and refused
    expect(dash.locator("#connection")).to_contain_text("Live")
    dash.unroute(results)

    # Signing out forgets the tokens and ends the refresh token at Cognito (GlobalSignOut); a reload stays out.
    refresh_token = dash.evaluate("(key) => sessionStorage.getItem(key)", prefix + "refreshToken")
    with dash.expect_response(lambda r: r.url.startswith(stack.info["moto_url"])
                              and "GlobalSignOut" in (r.request.headers.get("x-amz-target") or "")) as signed_out:
        dash.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 200
    expect(dash.locator("#sign-in-error")).to_have_text("You have signed out.")
    assert dash.evaluate("(key) => Object.keys(sessionStorage).filter((k) => k.startsWith(key))", SESSION_KEY) == []
    with pytest.raises(stack.idp.exceptions.NotAuthorizedException):
        stack.idp.initiate_auth(ClientId=stack.info["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
                                AuthParameters={"REFRESH_TOKEN": refresh_token})
    dash.reload()
    expect(dash.get_by_role("button", name="Sign in")).to_be_visible()
    check_consoles(console)


def test_a_scheduled_poll_with_a_close_time_counts_down_and_opens_on_demand(running_stack, browser):
    stack = running_stack
    dash, console = open_page(browser, OPERATOR_SCREEN, "dashboard")
    dash.goto(site_of(stack))
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#who")).to_have_text("operator")
    # datetime-local fields are in the browser's zone; the page sends UTC instants.
    opens, closes = dash.evaluate("""() => {
        const local = (ms) => { const d = new Date(ms); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
                                return d.toISOString().slice(0, 19); };
        return [local(Date.now() + 3600e3), local(Date.now() + 7200e3)];
    }""")
    dash.get_by_label("Title", exact=True).fill("Later, with a close")
    dash.get_by_label("Candidates").fill("Yes\nNo")
    dash.get_by_text("Id, schedule, results visibility and expected load").click()
    dash.get_by_label("Poll id").fill("later-e2e")
    dash.get_by_label("Expected peak votes/s").fill("250")
    dash.get_by_label("Opens at").fill(opens)
    dash.get_by_label("Closes at").fill(closes)
    dash.get_by_label("only after it closes").check()
    dash.get_by_role("button", name="Create poll").click()
    expect(dash.locator("#results-title")).to_have_text("Later, with a close")
    expect(dash.locator("#results-status")).to_have_text("Scheduled")
    expect(dash.locator("#countdown")).to_have_text(re.compile(r"^Opens in (59:\d\d|1:00:00)$"))
    headers = {"Authorization": f"Bearer {id_token(stack, stack.info['operator'])}"}
    poll = requests.get(f"{stack.api}/polls/later-e2e", headers=headers, timeout=10).json()
    assert poll["results"] == "after_close" and poll["opens_at"] and poll["closes_at"]
    assert poll["expected_peak_votes_per_s"] == 250

    dash.get_by_role("button", name="Open poll Later, with a close now").click()
    expect(dash.locator("#results-status")).to_have_text("Open")
    closing = re.compile(r"^Closing at .+ · closes in (1:59:\d\d|2:00:00)$")
    expect(dash.locator("#countdown")).to_have_text(closing)
    expect(dash.locator('.poll-item[data-poll="later-e2e"] .badge')).to_have_text("Open")
    expect(dash.locator('.poll-item[data-poll="later-e2e"] .poll-closing')).to_have_text(closing)
    check_consoles(console)


def test_a_close_counts_down_on_the_dashboard_then_shows_closed_and_can_be_scheduled(running_stack, browser,
                                                                                   screenshots):
    stack = running_stack
    poll_id, title = "closing-e2e", "Closing soon (e2e)"
    create_poll(stack, poll_id, title, ["tea", "coffee"])
    voter, late_voter = new_voter(stack, "closing-voter"), new_voter(stack, "closing-late")
    dash, console = open_page(browser, OPERATOR_SCREEN, "dashboard")
    dash.goto(f"{site_of(stack)}#poll={poll_id}")
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#results-title")).to_have_text(title)
    expect(dash.locator("#countdown")).to_have_text("Open until closed by hand")
    item = dash.locator(f'.poll-item[data-poll="{poll_id}"]')
    expect(item.locator(".poll-closing")).to_have_count(0)

    # A close at a chosen time, half a minute ahead: the poll stays open and counts down to it.
    item.get_by_role("button", name=f"Close poll {title}", exact=True).click()
    wanted = local_time_input(dash, 30)
    item.get_by_label(f"Scheduled close of poll {title}, your time").fill(wanted)
    item.screenshot(path=screenshots / "dashboard-close-confirm.png")
    with dash.expect_response(lambda r: r.url.endswith(f"/polls/{poll_id}/close")) as answer:
        item.get_by_role("button", name=f"Close poll {title} at the time given", exact=True).click()
    scheduled = answer.value.json()
    assert answer.value.status == 200 and scheduled["status"] == "open"
    assert dash.evaluate("(at) => new Date(at).getTime()", scheduled["closes_at"]) == dash.evaluate(
        "(local) => new Date(local).getTime()", wanted), "the close is not at the time asked for"
    expect(dash.locator("#notice")).to_contain_text(f"“{title}” closes at")
    far = re.compile(r"^Closing at .+ · closes in [1-3]\d s$")
    expect(dash.locator("#countdown")).to_have_text(far)
    expect(item.locator(".poll-closing")).to_have_text(far)
    expect(item.locator(".badge")).to_have_text("Open")
    expect(dash.locator("#results-status")).to_have_text("Open")

    # Closing "in a few seconds" now brings it forward: the sooner close wins.
    item.get_by_role("button", name=f"Close poll {title}", exact=True).click()
    expect(item.locator(f"#confirm-{poll_id}")).to_have_text(re.compile("takes effect a few seconds after you confirm"))
    with dash.expect_response(lambda r: r.url.endswith(f"/polls/{poll_id}/close")) as answer:
        item.get_by_role("button", name=f"Close poll {title} in a few seconds", exact=True).click()
    closes_at = answer.value.json()["closes_at"]
    assert closes_at < scheduled["closes_at"]
    # Until closes_at the poll is open, and a vote still counts.
    assert api_vote(stack, voter, poll_id, "tea").status_code == 201
    soon = re.compile(r"^Closing at .+ · (closes in \d s|closing now…)$")
    expect(dash.locator("#countdown")).to_have_text(soon)
    expect(item.locator(".poll-closing")).to_have_text(soon)
    dash.screenshot(path=screenshots / "dashboard-closing.png")

    # When the countdown ends the page asks again and shows the close: in the list and in the results.
    deadline = seconds_until(closes_at, 10) * 1000
    expect(dash.locator("#results-status")).to_have_text("Closed", timeout=deadline)
    expect(item.locator(".badge")).to_have_text("Closed", timeout=deadline)
    expect(item.locator(".poll-closing")).to_have_count(0)
    expect(dash.locator("#countdown")).to_contain_text("Closed at")
    expect(item.get_by_role("button", name=f"Close poll {title}", exact=True)).to_have_count(0)
    expect(dash.locator("#total")).to_have_text("1")
    assert api_vote(stack, late_voter, poll_id, "coffee").status_code == 409
    assert results_total(stack, poll_id) == 1
    # Closing a closed poll is refused (409) and said: there is no Close button left, so through the API.
    assert requests.post(f"{stack.api}/polls/{poll_id}/close", headers={
        "Authorization": f"Bearer {id_token(stack, stack.info['operator'])}"}, timeout=10).status_code == 409
    settled_screenshot(dash, screenshots / "dashboard-closed-by-countdown.png")
    check_consoles(console)


def test_the_static_server_serves_the_published_pages_and_the_stack_config_only(running_stack):
    site = site_of(running_stack)
    config = requests.get(f"{site}config.json", timeout=5)
    assert config.status_code == 200
    assert config.json() == {"api_url": running_stack.api, "region": running_stack.info["region"],
                             "user_pool_id": running_stack.info["user_pool_id"],
                             "client_id": running_stack.info["client_id"],
                             "cognito_endpoint": running_stack.info["moto_url"]}
    for path, kind in [("", "text/html"), ("vote.html", "text/html"), ("js/dashboard.js", "text/javascript"),
                       ("css/tally.css", "text/css"), ("vendor/chart.umd.min.js", "text/javascript")]:
        reply = requests.get(site + path, timeout=5)
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith(kind), path
    for path in ["package.json", "node_modules/chart.js/package.json", "scripts/build.mjs", "js/", "vendor/.built",
                 "js/%2e%2e/package.json", "vendor/%2E%2E/%2E%2E/README.md"]:
        assert requests.get(site + path, timeout=5).status_code == 404, path
