"""Helpers for the browser tests of the dashboard and the vote page: Playwright on Debian's Chromium."""
import base64
import hashlib
import hmac
import json
import re
import struct
import time
from datetime import datetime, timezone
from typing import List, Optional, Tuple

import requests

from devstack import cognito
from tally_client import signin

# The two devices the pages are tried on (a test that measures a layout at other sizes gives them where it does).
OPERATOR_SCREEN = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# A candidate's button on the vote page: CHOICE.format(candidate_id).
CHOICE = 'button.choice[data-candidate="{}"]'

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
    password = signin.new_password()
    signin.create_user(stack.idp, stack.info["user_pool_id"], name, password)
    return {"username": name, "password": password}


def id_token(stack, account: dict) -> str:
    return signin.sign_in(stack.idp, stack.info["user_pool_id"], stack.info["client_id"], account["username"],
                           account["password"])["IdToken"]


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


def site_of(stack) -> str:
    assert stack.info["dashboard_url"], "the stack did not serve the dashboard (its port was in use?)"
    return stack.info["dashboard_url"]


def open_page(browser, device: dict, name: str):
    page = browser.new_context(**device).new_page()
    return page, ConsoleWatch(page, name)


def operator_headers(stack) -> dict:
    return {"Authorization": f"Bearer {id_token(stack, stack.info['operator'])}"}


def create_poll(stack, poll_id: str, title: str, candidates: list) -> dict:
    """An open poll, made through the API as the operator."""
    reply = requests.post(f"{stack.api}/polls", json={"poll_id": poll_id, "title": title, "candidates": candidates},
                          headers=operator_headers(stack), timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def results_total(stack, poll_id: str) -> int:
    reply = requests.get(f"{stack.api}/polls/{poll_id}/results", headers=operator_headers(stack), timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()["total"]


def local_time_input(page, seconds_ahead: float) -> str:
    """What a datetime-local field (step 1 s) holds for now + seconds_ahead, in the browser's zone."""
    return page.evaluate("""(ahead) => {
        const d = new Date(Date.now() + ahead * 1000);
        d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
        return d.toISOString().slice(0, 19);
    }""", seconds_ahead)


def seconds_until(instant: str, margin_s: float = 0.0) -> float:
    """Seconds from now until an API instant, plus a margin: a deadline for what happens at that instant."""
    return max(0.0, (datetime.fromisoformat(instant) - datetime.now(timezone.utc)).total_seconds()) + margin_s


class CognitoCalls:
    """Every request a page sends (to record that a password never leaves it), and its calls to Cognito's API
    (X-Amz-Target AWSCognitoIdentityProviderService.<Action>), with their JSON bodies."""

    def __init__(self, page, stack):
        self.endpoint = stack.info["moto_url"]
        self.sent: List[str] = []  # URL and body of every request
        self.calls: List[Tuple[str, dict]] = []
        page.on("request", self._request)

    def _request(self, request):
        body = request.post_data or ""
        self.sent.append(f"{request.url}\n{body}")
        target = request.headers.get("x-amz-target", "")
        if request.url.startswith(self.endpoint) and target.startswith("AWSCognitoIdentityProviderService."):
            self.calls.append((target.split(".", 1)[1], json.loads(body)))

    def of(self, action: str) -> List[dict]:
        return [body for name, body in self.calls if name == action]

    def actions(self) -> List[str]:
        return [name for name, _ in self.calls]

    def assert_srp_sign_in(self, account: dict) -> None:
        """The page signed in with SRP: InitiateAuth USER_SRP_AUTH with SRP_A, then PASSWORD_VERIFIER with a
        claim signature, and the password itself was in no request the page sent, to Cognito or anywhere."""
        (initiate,) = [b for b in self.of("InitiateAuth") if b["AuthFlow"] != "REFRESH_TOKEN_AUTH"]
        assert initiate["AuthFlow"] == "USER_SRP_AUTH", initiate["AuthFlow"]
        assert set(initiate["AuthParameters"]) == {"USERNAME", "SRP_A"}, initiate["AuthParameters"]
        assert initiate["AuthParameters"]["USERNAME"] == account["username"]
        verifier = [b for b in self.of("RespondToAuthChallenge") if b["ChallengeName"] == "PASSWORD_VERIFIER"]
        assert len(verifier) == 1, self.actions()
        assert {"PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SECRET_BLOCK", "TIMESTAMP"} <= set(
            verifier[0]["ChallengeResponses"])
        self.assert_never_sent(account["password"])

    def assert_never_sent(self, secret: str) -> None:
        assert self.sent, "no request was recorded"
        leaked = [line.split("\n", 1)[0] for line in self.sent if secret in line]
        assert not leaked, f"the password was sent to {leaked}"


def totp(secret: str, at: Optional[float] = None) -> str:
    """RFC 6238 (the codes authenticator apps show): HMAC-SHA1 over the 30-second step, 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    step = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def current_totp(secret: str, margin_s: float = 4.0) -> str:
    """The code for now, unless the step ends within margin_s: then the next step's, once it has begun (moto
    accepts the current step's code only)."""
    left = 30 - time.time() % 30
    if left < margin_s:
        time.sleep(left + 0.2)
    return totp(secret)


def new_operator(stack, name: str) -> dict:
    password = signin.new_password()
    signin.create_user(stack.idp, stack.info["user_pool_id"], name, password, [cognito.OPERATORS_GROUP])
    return {"username": name, "password": password}
