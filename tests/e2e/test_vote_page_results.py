"""The vote page as the audience uses it (issue 19), in Chromium at 390x844 against the whole local stack: after
voting (and on coming back) the voter sees the live results from the poll's public document; hidden results say
when they will be shown, and show once the poll closes; reads adapt (about every 2 s while results move, seldom
otherwise, none while the tab is hidden or once the result is final); a visit costs at most 3 requests that reach
the API function; the voter stays signed in on the device (a second tab signs in by itself) until they sign out.
And the page's rough edges: polls a voter is not on are not offered, an unknown poll says so once, the account
has its own view, the header is one line on a phone, and the sign-in view loads no chart code.

Requests are counted with Playwright's fake clock: the test moves the page's clock on a second at a time, letting
each second's requests finish before the next, so the page's own timers run as in a real five-minute visit.
"""
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from bench.visit_requests import ApiRequests
from tests.e2e.dashboard_browser import (
    CHOICE,
    OPERATOR_SCREEN,
    PHONE,
    CognitoCalls,
    api_vote,
    check_consoles,
    new_voter,
    open_page,
    operator_headers,
    seconds_until,
    sign_in,
    site_of,
)

pytestmark = pytest.mark.e2e

BUDGET = 3  # requests of a visit that reach the API function
SESSION_KEY = "tally.vote.session."


class DocumentReads:
    """The page's reads of one poll's public document, counted where they leave the page (a route: Playwright then
    keeps the browser's HTTP cache out of the way, so each read of the page is one request here)."""

    def __init__(self, page, stack, poll_id):
        self.count = 0
        self.pattern = f"{stack.api}/public/polls/{poll_id}"

        def counted(route):
            self.count += 1
            route.continue_()

        page.route(self.pattern, counted)


def run_clock(page, sent: ApiRequests, seconds: int, step_ms: int = 1000) -> None:
    """Moves the page's clock on by `seconds`, a step at a time; a timer fires at the end of the step it falls in,
    so a step short beside the page's intervals keeps their pace."""
    for _step in range(seconds * 1000 // step_ms):
        page.clock.run_for(step_ms)
        sent.settle()


def hide_tab(page, hidden: bool) -> None:
    """What a phone does when its screen locks or another app comes up (Page Visibility): headless Chromium's tabs
    are always visible, so the test says otherwise and tells the page, as the browser would."""
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
        Object.defineProperty(document, "visibilityState", { configurable: true,
                                                            get: () => (hidden ? "hidden" : "visible") });
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def make_poll(stack, poll_id: str, title: str, candidates: list, **fields) -> dict:
    reply = requests.post(f"{stack.api}/polls", headers=operator_headers(stack), timeout=10,
                          json={"poll_id": poll_id, "title": title, "candidates": candidates, **fields})
    assert reply.status_code == 201, reply.text
    return reply.json()


def vote_page(browser, stack, poll_id: str, voter: dict, name: str, device=PHONE, clock=False):
    page, console = open_page(browser, device, name)
    console.expect("/votes/mine", "404")  # no vote yet
    sent = ApiRequests(page, stack.api)
    if clock:
        page.clock.install()
    page.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    sign_in(page, voter)
    expect(page.locator("#poll-title")).to_be_visible()
    return page, console, sent


def shown_results(page) -> dict:
    """What the choices show: {candidate: "40% · 2 votes"}, and which one is marked as this voter's."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll("#choices button.choice")]
        .map((b) => [b.dataset.candidate, {
            figures: b.querySelector(".choice-share") && `${b.querySelector(".choice-pct").textContent} · ` +
                `${b.querySelector(".choice-votes").textContent}`,
            bar: b.querySelector(".choice-fill")?.style.width ?? null,
            mine: b.getAttribute("aria-pressed") === "true" && b.querySelector(".choice-mark").textContent !== "",
        }]))""")


# ---- the budget and the reads' pace ---------------------------------------------------------------------------

