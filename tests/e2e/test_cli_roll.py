"""The command line's roll commands and the results export against a stack named by its state directory alone: a
roll poll made with --electorate roll, its roll filled from a CSV file (a header, blank lines, a bad line named by
its line number, a resend that adds nobody twice, batches of 1,000), shown, trimmed, and the results exported as
CSV."""
import csv
import io
import json
import subprocess
import sys

import pytest
import requests

from tally_client import signin
from tests.e2e.conftest import wait_for


@pytest.fixture(scope="module")
def cli(running_stack):
    """The CLI pointed at the stack by its state directory alone: the API's address comes from its stack.json."""
    env = {"PATH": "/usr/bin:/bin"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cli", "--state-dir", str(running_stack.state_dir), *args],
                              env=env, cwd=running_stack.state_dir, capture_output=True, text=True, timeout=180)
    return run


def signed_in(stack, username, password):
    return {"Authorization": f"Bearer {stack.token(username, password)}"}


def test_a_roll_from_a_csv_file_with_a_header_and_a_bad_line(running_stack, cli, tmp_path):
    stack = running_stack
    passwords = {name: stack.create_user(name) for name in ("rosa", "raul", "rhea", "remy", "oscar")}
    made = cli("create-poll", "Board election", "ann", "bob", "--id", "board", "--electorate", "roll",
               "--opens-at", "2099-01-01T00:00:00Z")  # scheduled: its roll can be corrected until it opens
    assert made.returncode == 0, made.stderr
    assert "created poll board" in made.stdout and "roll" in made.stdout

    members = tmp_path / "members.csv"
    members.write_text("Name,Username,Team\n"
                       "Rosa,rosa,red\n"
                       "\n"
                       "Raul,RAUL,red\n"
                       "Bad,two words,blue\n"
                       "Rhea,rhea,blue\n"
                       ",,\n"
                       "Remy,remy,blue\n"
                       "Ghost,ghost,grey\n")
    refused = cli("roll", "add", "board", str(members))
    assert refused.returncode == 1
    # The API names the entry (voters[3]); the command line names the file's line.
    assert f"{members} line 5" in refused.stderr and "voters[" not in refused.stderr, refused.stderr
    assert "Nothing of this batch was added" in refused.stderr
    shown = cli("--json", "roll", "show", "board")
    assert shown.returncode == 0 and json.loads(shown.stdout)["size"] == 0

    members.write_text(members.read_text().replace("Bad,two words,blue\n", ""))
    added = cli("roll", "add", "board", str(members))
    assert added.returncode == 0, added.stderr
    assert "5/5 sent" in added.stderr  # the running count
    assert "roll of board: 4 added, 0 already on the roll, 0 invited, 1 unknown" in added.stdout
    assert "unknown: ghost" in added.stdout
    again = cli("--json", "roll", "add", "board", str(members))
    assert json.loads(again.stdout) == {"poll_id": "board", "sent": 5, "added": 0, "already": 4, "invited": 0,
                                        "unknown": ["ghost"]}

    shown = cli("roll", "show", "board")
    assert shown.returncode == 0, shown.stderr
    assert "roll of board: 4 voters" in shown.stdout
    assert all(name in shown.stdout for name in ("rosa", "raul", "rhea", "remy"))

    removed = cli("roll", "remove", "board", "remy", "oscar", "nobody-here")
    assert removed.returncode == 0, removed.stderr
    assert "1 removed" in removed.stdout
    assert "oscar: was not on the roll" in removed.stdout and "nobody-here: names no account" in removed.stdout
    assert json.loads(cli("--json", "roll", "show", "board").stdout)["size"] == 3

    assert cli("open", "board").returncode == 0
    on = requests.post(f"{stack.api}/votes/ann", json={"poll_id": "board"}, timeout=10,
                       headers=signed_in(stack, "rosa", passwords["rosa"]))
    assert on.status_code == 201, on.text
    for name in ("oscar", "remy"):  # never on the roll, and taken off it
        off = requests.post(f"{stack.api}/votes/ann", json={"poll_id": "board"}, timeout=10,
                            headers=signed_in(stack, name, passwords[name]))
        assert off.status_code == 403
    # Open now: no one leaves the roll, voted (rosa) or not (raul), with the same refusal.
    refusals = [cli("roll", "remove", "board", name) for name in ("rosa", "raul")]
    assert [r.returncode for r in refusals] == [1, 1]
    assert refusals[0].stderr == refusals[1].stderr and "has opened" in refusals[0].stderr
    assert json.loads(cli("--json", "roll", "show", "board").stdout)["size"] == 3


def test_the_export_is_the_results_as_csv(running_stack, cli, tmp_path):
    stack = running_stack
    operator = {"Authorization": f"Bearer {stack.token(stack.operator['username'])}"}
    exported = []

    def counted() -> bool:
        exported[:] = list(csv.reader(io.StringIO(cli("export", "board").stdout)))
        return any(row[:2] == ["candidate", "ann"] and row[3] == "1" for row in exported)

    wait_for(counted, 30, "rosa's ballot in the export")  # the stream counts it within a second or two
    rows = exported
    assert rows[0] == ["section", "id", "label", "votes", "share", "at", "seconds"]
    assert rows[1][:4] == ["poll", "board", "Board election", "1"]
    turnout = {row[1]: row[3] for row in rows if row[0] == "turnout"}
    assert turnout == {"cast": "1", "roll": "3"}

    out = tmp_path / "board.csv"
    written = cli("export", "board", "-o", str(out))
    assert written.returncode == 0 and written.stdout == "" and str(out) in written.stderr
    assert out.read_text().splitlines()[0] == "section,id,label,votes,share,at,seconds"
    results = requests.get(f"{stack.api}/polls/board/results", headers=operator, timeout=10).json()
    assert results["turnout"] == {"cast": 1, "roll": 3}

    unknown = cli("export", "no-such-poll")
    assert unknown.returncode == 1 and "404" in unknown.stderr


def test_a_roll_file_over_a_thousand_entries_goes_in_batches(running_stack, cli, tmp_path):
    stack = running_stack
    assert cli("create-poll", "Members", "yes", "no", "--id", "members", "--electorate", "roll").returncode == 0
    names = [f"member-{i:04}" for i in range(1003)]
    for name in names[:3]:
        signin.create_user(stack.idp, stack.user_pool_id, name, signin.new_password())
    roll = tmp_path / "big.csv"
    roll.write_text("".join(f"{name}\n" for name in names))  # no header: the first column
    added = cli("--json", "roll", "add", "members", str(roll))
    assert added.returncode == 0, added.stderr
    report = json.loads(added.stdout)
    assert report["sent"] == 1003 and report["added"] == 3 and len(report["unknown"]) == 1000
    progress = cli("roll", "add", "members", str(roll))
    assert "1,000/1,003 sent" in progress.stderr and "1,003/1,003 sent" in progress.stderr
    long_names = tmp_path / "long.csv"  # 1,003 entries of 40 characters: over 16 KiB, within what /config says
    long_names.write_text("".join(f"{name}-{'x' * 28}\n" for name in names))
    long = cli("--json", "roll", "add", "members", str(long_names))
    assert long.returncode == 0, long.stderr
    assert len(json.loads(long.stdout)["unknown"]) == 1003
    assert "0 added, 3 already on the roll" in progress.stdout

