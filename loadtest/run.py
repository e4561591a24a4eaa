"""What a load test does the same against the local stack (loadtest/__main__.py) and a deployed stage
(loadtest/remote.py): create the poll, run locust headless, wait for the results to show every accepted vote, and
give the verdict."""
import json
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Optional

from cli.client import call
from cli.retry import Backoff

CANDIDATES = ["amber", "blue", "coral", "denim", "ebony"]
# Users get this long to finish a vote in flight when the run stops: the resend policy's own limit, and a margin.
STOP_TIMEOUT_S = int(Backoff().give_up_after_s) + 15


def create_poll(api_url: str, operator_token: str, poll_id: str, title: str = "Load test",
                candidates=tuple(CANDIDATES)) -> None:
    status, poll = call(api_url, "POST", "/polls", operator_token,
                        {"poll_id": poll_id, "title": title, "candidates": list(candidates)})
    if status != 201:
        raise RuntimeError(f"could not create the poll {poll_id}: {status} {poll}")


def run_locust(args, out: Path, api_url: str, operator_token: str, poll_id: str, voters_file: Path) -> dict:
    setup = out / "setup.json"
    setup.write_text(json.dumps({"poll_id": poll_id, "candidates": CANDIDATES, "voters_file": str(voters_file),
                                 "voters": args.voters}))
    outcome_file = out / "outcome.json"
    outcome_file.unlink(missing_ok=True)
    env = {**os.environ, "TALLY_LOADTEST_SETUP": str(setup), "TALLY_LOADTEST_OUTCOME": str(outcome_file),
           "TALLY_LOADTEST_OPERATOR_TOKEN": operator_token}
    with resources.as_file(resources.files("loadtest").joinpath("locustfile.py")) as locustfile:
        command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                   "--host", api_url, "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", args.duration,
                   "--csv", str(out / "locust"), "--html", str(out / "locust.html"), "--only-summary",
                   "--stop-timeout", str(STOP_TIMEOUT_S), "--exit-code-on-error", "1"]
        print("running:", " ".join(command[2:]), flush=True)
        subprocess.run(command, env=env)
    return json.loads(outcome_file.read_text())


def wait_for_results(api_url: str, token: str, poll_id: str, total: int, deadline_seconds: float = 30) -> float:
    """Seconds until the results show every accepted vote (the stream drained)."""
    start = time.monotonic()
    while True:
        status, view = call(api_url, "GET", f"/polls/{poll_id}/results", token)
        if status == 200 and view["total"] >= total:
            return time.monotonic() - start
        if time.monotonic() - start > deadline_seconds:
            return float("inf")
        time.sleep(0.1)


def verdict(outcome: dict, accepted: dict, found: dict, drained: float, out: Path,
            baseline: Optional[dict] = None) -> int:
    exact = accepted == found["ledger"] == found["tallies"] == found["index"]
    staleness = sorted(outcome["staleness_ms"]) or [0.0]
    summary = {
        "accepted_total": outcome["accepted_total"], "accepted": accepted, "unexpected": outcome["unexpected_total"],
        "exact": exact, "drain_seconds": drained, "retries_total": outcome["retries_total"],
        "retries": outcome["retries"], "first_ballots_answered_200": outcome["first_ballots_answered_200"],
        "of_which_unprompted": outcome["of_which_unprompted"],
        "staleness_p50_ms": staleness[len(staleness) // 2],
        "staleness_p95_ms": staleness[min(len(staleness) - 1, int(len(staleness) * 0.95))],
        **outcome["figures"],
    }
    if baseline and baseline["baseline_raw_put_per_s"]:
        summary.update(baseline)
        summary["votes_over_raw_put"] = round(summary["votes_per_second"] / baseline["baseline_raw_put_per_s"], 3)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if outcome["unexpected_total"]:
        print(f"FAILED: {outcome['unexpected_total']} unexpected answers, e.g. {outcome['unexpected'][:3]}")
    if not exact:
        print("FAILED: accepted ballots, ledger, tallies and index differ")
    else:
        print(f"reconciled: {outcome['accepted_total']} accepted == ledger == tallies == index")
    return 0 if exact and not outcome["unexpected_total"] else 1
