"""A local stack on a state directory that the kept-data tests stop, kill and start again (test_keeps_working.py,
test_durability.py), with the requests they make of it."""
import subprocess
import sys
from pathlib import Path

import requests

from devstack.stack import LocalStack
from tally_client import signin
from tests.e2e.conftest import ROOT, wait_for

CANDIDATES = ["red", "green", "blue"]


class Stack(LocalStack):
    """A stack started on a given state directory (devstack/stack.py), with what these tests ask of it."""

    def __init__(self, state_dir: Path):
        started = LocalStack.start(state_dir)
        super().__init__(started.state_dir, started.process)

    def log(self) -> str:
        return (self.state_dir / "devstack.log").read_text()

    def child(self, module: str) -> int:
        """The pid of the supervisor's child that runs `python -m <module>`."""
        return self.children()[module]

    def stop(self) -> None:
        assert super().stop() == 0, self.log()

    def headers(self, username: str, password: str) -> dict:
        return {"Authorization": f"Bearer {self.token(username, password)}"}

    def operator_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token(self.operator['username'])}"}

    def create_poll(self, poll_id: str) -> None:
        created = requests.post(f"{self.api}/polls", headers=self.operator_headers(), timeout=10,
                                json={"poll_id": poll_id, "title": poll_id, "candidates": CANDIDATES})
        assert created.status_code == 201, created.text

    def voters(self, prefix: str, count: int) -> list:
        """(username, password, headers) for `count` new voters."""
        made = []
        for i in range(count):
            password = signin.new_password()
            signin.create_user(self.idp, self.info["user_pool_id"], f"{prefix}-{i}", password)
            made.append((f"{prefix}-{i}", password, self.headers(f"{prefix}-{i}", password)))
        return made

    def vote(self, headers: dict, poll_id: str, candidate: str) -> requests.Response:
        return requests.post(f"{self.api}/votes/{candidate}", json={"poll_id": poll_id}, headers=headers, timeout=30)

    def results_total(self, poll_id: str) -> int:
        view = requests.get(f"{self.api}/polls/{poll_id}/results", headers=self.operator_headers(), timeout=10)
        assert view.status_code == 200, view.text
        return view.json()["total"]

    def deep_health(self) -> dict:
        reply = requests.get(f"{self.api}/health", params={"deep": "1"}, timeout=10)
        assert reply.status_code == 200
        return reply.json()

    def reconcile(self, poll_id: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli.reconcile", "--poll", poll_id, "--state-dir",
                               str(self.state_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60)


def caught_up(stack: Stack, poll_id: str, total: int, deadline: float = 30) -> None:
    wait_for(lambda: stack.results_total(poll_id) == total, deadline, f"the results of {poll_id} reaching {total}")
    check = stack.reconcile(poll_id)
    assert check.returncode == 0, check.stdout + check.stderr
