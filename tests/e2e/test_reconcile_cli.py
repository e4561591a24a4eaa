"""`make reconcile` refuses what it cannot check: an unknown poll, or no local stack, is exit 2 and one line."""
import subprocess
import sys

from tests.e2e.conftest import ROOT


def reconcile(state_dir, poll):
    return subprocess.run([sys.executable, "-m", "cli.reconcile", "--poll", poll, "--state-dir", str(state_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_an_unknown_poll_is_reported_and_exits_2(running_stack):
    run = reconcile(running_stack.state_dir, "nope")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "unknown poll 'nope'" in run.stderr and "reconciled" not in run.stdout
    assert "Traceback" not in run.stderr


def test_no_running_stack_is_one_line_and_exits_2(tmp_path):
    run = reconcile(tmp_path, "demo")
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and len(run.stderr.splitlines()) == 1
    assert "no local stack is running" in run.stderr