@pytest.mark.parametrize("electorate", ["open", "roll"])
def test_a_visit_costs_at_most_three_requests_that_reach_the_api_function(running_stack, browser, electorate):
    stack = running_stack
    poll_id = f"budget-{electorate}-e2e"
    voter = new_voter(stack, f"budget-{electorate}-voter")
    make_poll(stack, poll_id, "A visit's requests (e2e)", ["tea", "coffee"], electorate=electorate)
    if electorate == "roll":
        added = requests.post(f"{stack.api}/polls/{poll_id}/roll", headers=operator_headers(stack), timeout=10,
                              json={"voters": [voter["username"]]})
        assert added.status_code == 200, added.text
    page, console, sent = vote_page(browser, stack, poll_id, voter, f"vote page, a visit ({electorate})", clock=True)
    page.locator(CHOICE.format("tea")).tap()
    expect(page.locator("#outcome")).to_contain_text("is in")
    sent.settle()
    run_clock(page, sent, 5 * 60)
    expect(page.locator("#results-line")).to_contain_text("Live results: 1 vote")
    reaching = sent.reaching_function()
    print(f"a visit ({electorate} poll): {sent.summary()}; {len(reaching)} reach the function, "
          f"{sum(m == 'OPTIONS' for m, _ in sent.sent)} preflights, {len(sent.sent)} in all")
    assert len(reaching) <= BUDGET, f"{len(reaching)} requests reached the API function: {sent.summary()}"
    assert ("POST", "/votes/tea") in reaching
    check_consoles(console)


def test_reads_adapt_to_what_the_voter_sees_and_pause_while_the_tab_is_hidden(running_stack, browser):
    stack = running_stack
    voter = new_voter(stack, "pace-voter")
    make_poll(stack, "pace-live", "Live results, read often once voted (e2e)", ["tea", "coffee"])
    make_poll(stack, "pace-hidden", "Results after the close (e2e)", ["tea", "coffee"], results="after_close")

    page, console, sent = vote_page(browser, stack, "pace-live", voter, "vote page, pace", clock=True)
    reads = DocumentReads(page, stack, "pace-live")
    sent.settle()
    # Before the vote only the poll's status can change for this voter: every 8-12 s.
    run_clock(page, sent, 60, step_ms=250)
    before_vote = reads.count
    page.locator(CHOICE.format("tea")).tap()
    expect(page.locator("#outcome")).to_contain_text("is in")
    sent.settle()
    reads.count = 0
    run_clock(page, sent, 60, step_ms=100)
    watching = reads.count
    hide_tab(page, True)
    sent.settle()
    reads.count = 0
    run_clock(page, sent, 60)
    hidden = reads.count
    hide_tab(page, False)
    sent.settle()
    back = reads.count
    print(f"reads a minute: {before_vote} before the vote, {watching} watching live results, {hidden} hidden; "
          f"{back} on coming back")
    assert 5 <= before_vote <= 8, before_vote
    assert 24 <= watching <= 41, watching  # 1.5 to 2.5 s apart
    assert hidden == 0
    assert back == 1  # at once, not at the next tick

    # Results hidden until the close: after the vote, reads stay slow.
    page.goto(f"{site_of(stack)}vote.html?poll=pace-hidden")
    reads = DocumentReads(page, stack, "pace-hidden")
    expect(page.locator(CHOICE.format("coffee"))).to_be_enabled()
    page.locator(CHOICE.format("coffee")).tap()
    expect(page.locator("#outcome")).to_contain_text("is in")
    expect(page.locator("#results-line")).to_have_text("The results are shown when voting closes.")
    sent.settle()
    reads.count = 0
    run_clock(page, sent, 60)
    print(f"reads a minute with the results hidden: {reads.count}")
    assert 4 <= reads.count <= 8, reads.count
    assert shown_results(page)["coffee"]["figures"] is None  # no results shown
    check_consoles(console)


# ---- the voter sees the result --------------------------------------------------------------------------------

