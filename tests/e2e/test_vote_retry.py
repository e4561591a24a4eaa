"""The vote page rides out throttling and lost connections, in a real browser against the whole local stack.

The API answers a vote with 429 and Retry-After when DynamoDB throttles, and a resent vote answers 200 with the
ballot that stands, so the page may resend after any 429, 5xx or lost connection. Playwright stands in for the
trouble (page.route on the vote's URL): a 429 with Retry-After: 1, a 503, a connection reset after the vote has
landed, or 503s without end. Each time the page must say it is retrying, keep its buttons disabled, and end with
the vote counted exactly once, or give up in bounded time and say plainly that the vote may not be recorded.
"""
import json
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for
from tests.e2e.dashboard_browser import (
    CHOICE,
    PHONE,
    check_consoles,
    create_poll,
    id_token,
    new_voter,
    open_page,
    results_total,
    sign_in,
    site_of,
)

pytestmark = pytest.mark.e2e

CANDIDATES = [{"id": "tea", "label": "Tea"}, {"id": "coffee", "label": "Coffee"}]
IS_IN = "Your vote for Tea is in. Thank you!"


def cors_headers(stack) -> dict:
    """The CORS headers the API itself sends (app.py), so a stand-in answer is read by the page as a real one
    would be: it reads Retry-After only if the API exposes it."""
    reply = requests.get(f"{stack.api}/health", timeout=5)
    return {k: v for k, v in reply.headers.items() if k.lower().startswith("access-control-")}


def stand_in(stack, status: int, code: str, message: str, **headers) -> dict:
    return {"status": status, "headers": {**cors_headers(stack), "Content-Type": "application/json", **headers},
            "body": json.dumps({"Code": code, "Message": message})}


def answer(route, stand_in_answer: dict) -> bool:
    route.fulfill(**stand_in_answer)
    return True


class VoteRoute:
    """Every POST of a vote from one page, answered by `answer(n, route)` for the n-th (0-based); anything else
    (the CORS preflight) goes through. Answers the handler does not give are held, for the test to release."""

    def __init__(self, page, url: str, answer):
        self.page = page
        self.answer = answer
        self.sent = []  # monotonic time of each vote request
        self.held = []
        page.route(url, self._route)

    def _route(self, route):
        if route.request.method != "POST":
            return route.continue_()
        self.sent.append(time.monotonic())
        if not self.answer(len(self.sent) - 1, route):
            self.held.append(route)

    def wait_for_held(self, count: int, seconds: float = 15):
        deadline = time.monotonic() + seconds
        while len(self.held) < count:
            assert time.monotonic() < deadline, f"only {len(self.held)} vote requests held after {seconds} s"
            self.page.wait_for_timeout(50)  # lets Playwright deliver the route events while we wait
        return self.held[count - 1]


def vote_page(browser, stack, poll_id: str, voter: dict, name: str, query: str = ""):
    page, console = open_page(browser, PHONE, name)
    console.expect("/votes/mine", "404")  # the page asks for an earlier vote; there is none yet
    page.goto(f"{site_of(stack)}vote.html?poll={poll_id}{query}")
    sign_in(page, voter)
    expect(page.locator("#poll-title")).to_be_visible()
    expect(page.locator(CHOICE.format("tea"))).to_be_enabled()
    return page, console


def exactly_one_ballot(stack, poll_id: str, voter: dict, candidate: str) -> None:
    mine = requests.get(f"{stack.api}/votes/mine", params={"poll_id": poll_id},
                        headers={"Authorization": f"Bearer {id_token(stack, voter)}"}, timeout=10)
    assert mine.status_code == 200 and mine.json()["candidate"] == candidate, mine.text
    # The poll has this one voter: once the stream has delivered the ballot, the results count it once.
    wait_for(lambda: results_total(stack, poll_id) >= 1, 10, "the ballot reaching the results")
    assert results_total(stack, poll_id) == 1


def buttons_disabled(page) -> None:
    for candidate in ("tea", "coffee"):
        expect(page.locator(CHOICE.format(candidate))).to_be_disabled()


def test_a_vote_answered_429_waits_for_retry_after_then_counts_once(running_stack, browser, screenshots):
    stack = running_stack
    poll_id = "retry-429"
    create_poll(stack, poll_id, "Throttled (e2e)", CANDIDATES)
    voter = new_voter(stack, "retry-429-voter")
    page, console = vote_page(browser, stack, poll_id, voter, "vote page, 429")
    console.expect("/votes/tea", "429")
    assert "Retry-After" in cors_headers(stack).get("Access-Control-Expose-Headers", ""), (
        "the API does not let the page read Retry-After")
    throttled = stand_in(stack, 429, "TooManyRequestsError", "Too many votes at once.", **{"Retry-After": "1"})

    def first_throttled(n, route):
        if n > 0:
            return False  # held: the test lets it through
        route.fulfill(**throttled)
        return True

    votes = VoteRoute(page, f"{stack.api}/votes/tea", first_throttled)

    page.locator(CHOICE.format("tea")).tap()
    outcome = page.locator("#outcome")
    expect(outcome).to_have_text(re.compile(r"^The vote service is busy; retrying your vote for Tea…"))
    expect(outcome).to_have_attribute("aria-live", "polite")
    buttons_disabled(page)
    resend = votes.wait_for_held(1)
    gap = votes.sent[1] - votes.sent[0]
    assert gap >= 0.95, f"the vote was resent {gap:.2f} s after a 429 with Retry-After: 1"
    page.screenshot(path=screenshots / "vote-retrying.png", full_page=True)
    expect(outcome).to_contain_text("retrying your vote for Tea")  # still, while the resend is on its way
    resend.continue_()
    expect(outcome).to_have_text(IS_IN)
    expect(page.locator(CHOICE.format("tea"))).to_have_attribute("aria-pressed", "true")
    assert len(votes.sent) == 2
    exactly_one_ballot(stack, poll_id, voter, "tea")
    check_consoles(console)


