"""A short headless locust session against the stack, and its reconciliation."""
import json
import subprocess
import sys

from tests.e2e.conftest import ROOT


def test_a_short_load_test_reconciles_exactly(running_stack, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "loadtest", "--state-dir", str(running_stack.state_dir), "--voters", "80",
         "--users", "8", "--duration", "20s", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["exact"] and summary["unexpected"] == 0 and summary["accepted_total"] == 80
    assert (tmp_path / "locust.html").exists() and (tmp_path / "locust_stats.csv").exists()
    assert "reconciled: 80 accepted == ledger == tallies == index" in run.stdout


def test_a_short_surge_starts_every_user_at_once_and_reconciles_exactly(running_stack, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "loadtest", "--state-dir", str(running_stack.state_dir), "--voters", "80",
         "--users", "40", "--surge", "--duration", "20s", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["exact"] and summary["unexpected"] == 0 and summary["accepted_total"] == 80
    assert summary["users"] == 40 and summary["all_users_started_after_s"] < 1.5
    assert "-u 40 -r 40" in run.stdout
