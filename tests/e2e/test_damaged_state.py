"""A damaged part of the local stack's state is said, not hidden (issue 18, part 5): a truncated
moto-state.pickle, a hole in moto's journal, an empty operator.json or voters.json each give one sentence on the
console that names the file and what to do (and that `make reset` loses the data), never a traceback; a journal
record a crash cut short is dropped and said, and the stack starts; a stack.json left by a stack that is not
running does not lead the CLI to an address that is not its stack's."""
import json
import shutil
import subprocess
import sys

import pytest

from devstack import journal, processes
from devstack.stack import LocalStack
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kept_state(tmp_path_factory):
    """The state directory of a stack that ran, had a poll and a vote, and stopped in order."""
    state_dir = tmp_path_factory.mktemp("kept")
    with LocalStack.start(state_dir) as stack:
        operator = stack.client(stack.token("operator"))
        assert operator.post("/polls", json={"poll_id": "kept", "title": "Kept?", "candidates": ["a", "b"]}
                             ).status_code == 201
        assert stack.client(stack.new_voter("vic")).post("/votes/a", json={"poll_id": "kept"}).status_code == 201
        assert stack.stop() == 0
    return state_dir


@pytest.fixture
def state_dir(kept_state, tmp_path):
    copy = tmp_path / "state"
    shutil.copytree(kept_state, copy, ignore=shutil.ignore_patterns("*.lock"))
    return copy


def devstack(state_dir) -> subprocess.CompletedProcess:
    """`python -m devstack` on free ports, for a state it must refuse before starting anything."""
    ports = [str(processes.free_port()) for _ in range(3)]
    return subprocess.run([sys.executable, "-m", "devstack", "--state-dir", str(state_dir), "--api-port", ports[0],
                           "--moto-port", ports[1], "--static-port", ports[2]],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def one_sentence(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_a_truncated_moto_state_is_one_sentence_that_names_it_and_says_reset_loses_the_data(state_dir):
    snapshot = state_dir / "moto-state.pickle"
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 3])
    said = one_sentence(devstack(state_dir))
    assert f"{snapshot} is damaged" in said and "`make reset`" in said and "loses every poll, ballot" in said


def test_a_hole_in_moto_s_journal_is_one_sentence_and_nothing_starts(state_dir):
    first = journal.segments(state_dir)[-1][0]
    far = first + 7
    (state_dir / journal.segment_name(far)).write_bytes(journal.encode(journal.Record(far, 0.0, 0, {}, b"")))
    said = one_sentence(devstack(state_dir))
    assert "the journal lacks records" in said and journal.segment_name(far) in said
    assert "`make reset`" in said and "salvage" in said


def test_an_empty_operator_json_is_one_sentence_and_deleting_it_as_told_gives_a_new_password(state_dir):
    (state_dir / "operator.json").write_text("")
    said = one_sentence(devstack(state_dir))
    assert f"{state_dir / 'operator.json'} is empty: delete it" in said and "`make reset` would lose" in said

    (state_dir / "operator.json").unlink()
    with LocalStack.start(state_dir) as stack:
        operator = stack.client(stack.token("operator"))  # the new password from the new operator.json
        assert operator.get("/polls/kept").status_code == 200  # the data was safe
        assert stack.stop() == 0


def test_a_journal_record_cut_short_is_said_and_the_stack_starts_with_the_rest(state_dir):
    newest = journal.segments(state_dir)[-1][1]
    with open(newest, "ab") as out:
        out.write(journal.encode(journal.Record(10**6, 0.0, 0, {}, b"{}"))[:30])  # what a crash mid-write leaves
    with LocalStack.start(state_dir) as stack:
        said = (state_dir / "devstack.log").read_text()
        assert f"devstack: {newest} ends in a record cut short" in said and "never answered" in said
        assert stack.client(stack.token("operator")).get("/polls/kept").json()["title"] == "Kept?"
        assert stack.stop() == 0


def test_an_empty_voters_json_is_one_sentence_from_the_cli(running_stack):
    voters = running_stack.state_dir / "voters.json"
    voters.write_text("")
    try:
        run = subprocess.run([sys.executable, "-m", "cli", "--api", running_stack.api, "voter", "add", "carol"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env={**running_stack.environment(), "TALLY_STATE_DIR": str(running_stack.state_dir)})
    finally:
        voters.unlink()
    said = one_sentence(run)
    assert f"{voters} is empty or damaged" in said and "`make reset` would lose" in said


def test_a_stack_json_left_by_a_stack_that_is_not_running_is_not_followed(state_dir, running_stack):
    # The killed stack's address now answers for another stack: /health alone would take it for this one.
    (state_dir / "stack.json").write_text(json.dumps(running_stack.info))
    assert LocalStack.attach(state_dir) is None
    run = subprocess.run([sys.executable, "-m", "cli.reconcile", "--poll", "demo", "--state-dir", str(state_dir)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "was left by a stack that is not running any more" in run.stderr and "make run" in run.stderr
    assert LocalStack.attach(running_stack.state_dir) is not None  # a running stack is still found
