"""A roll poll on the operator dashboard, in Chromium against the whole local stack (issue 14): the operator
creates a roll poll with the form, uploads its roll (a CSV file with a header row and blank lines, then a pasted
list), sees the batches' progress, a resent batch, a malformed entry named by its line, and the summary; voters on
the roll vote through the API and the dashboard's turnout follows; the results download as CSV from a blob: URL
under the page's Content-Security-Policy. Then the operator opens the roll's members, a page at a time, and takes
voters off it: one who has not voted (who then cannot vote), and one who has (who stays); once the poll is closed,
its roll is final and the list offers no removal.

The page sends ?roll_batch=3 entries a request (250 by default), so that a short roll takes several batches, and a
stand-in cuts the roll's first page to 3 entries (the API's pages hold 100), so that "Show more" shows.
The pure parsing and batching (dashboard/js/roll.js) also have unit tests in Node: tests/js/roll.test.mjs, run
here by the first test.
"""
import csv
import io
import json
import re
import shutil
import subprocess

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT
from tests.e2e.dashboard_browser import (
    OPERATOR_SCREEN,
    api_vote,
    check_consoles,
    new_voter,
    open_page,
    operator_headers,
    seconds_until,
    settled_screenshot,
    sign_in,
    site_of,
)

pytestmark = pytest.mark.e2e

POLL = "board-e2e"
TITLE = "Board election (e2e)"
TURNOUT_DEADLINE_MS = 20_000  # a vote reaches the results through the stream in about a second

ROSTER = (
    "Name,Username,Team\r\n"
    "Ann,roll-ann,red\r\n"
    "\r\n"
    "Bob,roll-bob,blue\r\n"
    "Cy,roll-cy,red\r\n"
    ",,\r\n"
    "Zed,,green\r\n"
    "Nobody,roll-nobody,none\r\n"
    "Dee,roll-dee,blue\r\n"
    "Ann again,ROLL-ANN,red\r\n"
)