def test_after_voting_the_phone_shows_the_live_results_and_again_on_coming_back(running_stack, browser, screenshots):
    stack = running_stack
    poll_id = "phone-results-e2e"
    make_poll(stack, poll_id, "Pizza tonight? (e2e)", [
        {"id": "margherita", "label": "Margherita"}, {"id": "funghi", "label": "Funghi"},
        {"id": "diavola", "label": "Diavola, with a chilli oil the kitchen makes itself every morning"}])
    for n, candidate in enumerate(["margherita", "margherita", "diavola"]):
        assert api_vote(stack, new_voter(stack, f"phone-results-{n}"), poll_id, candidate).status_code == 201
    voter = new_voter(stack, "phone-results-voter")
    page, console = open_page(browser, PHONE, "vote page, results")
    console.expect("/votes/mine", "404")
    scripts = []
    page.on("request", lambda r: scripts.append(urlsplit(r.url).path) if r.resource_type == "script" else None)
    page.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    # The sign-in view names the poll of the link, and loads no chart code.
    expect(page.locator("#sign-in-poll")).to_have_text("To vote in “Pizza tonight? (e2e)”.")
    page.wait_for_load_state("networkidle")
    assert not [s for s in scripts if "chart" in s or "resultbars" in s], scripts
    page.screenshot(path=screenshots / "vote-sign-in.png", full_page=True)

    sign_in(page, voter)
    expect(page.locator(CHOICE.format("funghi"))).to_be_enabled()
    # Before the vote no results are shown, and the page says where they will be.
    assert shown_results(page)["funghi"]["figures"] is None
    expect(page.locator("#results-line")).to_have_text("The results show here once you have voted.")
    page.locator(CHOICE.format("funghi")).tap()
    expect(page.locator("#outcome")).to_have_text("Your vote for Funghi is in. Thank you!")
    expect(page.locator("#results-line")).to_have_text(re.compile(r"^Live results: 4 votes, as of \S+"), timeout=15_000)
    shown = shown_results(page)
    assert {c: s["figures"] for c, s in shown.items()} == {
        "margherita": "50% · 2 votes", "funghi": "25% · 1 vote", "diavola": "25% · 1 vote"}
    assert [c for c, s in shown.items() if s["mine"]] == ["funghi"]
    assert shown["margherita"]["bar"] == "50%"
    assert any("/js/resultbars.js" in s for s in scripts)
    page.screenshot(path=screenshots / "vote-results-phone.png", full_page=True)

    # Live: another vote shows without a reload.
    assert api_vote(stack, new_voter(stack, "phone-results-4"), poll_id, "diavola").status_code == 201
    expect(page.locator("#results-line")).to_contain_text("Live results: 5 votes", timeout=15_000)
    expect(page.locator(f"{CHOICE.format('diavola')} .choice-share")).to_have_text("40% 2 votes")
    # Long labels wrap inside their choice, never cut and never wider than the phone.
    diavola = page.locator(f"{CHOICE.format('diavola')} .choice-label")
    assert diavola.evaluate("(n) => n.scrollWidth <= n.clientWidth && n.getClientRects().length >= 1")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")

    # Coming back to the poll (a reload, the link again): the ballot, then the results, without a new vote.
    page.reload()
    expect(page.locator("#outcome")).to_contain_text("You voted for Funghi at")
    expect(page.locator("#results-line")).to_contain_text("Live results: 5 votes")
    assert [c for c, s in shown_results(page).items() if s["mine"]] == ["funghi"]
    check_consoles(console)


