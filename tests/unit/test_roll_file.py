"""The roll-file rule (tally_client/rollfile.py) against its cases in tests/roll_files.json, which the dashboard's
reader passes too (tests/js/roll.test.mjs); and what only the Python side does: files on disk, GET /config's
limits, bodies as really sent."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tally_client.http import Failure
from tally_client.rollfile import (
    RollFileError,
    read_list,
    read_roll,
    read_roll_file,
    roll_batch_limit,
    roll_batches,
    roll_body_limit,
)

CASES = json.loads((Path(__file__).parents[1] / "roll_files.json").read_text(encoding="utf-8"))


def named(cases):
    return pytest.mark.parametrize("case", cases, ids=[case["case"] for case in cases])


@named(CASES["files"])
def test_a_roll_file(case):
    if "problems" in case:
        with pytest.raises(RollFileError) as refused:
            read_roll(case["text"])
        assert [list(problem) for problem in refused.value.problems] == case["problems"]
        return
    roll = read_roll(case["text"])
    assert ([list(entry) for entry in roll.entries], roll.column, roll.skipped) == (
        case["entries"], case["column"], case["skipped"])


@named(CASES["lists"])
def test_a_pasted_list(case):
    assert [list(entry) for entry in read_list(case["text"]).entries] == case["entries"]


@named(CASES["batches"])
def test_batches(case):
    batches = roll_batches(case["entries"], max_entries=case["max_entries"], max_bytes=case["max_bytes"])
    assert [len(batch) for batch in batches] == case["sizes"]
    assert sum(batches, []) == case["entries"]


def test_a_body_as_sent_stays_within_the_limit():
    emails = [f"member.number{i:05}@example.org" for i in range(2500)]
    batches = roll_batches(emails, max_bytes=16 * 1024, max_entries=1000)
    assert sum(batches, []) == emails and len(batches) > 3
    assert max(len(json.dumps({"voters": b, "invite": False}).encode()) for b in batches) <= 16 * 1024
    assert [len(b) for b in roll_batches(emails, max_bytes=819200, max_entries=1000)] == [1000, 1000, 500]
    pairs = list(enumerate(emails))  # entry() says what is sent of each item
    third = roll_batches(pairs, max_bytes=819200, max_entries=1000, entry=lambda pair: pair[1])[2]
    assert third[0] == (2000, emails[2000])


def test_the_limits_are_the_servers_with_no_fallback():
    config = {"limits": {"max_roll_batch": 500, "max_roll_body_bytes": 819200}}
    assert (roll_batch_limit(config), roll_body_limit(config)) == (500, 819200)
    for older in ({"region": "eu-west-1"}, {"limits": {"max_roll_batch": 500}}):
        with pytest.raises(Failure, match="max_roll_body_bytes"):
            roll_body_limit(older)


def test_a_file_on_disk(tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes("\ufeffusername;email\r\nann;ann@example.org\r\n\r\n\"bob\r\n".encode())
    with pytest.raises(RollFileError, match=f"^{path} line 4: a quote that is never closed. Nothing was sent"):
        read_roll_file(path)
    path.write_bytes(b"username\r\nann\r\n")
    assert read_roll_file(path).entries == [(2, "ann")]
    path.write_bytes(b"caf\xe9\n")
    with pytest.raises(Failure, match="is not UTF-8 text"):
        read_roll_file(path)
    with pytest.raises(Failure, match="Cannot read"):
        read_roll_file(tmp_path / "absent.csv")


def test_the_cli_refuses_a_malformed_file_before_it_sends_anything(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text('username\nann\n"bob\n')
    # Nothing listens on port 9: a CLI that sent anything would say it cannot reach the API.
    env = {"TALLY_API_URL": "http://127.0.0.1:9", "TALLY_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    ran = subprocess.run([sys.executable, "-m", "cli", "roll", "add", "board", str(path)], env=env,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1
    assert f"{path} line 3: a quote that is never closed. Nothing was sent" in ran.stderr, ran.stderr
