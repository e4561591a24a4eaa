"""The whole local stack, started exactly as `make run` starts it, on free ports."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from devstack.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


class RunningStack:
    def __init__(self, process, state_dir, info):
        self.process = process
        self.state_dir = state_dir
        self.info = info
        self.api = info["api_url"]
        self.idp = boto3.client("cognito-idp", endpoint_url=info["moto_url"], region_name=info["region"],
                                aws_access_key_id="local", aws_secret_access_key="local")


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
    state_dir = tmp_path_factory.mktemp("stack")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TALLY_"))}
    env.update(environment)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--api-port", str(free_port()), "--moto-port", str(free_port()),
         "--static-port", str(free_port()), "--state-dir", str(state_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    stack_file = state_dir / "stack.json"
    try:
        wait_for(lambda: stack_file.exists() or process.poll() is not None, 60, "the stack coming up")
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited: {process.stdout.read()}")
        yield RunningStack(process, state_dir, json.loads(stack_file.read_text()))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory):
    with start_stack(tmp_path_factory) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser():
    """Chromium from Debian, driven by Playwright (no browser is downloaded), for the dashboard and vote page."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.dashboard_browser import CHART_LIBRARY, CHROMIUM, CHROMIUM_ARGS

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