def test_roll_parsing_and_batching_in_node():
    node = shutil.which("node")
    assert node, "Node.js is missing: `make test` installs it with npm (apt-get install -y nodejs npm)"
    ran = subprocess.run([node, "--test", "tests/js/"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert "# fail 0" in ran.stdout


class RollPosts:
    """Every POST /polls/{POLL}/roll of the page; the n-th (0-based) in `unavailable` is answered 503 by a stand-in
    (the batch is not sent on), the rest go through to the API."""

    def __init__(self, page, stack, unavailable=()):
        self.count = 0
        self.unavailable = set(unavailable)
        cors = {k: v for k, v in requests.get(f"{stack.api}/health", timeout=5).headers.items()
                if k.lower().startswith("access-control-")}
        self.stand_in = {"status": 503, "headers": {**cors, "Content-Type": "application/json"},
                         "body": json.dumps({"Code": "ServiceUnavailableError", "Message": "Try again."})}
        self.bodies = []
        page.route(f"{stack.api}/polls/{POLL}/roll", self._route)

    def _route(self, route):
        if route.request.method != "POST":
            return route.continue_()
        n = self.count
        self.count += 1
        self.bodies.append(json.loads(route.request.post_data))
        if n in self.unavailable:
            return route.fulfill(**self.stand_in)
        return route.continue_()


class ShortFirstPage:
    """GET /polls/{POLL}/roll (the roll's first page; the pages after it have ?next=) answered from the API's own
    answer cut to its first `entries`, with the next page's token (the last username of the page) to match."""

    def __init__(self, page, stack, entries=3):
        self.entries = entries
        page.route(f"{stack.api}/polls/{POLL}/roll", self._route)

    def _route(self, route):
        if route.request.method != "GET":
            return route.fallback()
        answer = route.fetch()
        body = answer.json()
        if len(body["voters"]) > self.entries:
            body["voters"] = body["voters"][:self.entries]
            body["next"] = body["voters"][-1]["username"]
        return route.fulfill(response=answer, json=body)


class RemovalPosts:
    """Every POST /polls/{POLL}/roll/remove of the page, with its voters; the n-th (0-based) in `unavailable` is
    answered 503 by a stand-in (not sent on), the rest go through to the API."""

    def __init__(self, page, stack, stand_in, unavailable=()):
        self.voters = []
        self.stand_in = stand_in
        self.unavailable = set(unavailable)
        page.route(f"{stack.api}/polls/{POLL}/roll/remove", self._route)

    def _route(self, route):
        n = len(self.voters)
        self.voters.append(json.loads(route.request.post_data)["voters"])
        if n in self.unavailable:
            return route.fulfill(**self.stand_in)
        return route.continue_()


def members(page) -> list:
    return page.locator("#roll-member-list .roll-member-name").all_inner_texts()


def summary(page) -> dict:
    return {name: page.locator(f"#roll-{name}").inner_text() for name in ("added", "already", "invited",
                                                                          "unknown-count")}


ON_ROLL = sorted(["roll-ann", "roll-bob", "roll-cy", "roll-dee", "roll-eve", "new.member@example.org"])


class RollJourney:
    """A roll poll's life on the dashboard, in steps: each test_roll_journey_ test takes it one step on from where
    the one before left it (they run in the order written), so that a step that fails still lets the later ones
    run and report."""

    def __init__(self, stack, browser, screenshots):
        self.stack, self.screenshots = stack, screenshots
        self.voters = {name: new_voter(stack, name)
                       for name in ("roll-ann", "roll-bob", "roll-cy", "roll-dee", "roll-eve")}
        self.outsider = new_voter(stack, "roll-outsider")
        self.dash, self.console = open_page(browser, OPERATOR_SCREEN, "dashboard")
        self.posts = RollPosts(self.dash, stack, unavailable={1})  # the second batch is refused once, then resent
        ShortFirstPage(self.dash, stack, entries=3)
        # the first removal is refused once
        self.removals = RemovalPosts(self.dash, stack, self.posts.stand_in, unavailable={0})
        self.console.expect(f"/polls/{POLL}/roll", "503")  # and /roll/remove's 503
        self.console.expect(f"/polls/{POLL}/roll", "400")  # the malformed entry


@pytest.fixture(scope="module")
def journey(running_stack, browser, screenshots):
    return RollJourney(running_stack, browser, screenshots)


def test_roll_journey_a_roll_poll_made_with_the_form_shows_the_roll_panel_with_an_empty_roll(journey):
    stack, dash = journey.stack, journey.dash
    dash.goto(f"{site_of(stack)}?roll_batch=3")
    sign_in(dash, stack.info["operator"])
    expect(dash.locator("#who")).to_have_text("operator")
    dash.get_by_label("Title", exact=True).fill(TITLE)
    dash.get_by_label("Candidates").fill("Ann for chair\nBob for chair\n")
    dash.get_by_label("only the voters on its roll").check()
    dash.get_by_text("Id, schedule, results visibility and expected load").click()
    dash.get_by_label("Poll id").fill(POLL)
    dash.get_by_label("Opens at").fill("2099-01-01T10:00:00")  # scheduled: its roll is made, and corrected, first
    dash.get_by_role("button", name="Create poll").click()
    expect(dash.locator("#notice")).to_contain_text(f"Created “{TITLE}” (id {POLL})")
    expect(dash.locator("#notice")).to_contain_text("Only the voters on its roll can vote")
    expect(dash.locator(f'.poll-item[data-poll="{POLL}"] .poll-meta')).to_have_text(f"{POLL} · 2 candidates · roll")
    expect(dash.locator("#roll-title")).to_have_text(f"Roll of “{TITLE}”")
    expect(dash.locator("#roll-size")).to_have_text("0 voters on the roll")
    expect(dash.locator("#turnout")).to_be_visible()
    expect(dash.locator("#turnout-figures")).to_have_text("· 0 of 0 voters on the roll have voted")
    poll = requests.get(f"{stack.api}/polls/{POLL}", headers=operator_headers(stack), timeout=10).json()
    assert poll["electorate"] == "roll"


def test_roll_journey_a_csv_file_with_a_header_row_and_blank_lines_goes_by_its_username_column_in_batches(journey):
    dash, posts = journey.dash, journey.posts
    dash.get_by_label("Voters from a CSV file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER.encode()}])
    expect(dash.locator("#roll-found")).to_have_text(
        "6 entries in “roster.csv”, column “username” (1 row without one skipped).")
    dash.get_by_role("button", name="Add to the roll").click()
    expect(dash.locator("#roll-progress-text")).to_have_text("All 6 entries sent.")
    expect(dash.locator("#roll-progress")).to_have_js_property("value", 6)
    expect(dash.locator("#roll-progress")).to_have_js_property("max", 6)
    assert posts.count == 3, posts.bodies  # two batches, the second sent twice after its 503
    assert posts.bodies[1] == posts.bodies[2] == {"voters": ["roll-nobody", "roll-dee", "ROLL-ANN"], "invite": False}
    expect(dash.locator("#roll-summary-title")).to_have_text(f"Added to the roll of “{TITLE}”")
    assert summary(dash) == {"added": "4", "already": "1", "invited": "0", "unknown-count": "1"}
    expect(dash.locator("#roll-unknown")).to_have_attribute("open", "")
    expect(dash.locator("#roll-unknown-list li")).to_have_text(["roll-nobody"])
    expect(dash.locator("#roll-size")).to_have_text("4 voters on the roll")
    expect(dash.locator("#turnout-figures")).to_have_text("· 0 of 4 voters on the roll have voted")


def test_roll_journey_a_malformed_entry_in_a_pasted_list_is_named_by_its_line_and_the_list_is_sent_again(journey):
    stack, dash = journey.stack, journey.dash
    invite_list = "roll-eve\nroll-fay; roll-gus\nnew.member@example.org\n"
    dash.get_by_label("Or paste a list").fill(invite_list + "John Smith\n")
    expect(dash.locator("#roll-found")).to_have_text("5 entries in the list.")
    dash.get_by_label("Invite missing accounts by email").check()
    dash.get_by_role("button", name="Add to the roll").click()
    # The API's message, with its "voters[1]" (of the second batch) told as the line of the list.
    expect(dash.locator("#roll-error")).to_contain_text("Not a username or email address: line 4 (“John Smith”) (")
    expect(dash.locator("#roll-error")).not_to_contain_text("voters[")
    expect(dash.locator("#roll-error")).to_contain_text("Nothing from line 3 on was added")
    expect(dash.locator("#roll-error")).to_contain_text("The 3 entries before lines 3 to 4 were sent.")
    expect(dash.locator("#roll-progress-text")).to_have_text("Stopped after 3 of 5 entries.")
    expect(dash.locator("#roll-summary-title")).to_have_text(f"Before it stopped (roll of “{TITLE}”)")
    assert summary(dash) == {"added": "1", "already": "0", "invited": "0", "unknown-count": "2"}
    expect(dash.locator("#roll-size")).to_have_text("5 voters on the roll")
    # The list stays, to be corrected and sent again: what went through already counts as already.
    dash.get_by_label("Or paste a list").fill(invite_list)
    dash.get_by_role("button", name="Add to the roll").click()
    expect(dash.locator("#roll-progress-text")).to_have_text("All 4 entries sent.")
    assert summary(dash) == {"added": "1", "already": "1", "invited": "1", "unknown-count": "2"}
    expect(dash.locator("#roll-unknown-list li")).to_have_text(["roll-fay", "roll-gus"])
    expect(dash.locator("#roll-size")).to_have_text("6 voters on the roll")
    expect(dash.locator("#turnout-figures")).to_have_text("· 0 of 6 voters on the roll have voted",
                                                         timeout=TURNOUT_DEADLINE_MS)
    expect(dash.get_by_label("Invite missing accounts by email")).not_to_be_checked()  # the form starts afresh
    invited = stack.idp.admin_get_user(UserPoolId=stack.info["user_pool_id"], Username="new.member@example.org")
    assert invited["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_roll_journey_a_long_list_of_unknown_entries_is_folded(journey):
    dash = journey.dash
    dash.get_by_label("Or paste a list").fill(",".join(f"ghost-{n}" for n in range(12)))
    dash.get_by_role("button", name="Add to the roll").click()
    expect(dash.locator("#roll-progress-text")).to_have_text("All 12 entries sent.")
    expect(dash.locator("#roll-unknown-count")).to_have_text("12")
    expect(dash.locator("#roll-unknown")).not_to_have_attribute("open", "")
    expect(dash.locator("#roll-unknown-list li").first).to_be_hidden()
    dash.locator("#roll-unknown-summary").click()
    expect(dash.locator("#roll-unknown-list li")).to_have_count(12)
    expect(dash.locator("#roll-unknown-list li").last).to_be_visible()

    dash.locator("#roll-panel").screenshot(path=journey.screenshots / "roll-panel.png")
    dash.evaluate("window.scrollTo(0, 0)")
    settled_screenshot(dash, journey.screenshots / "roll-dashboard.png")


def test_roll_journey_the_members_are_folded_under_their_count_and_shown_a_page_at_a_time(journey):
    """The stand-in's pages hold 3."""
    dash = journey.dash
    fold = dash.locator("#roll-members-summary")
    expect(fold).to_have_text("On the roll (6)")
    expect(dash.locator("#roll-member-list")).to_be_hidden()
    fold.click()
    expect(dash.locator("#roll-member-list .roll-member")).to_have_count(3)
    assert members(dash) == ON_ROLL[:3]
    expect(dash.locator("#roll-members-status")).to_have_text("3 of 6 voters shown, by username.")
    ann = dash.locator('#roll-member-list .roll-member[data-username="roll-ann"]')
    expect(ann.locator(".roll-member-added")).to_have_text(re.compile(r"^added \S"))
    dash.get_by_role("button", name="Show more").click()
    expect(dash.locator("#roll-member-list .roll-member")).to_have_count(6)
    assert members(dash) == ON_ROLL
    expect(dash.get_by_role("button", name="Show more")).to_be_hidden()
    expect(dash.locator("#roll-members-status")).to_have_text("")


def test_roll_journey_one_who_has_not_voted_is_taken_off_after_one_confirmation(journey):
    """Asked once; the first try gets a 503 and is sent again."""
    dash, removals = journey.dash, journey.removals
    dash.get_by_role("button", name="Remove roll-dee from the roll").click()
    dash.get_by_role("button", name="Cancel").click()  # thought better of it: nothing is sent
    expect(dash.get_by_role("button", name="Remove roll-dee from the roll")).to_be_focused()
    assert removals.voters == []
    dash.get_by_role("button", name="Remove roll-cy from the roll").click()
    expect(dash.locator(".roll-member[data-username='roll-cy'] .confirm-text")).to_contain_text(
        "Take roll-cy off the roll?")
    dash.get_by_role("button", name="Remove roll-cy", exact=True).click()
    expect(dash.locator("#roll-removal")).to_have_text("roll-cy can no longer vote in this poll.")
    assert removals.voters == [["roll-cy"], ["roll-cy"]]  # the resend after the 503
    expect(dash.locator("#roll-size")).to_have_text("5 voters on the roll")
    expect(dash.locator("#roll-members-summary")).to_have_text("On the roll (5)")
    expect(dash.locator("#roll-member-list .roll-member")).to_have_count(5)  # read again as far as shown
    assert members(dash) == [name for name in ON_ROLL if name != "roll-cy"]
    expect(dash.locator("#turnout-figures")).to_have_text("· 0 of 5 voters on the roll have voted",
                                                         timeout=TURNOUT_DEADLINE_MS)
    dash.locator("#roll-panel").screenshot(path=journey.screenshots / "roll-members.png")


def test_roll_journey_once_the_poll_opens_no_one_leaves_the_roll(journey):
    """A removal would then say whether they had voted."""
    stack, dash = journey.stack, journey.dash
    opened = requests.post(f"{stack.api}/polls/{POLL}/open", headers=operator_headers(stack), timeout=10)
    assert opened.status_code == 200, opened.text
    expect(dash.locator("#roll-member-list button")).to_have_count(0, timeout=TURNOUT_DEADLINE_MS)
    expect(dash.locator("#roll-member-list .roll-member")).to_have_count(5)
    expect(dash.locator("#roll-form")).to_be_visible()  # it can still grow


def test_roll_journey_voters_on_the_roll_vote_and_the_turnout_moves(journey):
    """Through the API, with their own tokens."""
    stack, dash, voters = journey.stack, journey.dash, journey.voters
    assert api_vote(stack, journey.outsider, POLL, "ann-for-chair").status_code == 403  # not on the roll
    assert api_vote(stack, voters["roll-ann"], POLL, "ann-for-chair").status_code == 201
    expect(dash.locator("#turnout-figures")).to_have_text("· 1 of 5 voters on the roll has voted",
                                                         timeout=TURNOUT_DEADLINE_MS)
    expect(dash.locator("#turnout-share")).to_have_text("20%")
    assert api_vote(stack, voters["roll-cy"], POLL, "ann-for-chair").status_code == 403  # taken off before
    assert api_vote(stack, voters["roll-bob"], POLL, "bob-for-chair").status_code == 201
    expect(dash.locator("#turnout-figures")).to_have_text("· 2 of 5 voters on the roll have voted",
                                                         timeout=TURNOUT_DEADLINE_MS)
    expect(dash.locator("#turnout-share")).to_have_text("40%")
    expect(dash.locator("#total")).to_have_text("2")


def test_roll_journey_the_results_download_as_csv_from_a_blob_url_under_the_pages_csp(journey):
    """Fetched with the operator's token."""
    dash = journey.dash
    with dash.expect_download() as download_info:
        dash.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"{POLL}-results.csv"
    assert download.url.startswith("blob:")
    with open(download.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert rows[0] == ["section", "id", "label", "votes", "share", "at", "seconds"]
    assert rows[1][:4] == ["poll", POLL, TITLE, "2"]
    assert ["candidate", "ann-for-chair", "Ann for chair", "1", "0.5", "", ""] in rows
    assert ["turnout", "cast", "ballots cast", "2", "0.4", "", ""] in rows
    assert ["turnout", "roll", "voters on the roll", "5", "", "", ""] in rows
    assert any(r[0] == "timeline" for r in rows)
    expect(dash.locator("#notice")).not_to_have_attribute("data-kind", "error")


def test_roll_journey_once_the_poll_is_closed_its_roll_is_final_and_offers_no_removal(journey):
    stack, dash = journey.stack, journey.dash
    closing = requests.post(f"{stack.api}/polls/{POLL}/close", headers=operator_headers(stack), timeout=10)
    assert closing.status_code == 200, closing.text
    deadline_ms = seconds_until(closing.json()["closes_at"], 10) * 1000
    expect(dash.locator("#roll-closed")).to_be_visible(timeout=deadline_ms)
    expect(dash.locator("#roll-member-list button")).to_have_count(0)
    expect(dash.locator("#roll-member-list .roll-member")).to_have_count(5)
    expect(dash.locator("#roll-form")).to_be_hidden()


def test_roll_journey_the_dashboard_logged_no_unexpected_error(journey):
    check_consoles(journey.console)
