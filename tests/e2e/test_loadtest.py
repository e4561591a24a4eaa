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


def test_a_short_roll_load_test_counts_only_the_roll_and_refuses_the_rest(running_stack, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "loadtest", "--state-dir", str(running_stack.state_dir), "--voters", "100",
         "--users", "8", "--duration", "30s", "--roll", "--off-roll", "0.2", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    # Every voter voted (the run ends when they all have): the 80 on the roll were counted, the 20 off it refused.
    assert summary["exact"] and summary["unexpected"] == 0 and summary["accepted_total"] == 80
    roll = summary["roll"]
    assert roll["eligible"] == 80 and roll["off_roll"] == 20 and roll["off_roll_refused"] == 20
    assert roll["turnout"] == {"cast": 80, "roll": 80} and roll["turnout_exact"]
    assert "reconciled: 80 accepted == ledger == tallies == index" in run.stdout
    assert "turnout: cast 80 == eligible voters who voted, roll 80 == 80 eligible" in run.stdout
    setup = json.loads((tmp_path / "setup.json").read_text())
    assert len(setup["off_roll"]) == 20
