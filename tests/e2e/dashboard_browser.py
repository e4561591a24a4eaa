"""Helpers for the browser tests of the dashboard and the vote page: Playwright on Debian's Chromium."""
import re
from pathlib import Path
from typing import List, Tuple

import requests

from devstack import cognito

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
CHART_LIBRARY = ROOT / "dashboard" / "vendor" / "chart.umd.min.js"
OPERATOR_SCREEN = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

# Chromium reports every answer of 400 or more as a console error, "Failed to load resource: the server
# responded with a status of 404 (...)", with the URL as its location; refused connections likewise as
# "Failed to load resource: net::ERR_...". A page whose own code logs or throws makes other messages.
FAILED_LOAD = re.compile(r"^Failed to load resource: (?:the server responded with a status of (\d{3})|net::(\S+))")


class ConsoleWatch:
    """Every console error and uncaught exception of one page. The only ones a test may accept are answers it
    expects the API (or Cognito) to refuse, each named by a part of its URL and its status."""

    def __init__(self, page, name: str):
        self.name = name
        self.errors: List[Tuple[str, str]] = []  # (text, url)
        self.expected: List[Tuple[str, str]] = []  # (url part, status or net:: error)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append((f"uncaught: {error}", "")))

    def _console(self, message):
        if message.type in ("error", "assert"):
            self.errors.append((message.text, message.location.get("url", "")))

    def expect(self, url_part: str, status: str) -> None:
        """Accept console lines for a refusal the test provokes on purpose (e.g. "/votes/", "409")."""
        self.expected.append((url_part, status))

    def unexpected(self) -> List[str]:
        found = []
        for text, url in self.errors:
            match = FAILED_LOAD.match(text)
            if match and any(part in url and status in (match.group(1), match.group(2))
                             for part, status in self.expected):
                continue
            found.append(f"{self.name}: {text} ({url})")
        return found


def check_consoles(*watches: ConsoleWatch) -> None:
    problems = [line for watch in watches for line in watch.unexpected()]
    assert not problems, "console errors:\n" + "\n".join(problems)


def new_voter(stack, name: str) -> dict:
    password = cognito.new_password()
    cognito.create_user(stack.idp, stack.info["user_pool_id"], name, password)
    return {"username": name, "password": password}


def id_token(stack, account: dict) -> str:
    return cognito.sign_in(stack.idp, stack.info["client_id"], account["username"], account["password"])["IdToken"]


def api_vote(stack, account: dict, poll_id: str, candidate: str) -> requests.Response:
    return requests.post(f"{stack.api}/votes/{candidate}", json={"poll_id": poll_id},
                         headers={"Authorization": f"Bearer {id_token(stack, account)}"}, timeout=10)


def sign_in(page, account: dict) -> None:
    page.get_by_label("Username").fill(account["username"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()


def chart_data(page, canvas_selector: str) -> list:
    """What Chart.js is drawing: the data of the chart on that canvas."""
    return page.evaluate("(s) => Chart.getChart(document.querySelector(s)).data.datasets[0].data", canvas_selector)


def settled_screenshot(page, path) -> None:
    """A screenshot once Chart.js has finished animating, so the bars show the figures and not a frame between."""
    page.wait_for_function("""() => [...document.querySelectorAll("canvas")]
        .map((canvas) => Chart.getChart(canvas)).every((chart) => !chart || !Chart.animator.running(chart))""")
    page.screenshot(path=path)