def test_a_vote_lost_after_it_landed_then_a_503_ends_in_the_same_success_and_one_ballot(running_stack, browser):
    stack = running_stack
    poll_id = "retry-lost"
    create_poll(stack, poll_id, "Lost answer (e2e)", CANDIDATES)
    voter = new_voter(stack, "retry-lost-voter")
    page, console = vote_page(browser, stack, poll_id, voter, "vote page, lost answer")
    console.expect("/votes/tea", "ERR_CONNECTION_RESET")
    console.expect("/votes/tea", "503")
    landed = []

    def first_lands_but_its_answer_is_lost(n, route):
        if n == 0:
            landed.append(route.fetch().status)  # the API stores the ballot...
            route.abort("connectionreset")  # ...and the page never hears of it
            return True
        return False  # held: the test answers them

    votes = VoteRoute(page, f"{stack.api}/votes/tea", first_lands_but_its_answer_is_lost)
    page.locator(CHOICE.format("tea")).tap()
    second = votes.wait_for_held(1)
    assert landed == [201]
    outcome = page.locator("#outcome")
    expect(outcome).to_have_text(re.compile(r"^The connection to Tally was lost; retrying your vote for Tea…"))
    buttons_disabled(page)
    second.fulfill(**stand_in(stack, 503, "ServiceUnavailableError", "Try again."))
    third = votes.wait_for_held(2)
    expect(outcome).to_have_text(re.compile(r"^The vote service is busy; retrying your vote for Tea…"))
    buttons_disabled(page)
    with page.expect_response(lambda r: r.url.endswith("/votes/tea") and r.request.method == "POST") as answer:
        third.continue_()
    assert answer.value.status == 200  # the standing ballot: the first attempt's
    expect(outcome).to_have_text(IS_IN)  # the same words as a 201
    assert len(votes.sent) == 3
    exactly_one_ballot(stack, poll_id, voter, "tea")
    check_consoles(console)


def test_a_vote_page_that_keeps_getting_503_gives_up_in_bounded_time_and_a_later_tap_counts(running_stack, browser,
                                                                                           screenshots):
    stack = running_stack
    poll_id = "retry-give-up"
    create_poll(stack, poll_id, "Never answers (e2e)", CANDIDATES)
    voter = new_voter(stack, "retry-give-up-voter")
    # The page gives up after 30 s; ?retry_for=3 makes it 3 s for the test.
    page, console = vote_page(browser, stack, poll_id, voter, "vote page, give up", "&retry_for=3")
    console.expect("/votes/tea", "503")
    unavailable = stand_in(stack, 503, "ServiceUnavailableError", "Try again.")
    votes = VoteRoute(page, f"{stack.api}/votes/tea", lambda n, route: answer(route, unavailable))

    page.locator(CHOICE.format("tea")).tap()
    started = time.monotonic()
    outcome = page.locator("#outcome")
    expect(outcome).to_contain_text("The vote service is busy; retrying your vote for Tea…")
    buttons_disabled(page)
    expect(outcome).to_contain_text("Your vote for Tea may not have been recorded", timeout=15_000)
    gave_up_after = time.monotonic() - started
    assert gave_up_after < 3 + 2, f"the page gave up after {gave_up_after:.1f} s, not about 3 s"
    assert len(votes.sent) >= 3, f"only {len(votes.sent)} attempts in 3 s"
    sent = len(votes.sent)
    expect(outcome).to_have_attribute("data-kind", "error")
    expect(outcome).to_contain_text("trying again can never count you twice")
    retry = page.get_by_role("button", name="Try my vote for Tea again")
    expect(retry).to_be_visible()
    expect(page.locator(CHOICE.format("tea"))).to_be_enabled()
    page.screenshot(path=screenshots / "vote-gave-up.png", full_page=True)
    assert len(votes.sent) == sent, "the page kept sending after it gave up"

    # The service is back; the voter taps "try again": the vote counts, once.
    page.unroute(f"{stack.api}/votes/tea")
    retry.tap()
    expect(outcome).to_have_text(IS_IN)
    expect(retry).to_be_hidden()
    exactly_one_ballot(stack, poll_id, voter, "tea")
    check_consoles(console)


def test_a_refusal_other_than_429_is_not_resent(running_stack, browser):
    stack = running_stack
    poll_id = "retry-refused"
    create_poll(stack, poll_id, "Refused (e2e)", CANDIDATES)
    voter = new_voter(stack, "retry-refused-voter")
    page, console = vote_page(browser, stack, poll_id, voter, "vote page, 403")
    console.expect("/votes/tea", "403")
    refused = stand_in(stack, 403, "ForbiddenError", "You are not on this poll's roll.")
    votes = VoteRoute(page, f"{stack.api}/votes/tea", lambda n, route: answer(route, refused))
    page.locator(CHOICE.format("tea")).tap()
    expect(page.locator("#outcome")).to_have_text("You are not on this poll's roll.")
    expect(page.locator(CHOICE.format("tea"))).to_be_enabled()  # the vote is over: nothing more is on its way
    assert len(votes.sent) == 1
    mine = requests.get(f"{stack.api}/votes/mine", params={"poll_id": poll_id},
                        headers={"Authorization": f"Bearer {id_token(stack, voter)}"}, timeout=10)
    assert mine.status_code == 404
    check_consoles(console)
