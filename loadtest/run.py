"""What a load test does the same against the local stack (loadtest/__main__.py) and a deployed stage
(loadtest/remote.py): create the poll, run locust headless, wait for the results to show every accepted vote, and
give the verdict."""
import json
import os
import random
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import List, Optional, Sequence

from tally_client import server_config
from tally_client.http import call, send
from tally_client.resend import LOST, Backoff, send_until_answered
from tally_client.rollfile import roll_batch_limit, roll_batches, roll_body_limit

CANDIDATES = ["amber", "blue", "coral", "denim", "ebony"]
# Users get this long to finish a vote in flight when the run stops: the resend policy's own limit, and a margin.
STOP_TIMEOUT_S = int(Backoff().give_up_after_s) + 15
ROLL_TIMEOUT_S = 120  # a batch is up to 1,000 user pool lookups and 21 transactions


def create_poll(api_url: str, operator_token: str, poll_id: str, title: str = "Load test",
                candidates=tuple(CANDIDATES), electorate: str = "open") -> None:
    status, poll = call(api_url, "POST", "/polls", operator_token,
                        {"poll_id": poll_id, "title": title, "candidates": list(candidates),
                         "electorate": electorate})
    if status != 201:
        raise RuntimeError(f"could not create the poll {poll_id}: {status} {poll}")


def off_roll(voters: Sequence[dict], share: float, seed: str) -> List[str]:
    """The usernames a roll profile leaves off the roll: `share` of the voters, spread over the run (chosen at
    random with a fixed seed) so that refusals and votes come mixed, as at a real meeting."""
    count = round(len(voters) * share)
    return sorted(random.Random(seed).sample([v["username"] for v in voters], count))


def put_on_roll(api_url: str, operator_token: str, poll_id: str, usernames: Sequence[str]) -> dict:
    """Put the voters on the poll's roll through the API, up to 1,000 per request (fewer if the body would pass
    the limit GET /config gives, as the CLI does), each request resent under tally_client.resend's policy after a
    429, a 5xx or a lost connection (safe: a resend answers the done ones `already`). Returns {"added",
    "already", "seconds", "requests"}; raises unless every name ended on the roll."""
    path, started = f"/polls/{poll_id}/roll", time.monotonic()
    added = already = requests = sent = 0
    config = server_config.fetch(api_url)
    for batch in roll_batches(list(usernames), max_bytes=roll_body_limit(config),
                              max_entries=roll_batch_limit(config)):
        start = sent
        sent += len(batch)

        def attempt(batch=batch):
            nonlocal requests
            requests += 1
            return send(api_url, "POST", path, operator_token, {"voters": batch}, timeout=ROLL_TIMEOUT_S)

        status, _, report = send_until_answered(attempt, Backoff(give_up_after_s=120))
        if status is LOST or status != 200 or report["unknown"]:
            raise RuntimeError(f"could not put voters {start}-{start + len(batch) - 1} on the roll of {poll_id}: "
                               f"{status} {report}")
        added, already = added + report["added"], already + report["already"]
        print(f"roll: {sent}/{len(usernames)} on the roll of {poll_id}", flush=True)
    return {"added": added, "already": already, "seconds": round(time.monotonic() - started, 2),
            "requests": requests}


def roll_size(api_url: str, operator_token: str, poll_id: str) -> int:
    status, page = call(api_url, "GET", f"/polls/{poll_id}/roll", operator_token)
    if status != 200:
        raise RuntimeError(f"could not read the roll of {poll_id}: {status} {page}")
    return page["size"]


def set_up_roll(api_url: str, operator_token: str, poll_id: str, voters: Sequence[dict], share: float) -> dict:
    """The roll profile's poll: a roll poll with every voter on its roll except `share` of them. Returns what the
    locustfile and the verdict need: the off-roll usernames and the roll's expected size."""
    create_poll(api_url, operator_token, poll_id, "Load test (roll)", electorate="roll")
    left_off = off_roll(voters, share, poll_id)
    skipped = set(left_off)
    eligible = [v["username"] for v in voters if v["username"] not in skipped]
    enrolled = put_on_roll(api_url, operator_token, poll_id, eligible)
    size = roll_size(api_url, operator_token, poll_id)
    print(f"roll: {size} eligible voters on the roll in {enrolled['seconds']:.1f} s ({enrolled['requests']} "
          f"requests), {len(left_off)} left off", flush=True)
    # A fresh poll: a resend after a lost answer reports the voters its first attempt added as `already`.
    if size != len(eligible) or enrolled["added"] + enrolled["already"] != len(eligible):
        raise RuntimeError(f"the roll of {poll_id} holds {size} voters ({enrolled}), not {len(eligible)}")
    return {"off_roll": left_off, "eligible": len(eligible), "roll_setup_seconds": enrolled["seconds"]}


def run_locust(args, out: Path, api_url: str, operator_token: str, poll_id: str, voters_file: Path,
               roll: Optional[dict] = None) -> dict:
    setup = out / "setup.json"
    setup.write_text(json.dumps({"poll_id": poll_id, "candidates": CANDIDATES, "voters_file": str(voters_file),
                                 "voters": args.voters, "off_roll": (roll or {}).get("off_roll", [])}))
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


def turnout_check(api_url: str, token: str, poll_id: str, outcome: dict, roll: dict) -> dict:
    """The roll profile's own exactness: the results' turnout says cast == the eligible voters whose ballot was
    accepted, and roll == the eligible voters; every off-roll voter who tried was refused (403), none counted."""
    status, view = call(api_url, "GET", f"/polls/{poll_id}/results", token)
    turnout = (view.get("turnout") or {}) if status == 200 else {}
    check = {"eligible": roll["eligible"], "off_roll": len(roll["off_roll"]),
             "off_roll_refused": outcome["off_roll_refused"], "turnout": turnout,
             "roll_setup_seconds": roll["roll_setup_seconds"]}
    check["turnout_exact"] = (turnout.get("cast") == outcome["accepted_total"]
                              and turnout.get("roll") == roll["eligible"])
    return check


def verdict(outcome: dict, accepted: dict, found: dict, drained: float, out: Path,
            baseline: Optional[dict] = None, roll_check: Optional[dict] = None) -> int:
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
    turnout_exact = True
    if roll_check is not None:
        summary["roll"] = roll_check
        turnout_exact = roll_check["turnout_exact"]
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if outcome["unexpected_total"]:
        print(f"FAILED: {outcome['unexpected_total']} unexpected answers, e.g. {outcome['unexpected'][:3]}")
    if not exact:
        print("FAILED: accepted ballots, ledger, tallies and index differ")
    else:
        print(f"reconciled: {outcome['accepted_total']} accepted == ledger == tallies == index")
    if roll_check is not None:
        turnout = roll_check["turnout"]
        if turnout_exact:
            print(f"turnout: cast {turnout['cast']} == eligible voters who voted, roll {turnout['roll']} == "
                  f"{roll_check['eligible']} eligible; {roll_check['off_roll_refused']} off-roll votes refused (403)")
        else:
            print(f"FAILED: turnout {turnout} is not cast {outcome['accepted_total']} (accepted), "
                  f"roll {roll_check['eligible']} (eligible)")
    return 0 if exact and turnout_exact and not outcome["unexpected_total"] else 1
