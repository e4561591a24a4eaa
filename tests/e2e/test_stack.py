"""`make run`'s stack end to end: sign in through Cognito as a client would, create a poll, vote, read back."""
import json
import shlex
import stat
import subprocess
import sys

import requests

from devstack.stack import LocalStack, default_state_dir
from tests.e2e.conftest import ROOT, wait_for


def signed_in(stack, username, password=None):
    return {"Authorization": f"Bearer {stack.token(username, password)}"}


def test_a_voter_signs_in_votes_and_reads_the_ballot_back(running_stack):
    stack = running_stack
    config = requests.get(f"{stack.api}/config", timeout=5).json()
    assert config["cognito_endpoint"] == stack.info["moto_url"] and config["client_id"] == stack.info["client_id"]

    operator = signed_in(stack, stack.operator["username"])
    created = requests.post(f"{stack.api}/polls", headers=operator, timeout=5,
                            json={"poll_id": "lunch", "title": "Lunch?", "candidates": ["soup", "salad"]})
    assert created.status_code == 201, created.text

    voter = signed_in(stack, "vic", stack.create_user("vic"))
    vote = requests.post(f"{stack.api}/votes/soup", headers=voter, json={"poll_id": "lunch"}, timeout=5)
    assert vote.status_code == 201, vote.text
    again = requests.post(f"{stack.api}/votes/soup", headers=voter, json={"poll_id": "lunch"}, timeout=5)
    assert again.status_code == 200 and again.json() == vote.json()
    assert requests.post(f"{stack.api}/votes/salad", headers=voter, json={"poll_id": "lunch"},
                         timeout=5).status_code == 409
    mine = requests.get(f"{stack.api}/votes/mine", params={"poll_id": "lunch"}, headers=voter, timeout=5)
    assert mine.status_code == 200 and mine.json() == vote.json()

    forged = {"Authorization": voter["Authorization"][:-4] + "AAAA"}
    assert requests.get(f"{stack.api}/polls", headers=forged, timeout=5).status_code == 401
    assert requests.post(f"{stack.api}/polls/lunch/close", headers=voter, timeout=5).status_code == 403


def test_the_demo_poll_is_seeded_and_open(running_stack):
    stack = running_stack
    operator = signed_in(stack, stack.operator["username"])
    demo = requests.get(f"{stack.api}/polls/demo", headers=operator, timeout=5).json()
    assert demo["status"] == "open" and len(demo["candidates"]) == 3


def test_sigterm_stops_every_process_the_stack_started(tmp_path):
    stack = LocalStack.start(tmp_path)
    children = list(stack.children().values())
    assert len(children) >= 2
    assert stack.stop() == 0  # SIGTERM, and the supervisor's exit status
    wait_for(lambda: not any(_alive(pid) for pid in children), 10, "the children exiting")
    assert not (tmp_path / "stack.json").exists()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_the_command_line_client_makes_a_voter_votes_and_shows_the_poll(running_stack):
    stack = running_stack
    env = {"TALLY_API_URL": stack.api, "TALLY_STATE_DIR": str(stack.state_dir), "PATH": "/usr/bin:/bin"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=stack.state_dir, capture_output=True,
                              text=True, timeout=60)

    first = cli("vote", "funghi", "--as", "cleo", "--poll", "demo")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("201 voted funghi in demo")
    other = cli("vote", "pineapple", "--as", "cleo", "--poll", "demo")
    assert other.returncode == 1 and "already voted for funghi" in other.stderr
    shown = cli("poll", "demo", "--as", "cleo")
    assert shown.returncode == 0 and "you voted funghi" in shown.stdout


def test_the_files_that_hold_passwords_and_keys_are_for_their_owner_only(running_stack):
    import stat
    for name in ("stack.json", "operator.json", "voter-key"):
        mode = stat.S_IMODE((running_stack.state_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"


def test_a_client_stalled_mid_request_holds_up_no_other_request_to_moto(running_stack):
    """moto serves one request at a time (atomic conditional writes); a client that stops between its headers and
    its body (a SIGSTOPped process) must not keep the others waiting."""
    import socket
    import time
    from urllib.parse import urlsplit

    moto = urlsplit(running_stack.info["moto_url"])
    with socket.create_connection((moto.hostname, moto.port), timeout=5) as stalled:
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                        b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        running_stack.idp.list_user_pools(MaxResults=5)
        assert time.monotonic() - started < 2


def run_cli(argv, **env):
    return subprocess.run([sys.executable, "-m", "cli", *argv], env={"PATH": "/usr/bin:/bin", **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_banners_cli_commands_work_for_the_ports_and_state_dir_in_use(running_stack):
    """The stack runs on free ports from a temporary state dir: the commands its banner prints must reach it."""
    log = (running_stack.state_dir / "devstack.log").read_text()
    commands = [line.strip() for line in log.splitlines() if line.strip().startswith(".venv/bin/python -m cli")]
    assert len(commands) == 2, log
    assert f"make reset STATE_DIR={running_stack.state_dir.resolve()}" in log
    for command in commands:
        assert f"--state-dir {running_stack.state_dir.resolve()}" in command
        ran = run_cli(shlex.split(command)[3:])
        assert ran.returncode == 0, f"{command}: {ran.stderr}"
    assert "voted margherita in demo" in run_cli(shlex.split(commands[0])[3:]).stdout


def test_the_state_dir_alone_names_the_stack_and_a_url_alone_writes_no_password_anywhere(running_stack, tmp_path):
    state_dir = str(running_stack.state_dir)
    voted = run_cli(["vote", "pineapple", "--as", "sami", "--poll", "demo"], TALLY_STATE_DIR=state_dir)
    assert voted.returncode == 0 and voted.stdout.startswith("201 voted pineapple in demo"), voted.stderr
    voters = running_stack.state_dir / "voters.json"
    assert stat.S_IMODE(voters.stat().st_mode) == 0o600 and "sami" in json.loads(voters.read_text())

    default_voters = default_state_dir() / "voters.json"
    before = default_voters.read_bytes() if default_voters.exists() else None
    refused = subprocess.run([sys.executable, "-m", "cli", "--api", running_stack.api, "voter", "add", "tess"],
                             env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "pass --state-dir DIR" in refused.stderr, refused.stderr
    assert (default_voters.read_bytes() if default_voters.exists() else None) == before
    assert not list(tmp_path.iterdir()) and "tess" not in json.loads(voters.read_text())


def test_close_says_when_the_poll_closes(running_stack):
    state = ["--state-dir", str(running_stack.state_dir)]
    assert run_cli([*state, "create-poll", "Soon closed?", "yes", "no", "--id", "soon"]).returncode == 0
    closed = run_cli([*state, "close", "soon"])
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.startswith("200 poll soon closes at 20") and "is now" not in closed.stdout
