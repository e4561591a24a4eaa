"""What one voter's visit asks of the API: open the join link, sign in, vote, then watch for five minutes.

A Chromium phone (Debian's, through Playwright) opens vote.html?poll=ID, signs in with the form, votes, and keeps
the page open while its clock (Playwright's, installed before the page loads) runs on a second at a time, so five
minutes of the page's timers take seconds. Every request the page sends to the API is counted by method and
path, CORS preflights included (Chromium's DevTools protocol reports them; Playwright does not).

Of those, the ones that reach the API function on a deployed stage are what the visit costs at the origin: not
the preflights (API Gateway answers them itself), not the public, cacheable routes (/public/..., /config,
/health: the CDN answers them). tests/e2e/test_vote_page_results.py holds today's page to 3.

The baseline is the same visit on an earlier commit's vote page: start that commit's stack (its own
`python -m devstack --state-dir DIR`) and give its stack.json with --stack. Sign-in itself goes to Cognito, not
the API, and is not counted here.

Run:  .venv/bin/python -m bench.visit_requests [--stack DIR/stack.json] [--minutes 5]
The last line printed is a JSON object with every figure.
"""
import argparse
import json
import time
from collections import Counter
from typing import Dict, List, Tuple
from urllib.parse import urlsplit

from bench.harness import bench_stack, create_polls
from devstack.stack import LocalStack

CHROMIUM = "/usr/bin/chromium"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
CACHEABLE = ("/public/", "/config", "/health")


class ApiRequests:
    """The page's requests to the API as (method, path), and how many are still on their way."""

    def __init__(self, page, api: str):
        self.page, self.api = page, api
        self.sent: List[Tuple[str, str]] = []
        self.open: set = set()
        page.on("request", self._sent)
        # A revalidation in the background (stale-while-revalidate) gets its response but never "finished".
        page.on("response", lambda response: self._done(response.request))
        page.on("requestfinished", self._done)
        page.on("requestfailed", self._done)
        # Playwright does not report CORS preflights; Chromium's DevTools protocol does.
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._preflight)
        cdp.send("Network.enable")

    def _sent(self, request) -> None:
        if request.url.startswith(self.api):
            self.sent.append((request.method, urlsplit(request.url).path))
            self.open.add(request)

    def _done(self, request) -> None:
        self.open.discard(request)

    def _preflight(self, event: dict) -> None:
        request = event["request"]
        if request["method"] == "OPTIONS" and request["url"].startswith(self.api):
            self.sent.append(("OPTIONS", urlsplit(request["url"]).path))

    def settle(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while self.open:
            if time.monotonic() > deadline:
                raise TimeoutError(f"requests still open after {seconds} s: {self.open}")
            self.page.wait_for_timeout(5)  # lets Playwright deliver the request events meanwhile
        self.page.wait_for_timeout(5)  # and the page handle the last answer (and set its next timer)

    def reaching_function(self) -> List[Tuple[str, str]]:
        """What a deployed stage's function answers: not CORS preflights (API Gateway answers those itself), not
        the public, cacheable routes (the CDN answers those)."""
        return [(method, path) for method, path in self.sent
                if method != "OPTIONS" and not path.startswith(CACHEABLE)]

    def summary(self) -> Dict[str, int]:
        return dict(Counter(f"{method} {path}" for method, path in self.sent))


def visit(stack: LocalStack, browser, poll_id: str, minutes: int) -> ApiRequests:
    username = f"visitor-{time.time_ns()}"
    password = stack.create_user(username)
    page = browser.new_context(**PHONE).new_page()
    requests = ApiRequests(page, stack.api)
    page.clock.install()
    page.goto(f"{stack.info['dashboard_url'].rstrip('/')}/vote.html?poll={poll_id}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    choice = page.locator('button.choice[data-candidate="red"]')
    choice.wait_for(state="visible", timeout=20_000)
    page.wait_for_function("(b) => !b.disabled", arg=choice.element_handle(), timeout=20_000)
    choice.tap()
    page.locator("#outcome").filter(has_text="is in").wait_for(timeout=20_000)
    requests.settle()
    for _second in range(minutes * 60):
        page.clock.run_for(1000)
        requests.settle()
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="a running stack's stack.json (e.g. an earlier commit's); default: our own")
    parser.add_argument("--minutes", type=int, default=5, help="how long the voter watches after voting")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with bench_stack(args.stack) as (stack, _meter), sync_playwright() as playwright:
        poll_id = f"visit-{time.time_ns()}"
        create_polls(stack, [poll_id])
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            requests = visit(stack, browser, poll_id, args.minutes)
        finally:
            browser.close()
    by_path = requests.summary()
    reaching = requests.reaching_function()
    for line, count in sorted(by_path.items(), key=lambda item: -item[1]):
        print(f"{count:5d}  {line}")
    preflights = sum(1 for method, _path in requests.sent if method == "OPTIONS")
    print(f"a {args.minutes}-minute visit: {len(requests.sent)} API requests, {preflights} of them preflights, "
          f"{len(reaching)} reach the function")
    print(json.dumps({"minutes": args.minutes, "requests": len(requests.sent), "preflights": preflights,
                      "reaching_function": len(reaching), "by_path": by_path}))


if __name__ == "__main__":
    main()