def test_hidden_results_say_when_then_show_after_the_close_and_reads_stop_once_final(running_stack, browser,
                                                                                     screenshots):
    stack = running_stack
    poll_id = "after-close-e2e"
    closes_at = (datetime.now(timezone.utc) + timedelta(seconds=25)).isoformat(timespec="seconds")
    poll = make_poll(stack, poll_id, "Best talk of the day (e2e)", ["keynote", "workshop"], results="after_close",
                     closes_at=closes_at.replace("+00:00", "Z"))
    assert api_vote(stack, new_voter(stack, "after-close-0"), poll_id, "keynote").status_code == 201
    voter = new_voter(stack, "after-close-voter")
    page, console, sent = vote_page(browser, stack, poll_id, voter, "vote page, results after the close")
    page.locator(CHOICE.format("workshop")).tap()
    expect(page.locator("#outcome")).to_have_text("Your vote for workshop is in. Thank you!")
    closing_time = page.evaluate("(t) => new Intl.DateTimeFormat(undefined, "
                                 "{hour: '2-digit', minute: '2-digit', second: '2-digit'}).format(new Date(t))",
                                 poll["closes_at"])
    expect(page.locator("#results-line")).to_have_text(
        f"The results are shown when voting closes, at {closing_time}.")
    assert shown_results(page)["workshop"]["figures"] is None
    page.screenshot(path=screenshots / "vote-results-hidden.png", full_page=True)
    # The page reads again just after the close, and soon again while its copy is older than the close (not at its
    # slow pace of 8-12 s): the result within a few seconds of the close.
    expect(page.locator("#results-line")).to_have_text(re.compile(r"^Result: 2 votes"),
                                                       timeout=(seconds_until(poll["closes_at"]) + 7) * 1000)
    expect(page.locator("#poll-state")).to_have_text("Voting has closed.")
    assert {c: s["figures"] for c, s in shown_results(page).items()} == {
        "keynote": "50% · 1 vote", "workshop": "50% · 1 vote"}
    # Once the API calls the document final (the stream has had time to count every ballot), reads stop.
    expect(page.locator("#results-line")).to_have_text("Final result: 2 votes.", timeout=45_000)
    page.screenshot(path=screenshots / "vote-results-final.png", full_page=True)
    reads = len(sent.sent)
    page.wait_for_timeout(6000)
    assert sent.sent[reads:] == [], f"the page kept reading after the final result: {sent.sent[reads:]}"
    check_consoles(console)


# ---- signed in on the device ----------------------------------------------------------------------------------

def test_a_second_tab_and_the_link_opened_again_need_no_new_sign_in_until_sign_out(running_stack, browser):
    stack = running_stack
    poll_id = "second-tab-e2e"
    make_poll(stack, poll_id, "Stay signed in (e2e)", ["yes", "no"])
    voter = new_voter(stack, "second-tab-voter")
    context = browser.new_context(**PHONE)
    first = context.new_page()
    first.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    sign_in(first, voter)
    expect(first.locator(CHOICE.format("yes"))).to_be_enabled()
    keys = first.evaluate("() => Object.keys(localStorage)")
    assert keys and all(k.startswith(SESSION_KEY) for k in keys), keys
    assert any(k.endswith(".refreshToken") for k in keys), keys

    second = context.new_page()
    calls = CognitoCalls(second, stack)
    second.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    expect(second.locator("#poll-title")).to_have_text("Stay signed in (e2e)")
    expect(second.locator("#who")).to_have_text(voter["username"])
    expect(second.locator("#sign-in-panel")).to_be_hidden()
    assert "InitiateAuth" not in calls.actions() and "RespondToAuthChallenge" not in calls.actions()
    second.locator(CHOICE.format("no")).tap()
    expect(second.locator("#outcome")).to_have_text("Your vote for no is in. Thank you!")

    # Every tab closed, then the QR code scanned again: still signed in, and the vote is there.
    first.close()
    second.close()
    again = context.new_page()
    again.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    expect(again.locator("#outcome")).to_contain_text("You voted for no at")
    other = context.new_page()
    other.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    expect(other.locator("#who")).to_have_text(voter["username"])

    # Signing out in one tab signs out every tab of the device, and leaves nothing stored.
    with again.expect_response(lambda r: "GlobalSignOut" in (r.request.headers.get("x-amz-target") or "")):
        again.get_by_role("button", name="Sign out").click()
    expect(again.locator("#sign-in-error")).to_have_text("You have signed out.")
    expect(other.locator("#sign-in-panel")).to_be_visible()
    expect(other.locator("#sign-in-error")).to_have_text("You have signed out in another tab.")
    assert again.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('tally.'))") == []
    last = context.new_page()
    last.goto(f"{site_of(stack)}vote.html?poll={poll_id}")
    expect(last.locator("#sign-in-panel")).to_be_visible()
    # And signing in again in one tab signs in the others that wait at the sign-in form.
    sign_in(last, voter)
    expect(last.locator("#outcome")).to_contain_text("You voted for no at")
    expect(other.locator("#outcome")).to_contain_text("You voted for no at")
    context.close()


