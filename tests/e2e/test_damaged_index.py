"""The whole stack with its results index file cut short (issue 18, part 5): results answer from the counters,
votes are counted and none dead-lettered, deep health says the index is down, and `make reconcile REPAIR=1`
replaces the file and refills it."""
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT, start_stack, wait_for

pytestmark = pytest.mark.e2e


def reconcile(stack, poll_id, *extra):
    return subprocess.run([sys.executable, "-m", "cli.reconcile", "--poll", poll_id, "--state-dir",
                           str(stack.state_dir), *extra], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_truncated_index_file_is_said_counted_around_and_rebuilt(tmp_path_factory):
    with start_stack(tmp_path_factory) as stack:
        operator = stack.client(stack.token(stack.operator["username"]))
        created = operator.post("/polls", json={"poll_id": "cut", "title": "Cut?", "candidates": ["yes", "no"]})
        assert created.status_code == 201, created.text
        voters = [stack.client(stack.new_voter(f"cut-{i}")) for i in range(6)]

        def results():
            reply = operator.get("/polls/cut/results")
            assert reply.status_code == 200, reply.text
            return reply.json()["total"], reply.json()["source"]

        def deep_health():
            return stack.client().get("/health", params={"deep": "1"}).json()

        for voter in voters[:3]:
            assert voter.post("/votes/yes", json={"poll_id": "cut"}).status_code == 201
        wait_for(lambda: results() == (3, "index"), 30, "three votes in the index")

        path = stack.state_dir / "results.sqlite3"
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the rows in the file itself, then half of it gone
        os.truncate(path, os.path.getsize(path) // 2)

        assert results() == (3, "tallies")
        wait_for(lambda: deep_health()["status"] == "degraded", 10, "deep health degraded")
        index = deep_health()["index"]
        assert index["available"] is False and "damaged" in index["reason"], index

        for voter in voters[3:]:
            assert voter.post("/votes/no", json={"poll_id": "cut"}).status_code == 201
        wait_for(lambda: results() == (6, "tallies"), 30, "the counters counting on without the index")
        dead = stack.state_dir / "dead-letters.jsonl"
        assert not dead.exists() or dead.read_text() == ""
        assert "batch counted, not indexed" in (stack.state_dir / "stream.log").read_text()

        check = reconcile(stack, "cut")
        assert check.returncode == 1 and "index unavailable" in check.stdout, check.stdout + check.stderr
        repair = reconcile(stack, "cut", "--repair")
        assert repair.returncode == 0, repair.stdout + repair.stderr
        assert "replaced by a new one" in repair.stdout and "Traceback" not in repair.stderr
        assert reconcile(stack, "demo").returncode == 0  # every poll was refilled, not only the one named

        assert results() == (6, "index")
        wait_for(lambda: deep_health()["status"] == "ok", 10, "deep health ok again")
        assert voters[0].post("/votes/yes", json={"poll_id": "cut"}).status_code == 200  # resent: same ballot
        extra = stack.client(stack.new_voter("cut-late"))
        assert extra.post("/votes/yes", json={"poll_id": "cut"}).status_code == 201
        wait_for(lambda: results() == (7, "index"), 30, "the stream indexing into the new file")
