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


def test_make_reconcile_and_make_reset_take_the_state_dir_and_say_how(tmp_path):
    usage = subprocess.run(["make", "-s", "reconcile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert usage.returncode != 0 and "STATE_DIR=" in usage.stdout, usage.stdout + usage.stderr
    for target in ("reconcile POLL=demo", "reset"):
        planned = subprocess.run(["make", "-n", *target.split(), f"STATE_DIR={tmp_path}"], cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
        assert f"--state-dir {tmp_path}" in planned.stdout, planned.stdout + planned.stderr
    reset = subprocess.run(["make", "-n", "reset"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "usage: make reset [STATE_DIR=<dir>]" in reset.stdout
