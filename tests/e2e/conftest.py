"""The whole local stack, started exactly as `make run` starts it, on free ports (devstack/stack.py's LocalStack)."""
import contextlib
import os
import time

import pytest
from playwright.sync_api import expect

from devstack.stack import LocalStack
from infra import project_root

ROOT = project_root()
# The browser the dashboard tests drive: Debian's Chromium (the Makefile installs it), without what it would
# otherwise fetch or sync in the background.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
CHART_LIBRARY = ROOT / "dashboard" / "vendor" / "chart.umd.min.js"  # built by `make dashboard`
# How long expect() waits for a page unless a step says longer, the same for every browser test: Playwright's 5 s
# default is short for a machine under load.
expect.set_options(timeout=10_000)


def wait_for(condition, deadline_seconds, what):
    deadline = time.monotonic() + deadline_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {deadline_seconds} s")
        time.sleep(0.05)


@contextlib.contextmanager
def start_stack(tmp_path_factory, **environment):
    """The stack as `make run` starts it, without the caller's AWS_* and TALLY_* settings, but with `environment`
    (e.g. TALLY_OPERATOR_MFA="required", the setting AWS stages have by default)."""
    with LocalStack.start(tmp_path_factory.mktemp("stack"), environment) as stack:
        yield stack


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory):
    with start_stack(tmp_path_factory) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser():
    """Chromium from Debian, driven by Playwright (no browser is downloaded), for the dashboard and vote page."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    if not CHART_LIBRARY.exists():
        pytest.fail(f"{CHART_LIBRARY.relative_to(ROOT)} is missing: `make test` builds it (`make dashboard`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")
