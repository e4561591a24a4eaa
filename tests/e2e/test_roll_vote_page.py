"""The vote page in a roll poll: a voter off the roll is told so and cannot vote; once the organisers add them,
the page lets them vote without a reload. In Chromium, against the whole local stack."""
import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.dashboard_browser import (
    CHOICE,
    PHONE,
    check_consoles,
    new_voter,
    open_page,
    operator_headers,
    sign_in,
    site_of,
)

pytestmark = pytest.mark.e2e


def test_a_voter_off_the_roll_is_told_so_and_votes_once_added(browser, running_stack):
    stack = running_stack
    reply = requests.post(f"{stack.api}/polls", headers=operator_headers(stack), timeout=10, json={
        "poll_id": "members-vote", "title": "Members' vote", "candidates": ["yes", "no"], "electorate": "roll"})
    assert reply.status_code == 201, reply.text
    member = new_voter(stack, "late-member")

    page, console = open_page(browser, PHONE, "vote page")
    console.expect("/votes/mine", "404")  # no vote yet
    page.goto(f"{site_of(stack)}vote.html?poll=members-vote")
    sign_in(page, member)
    expect(page.locator("#poll-title")).to_have_text("Members' vote")
    expect(page.locator("#outcome")).to_contain_text("not on it")
    expect(page.locator(CHOICE.format("yes"))).to_be_disabled()

    added = requests.post(f"{stack.api}/polls/members-vote/roll", headers=operator_headers(stack), timeout=10,
                          json={"voters": ["late-member"]})
    assert added.json() == {"added": 1, "already": 0, "invited": 0, "unknown": []}
    # No reload: the page looks at the poll again every 10 s (STATUS_EVERY_MS in vote.js).
    expect(page.locator(CHOICE.format("yes"))).to_be_enabled(timeout=30_000)
    page.locator(CHOICE.format("yes")).click()
    expect(page.locator("#outcome")).to_contain_text("is in")
    check_consoles(console)