# ---- the rough edges ------------------------------------------------------------------------------------------

def test_choose_a_poll_offers_only_the_voters_own_and_an_unknown_poll_says_so_once(running_stack, browser):
    stack = running_stack
    make_poll(stack, "pick-one-e2e", "First of two (e2e)", ["yes", "no"])
    make_poll(stack, "pick-two-e2e", "Second of two (e2e)", ["yes", "no"])
    make_poll(stack, "pick-roll-e2e", "Members only (e2e)", ["yes", "no"], electorate="roll")
    voter = new_voter(stack, "pick-voter")
    page, console = open_page(browser, PHONE, "vote page, unknown poll")
    console.expect("/public/polls/no-such-poll", "404")
    console.expect("/votes/mine", "404")  # no vote yet in the poll picked at the end
    reads = []
    page.on("request", lambda r: reads.append(r.url) if "/public/polls/no-such-poll" in r.url else None)
    page.clock.install()
    page.goto(f"{site_of(stack)}vote.html?poll=no-such-poll")
    sign_in(page, voter)
    expect(page.locator("#none-title")).to_have_text("There is no poll “no-such-poll”")
    expect(page.locator("#check-again")).to_be_hidden()
    page.clock.run_for(60_000)
    page.wait_for_timeout(500)
    assert len(reads) == 1, reads  # said once: not asked again, nor said again
    page.get_by_role("link", name="See the open polls").tap()

    expect(page.locator("#pick-title")).to_be_visible()
    links = page.locator("#pick-list a")
    expect(links.filter(has_text="First of two (e2e)")).to_have_count(1)
    expect(links.filter(has_text="Second of two (e2e)")).to_have_count(1)
    expect(links.filter(has_text="Members only (e2e)")).to_have_count(0)
    off_roll = page.locator("#pick-off-roll")
    expect(off_roll).to_contain_text("for the voters on their roll")
    expect(off_roll.locator('li[data-poll="pick-roll-e2e"]')).to_have_text("Members only (e2e)")
    expect(off_roll.locator("a")).to_have_count(0)
    with page.expect_response(lambda reply: "/votes/mine" in reply.url):  # the page asks for an earlier vote
        links.filter(has_text="Second of two (e2e)").tap()
    expect(page.locator("#poll-title")).to_have_text("Second of two (e2e)")
    check_consoles(console)


def test_the_account_has_its_own_view_and_the_header_is_one_line_on_a_phone(running_stack, browser, screenshots):
    stack = running_stack
    make_poll(stack, "account-view-e2e", "Where is my account? (e2e)", ["yes", "no"])
    email = f"a.rather.long.name.{time.time_ns()}@example.org"
    voter = new_voter(stack, email)
    page, console = open_page(browser, PHONE, "vote page, account")
    console.expect("/votes/mine", "404")
    page.goto(f"{site_of(stack)}vote.html?poll=account-view-e2e")
    description = page.locator('meta[name="description"]').get_attribute("content")
    assert description and len(description) > 40
    sign_in(page, voter)
    expect(page.locator(CHOICE.format("yes"))).to_be_enabled()
    # One line: the brand, the account and Sign out side by side, the account's name cut short to fit.
    header = page.evaluate("""() => {
        const box = (s) => document.querySelector(s).getBoundingClientRect();
        return { header: box(".topbar").height, brand: box(".brand").top, account: box("#account-button").top,
                 signOut: box("#sign-out").top, signOutBottom: box("#sign-out").bottom, wide: box(".topbar").width,
                 scroll: document.documentElement.scrollWidth };
    }""")
    assert abs(header["brand"] - header["signOut"]) < 12 and abs(header["account"] - header["signOut"]) < 2, header
    assert header["header"] < 70 and header["scroll"] <= 390, header
    expect(page.locator("#who")).to_have_text(email)
    # Not under the ballot: "Delete my account" is in the account's own view.
    expect(page.get_by_role("button", name="Delete my account")).to_have_count(0)
    page.get_by_role("button", name="Your account").click()
    expect(page.locator("#account-button")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#account-name")).to_have_text(email)
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()
    page.screenshot(path=screenshots / "vote-account-view.png", full_page=True)
    page.get_by_role("button", name="Done").click()
    expect(page.locator("#account-panel")).to_be_hidden()
    check_consoles(console)


# ---- as a person sees it --------------------------------------------------------------------------------------

LONG_LABELS = [
    "Extend the riverside cycle path to the old brewery and light it at night",
    "A second library branch in the north of town, open on Sundays and late on Thursdays for students",
    "More benches", "Free drinking-water fountains in every park and at each of the three railway stations",
    "Plant 2,000 street trees", "Resurface the market square with permeable paving and add shade sails",
    "Night bus", "Youth centre", "Public toilets at the beach, open all year round and cleaned twice a day",
    "Community composting", "Repair café",
    "Supercalifragilisticexpialidocious-neighbourhood-festival-every-summer-with-music",
]


@pytest.mark.parametrize("device, name", [(PHONE, "phone"), (OPERATOR_SCREEN, "desktop")])
def test_twelve_long_candidates_stay_legible(running_stack, browser, screenshots, device, name):
    stack = running_stack
    poll_id = f"twelve-{name}-e2e"
    candidates = [{"id": f"c{n}", "label": label} for n, label in enumerate(LONG_LABELS)]
    make_poll(stack, poll_id, "Which project should the town fund first from next year's participatory budget?",
              candidates)
    for n in range(5):
        assert api_vote(stack, new_voter(stack, f"twelve-{name}-{n}"), poll_id, f"c{n % 3}").status_code == 201
    voter = new_voter(stack, f"twelve-{name}-voter")
    page, console, _sent = vote_page(browser, stack, poll_id, voter, f"vote page, 12 candidates ({name})",
                                     device=device)
    page.screenshot(path=screenshots / f"vote-twelve-{name}-ballot.png", full_page=True)
    page.locator(CHOICE.format("c1")).click()
    expect(page.locator("#results-line")).to_contain_text("Live results: 6 votes", timeout=15_000)
    layout = page.evaluate("""() => ({
        scroll: document.documentElement.scrollWidth, width: innerWidth,
        cut: [...document.querySelectorAll(".choice-label, .choice-share")]
            .filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.textContent),
        overlaps: [...document.querySelectorAll("button.choice")].filter((b) => {
            const [label, share, bar] = [".choice-label", ".choice-share", ".choice-bar"]
                .map((s) => b.querySelector(s).getBoundingClientRect());
            return label.right > share.left + 1 || bar.top < Math.max(label.bottom, share.bottom) - 1;
        }).length,
    })""")
    assert layout["scroll"] <= layout["width"], layout
    assert layout["cut"] == [] and layout["overlaps"] == 0, layout
    page.screenshot(path=screenshots / f"vote-twelve-{name}-results.png", full_page=True)
    check_consoles(console)


def test_a_voter_who_signs_up_from_the_link_lands_on_its_poll(running_stack, browser):
    """Several polls are open: after the account is made and the code typed, the page goes to the poll of the link,
    not to "Choose a poll"."""
    stack = running_stack
    make_poll(stack, "link-a-e2e", "Not this one (e2e)", ["yes", "no"])
    make_poll(stack, "link-b-e2e", "The poll of the link (e2e)", ["yes", "no"])
    page, console = open_page(browser, PHONE, "vote page, sign-up from a link")
    console.expect("/votes/mine", "404")
    page.goto(f"{site_of(stack)}vote.html?poll=link-b-e2e")
    page.get_by_role("button", name="Create an account").click()
    email = f"from.the.link.{time.time_ns()}@example.org"
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Choose a password").fill("Voting-at-home-42")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_label("Code from the email").fill(page.locator("#account-step .local-note code").inner_text())
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator("#poll-title")).to_have_text("The poll of the link (e2e)")
    expect(page.locator(CHOICE.format("yes"))).to_be_enabled()
    check_consoles(console)
