"""`make loadtest`: drive simulated voters at Tally with locust, then prove nothing was lost or doubled.

    make loadtest                                   # against the local stack, with the defaults below
    make loadtest USERS=50 DURATION=60s VOTERS=5000
    make loadtest SURGE=1                           # a broadcast's surge: every user starts at once (--surge)
    API_URL=https://<api>/api make loadtest         # against a deployed stage (see README)

Steps: find or start the stack; provision the voters (cached); create a fresh poll; run locust headless
(CSV and HTML reports in build/loadtest/); wait for the stream to drain; reconcile accepted ballots (the 201s
locust saw) == ledger == tallies == index, exactly; locally, measure moto's raw conditional PutItem rate from as
many threads, the same run's baseline for votes/s. Exits 1 on any lost or doubled vote or unexpected answer.

Votes that answer 429, 5xx or lose their connection are resent with cli.retry's policy (loadtest/locustfile.py);
the summary counts the resends (`retries`), and the verdict stays exact: each voter's ballot is accepted once.
--surge spawns every user in the first second (spawn rate = users; SURGE_USERS users unless --users says
otherwise), all on the one poll, as a broadcast vote opens.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.retry import Backoff  # noqa: E402
from devstack import cognito, processes  # noqa: E402
from loadtest import voters as voter_pool  # noqa: E402

CANDIDATES = ["amber", "blue", "coral", "denim", "ebony"]
USERS = 20
SPAWN_RATE = 20
SURGE_USERS = 200
# Users get this long to finish a vote in flight when the run stops: the resend policy's own limit, and a margin.
STOP_TIMEOUT_S = int(Backoff().give_up_after_s) + 15


def http(method, url, token=None, body=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


class LocalStack:
    """The running `make run` stack if there is one, else a stack of our own for the run's length."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.process = None

    def __enter__(self):
        stack_file = self.state_dir / "stack.json"
        if not self._healthy(stack_file):
            self.state_dir = ROOT / "build" / "loadtest" / "stack"
            self.state_dir.mkdir(parents=True, exist_ok=True)
            stack_file = self.state_dir / "stack.json"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devstack", "--api-port", str(processes.free_port()),
                 "--moto-port", str(processes.free_port()), "--static-port", str(processes.free_port()),
                 "--state-dir", str(self.state_dir)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 90
            while not stack_file.exists():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local stack did not come up; see {self.state_dir}")
                time.sleep(0.1)
        self.info = json.loads(stack_file.read_text())
        return self

    def __exit__(self, *_exc):
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    @staticmethod
    def _healthy(stack_file: Path) -> bool:
        if not stack_file.exists():
            return False
        try:
            processes.wait_for_http(json.loads(stack_file.read_text())["api_url"] + "/health", 1)
            return True
        except (OSError, TimeoutError):
            return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, help=f"concurrent simulated voters ({USERS}; {SURGE_USERS} with --surge)")
    parser.add_argument("--spawn-rate", type=float, help=f"users started per second ({SPAWN_RATE}; all with --surge)")
    parser.add_argument("--surge", action="store_true",
                        help="every user starts at once (spawn rate = users), on the one poll")
    parser.add_argument("--duration", default="30s", help="locust --run-time")
    parser.add_argument("--voters", type=int, default=2000, help="distinct voters (each votes once)")
    parser.add_argument("--state-dir", default=str(ROOT / ".devstack"), help="a running local stack's state")
    parser.add_argument("--out", default=str(ROOT / "build" / "loadtest"))
    parser.add_argument("--stack", help="with API_URL: the stage's CloudFormation stack, to reconcile its ledger, "
                                        "tallies and index directly (AWS credentials); else through the API only")
    args = parser.parse_args()
    if args.surge and args.spawn_rate is not None:
        parser.error("--surge sets the spawn rate (every user at once): leave --spawn-rate out")
    if args.users is None:
        args.users = SURGE_USERS if args.surge else USERS
    if args.spawn_rate is None:
        args.spawn_rate = args.users if args.surge else SPAWN_RATE
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("API_URL"):
        from loadtest.remote import run_remote
        return run_remote(args, out)
    with LocalStack(Path(args.state_dir)) as stack:
        return run_local(args, out, stack)


def run_local(args, out: Path, stack: LocalStack) -> int:
    import boto3

    info = stack.info
    idp = boto3.client("cognito-idp", endpoint_url=info["moto_url"], region_name=info["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")
    operator = cognito.sign_in(idp, info["user_pool_id"], info["client_id"], info["operator"]["username"],
                               info["operator"]["password"])["IdToken"]
    started = time.monotonic()
    voters_file = stack.state_dir / "loadtest-voters.json"
    voter_pool.provision(idp, info["user_pool_id"], info["client_id"], args.voters, voters_file)
    print(f"voters: {args.voters} ready in {time.monotonic() - started:.1f} s ({voters_file})", flush=True)

    poll_id = f"load-{int(time.time())}"
    status, poll = http("POST", f"{info['api_url']}/polls", operator,
                        {"poll_id": poll_id, "title": "Load test", "candidates": CANDIDATES})
    if status != 201:
        raise RuntimeError(f"could not create the poll: {status} {poll}")
    outcome = run_locust(args, out, info["api_url"], operator, poll_id, voters_file)

    accepted = outcome["accepted"]
    drained = wait_for_results(info["api_url"], operator, poll_id, outcome["accepted_total"])
    from chalicelib.runtime import Runtime
    from cli.reconcile import local_settings
    comparison = Runtime(local_settings(stack.state_dir)).reconciler.compare(poll_id)
    print(comparison.table())
    found = comparison.counts
    baseline = raw_put_baseline(info, operator, args.users)
    return verdict(outcome, accepted, found, drained, out, baseline)


BASELINE_PUTS = 1000


def raw_put_baseline(info: dict, operator_token: str, clients: int) -> dict:
    """The rate the votes/s figure is read against, on the same stack in the same run: moto's raw conditional
    PutItem of a ballot, from as many threads as locust had users, with no API, token or locust in the way."""
    from bench.vote_path import CpuMeter, aws_client, raw_put_phase, stage_ballots_table

    baseline_poll = f"load-baseline-{int(time.time())}"
    status, reply = http("POST", f"{info['api_url']}/polls", operator_token,
                         {"poll_id": baseline_poll, "title": "Load test baseline", "candidates": ["red", "blue"]})
    if status != 201:
        raise RuntimeError(f"could not create the baseline poll: {status} {reply}")
    dynamodb = aws_client("dynamodb", info, max_pool_connections=clients + 4, retries={"total_max_attempts": 1})
    phase = raw_put_phase(dynamodb, stage_ballots_table("local"), baseline_poll, BASELINE_PUTS, clients,
                          CpuMeter({}))
    print(f"baseline: raw conditional PutItem {phase.rate:.1f}/s from {clients} threads "
          f"({len(phase.errors)} errors)", flush=True)
    return {"baseline_raw_put_per_s": round(phase.rate, 1), "baseline_errors": len(phase.errors)}


def run_locust(args, out: Path, api_url: str, operator_token: str, poll_id: str, voters_file: Path) -> dict:
    setup = out / "setup.json"
    setup.write_text(json.dumps({"poll_id": poll_id, "candidates": CANDIDATES, "voters_file": str(voters_file),
                                 "voters": args.voters}))
    outcome_file = out / "outcome.json"
    outcome_file.unlink(missing_ok=True)
    env = {**os.environ, "TALLY_LOADTEST_SETUP": str(setup), "TALLY_LOADTEST_OUTCOME": str(outcome_file),
           "TALLY_LOADTEST_OPERATOR_TOKEN": operator_token}
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless",
               "--host", api_url, "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", args.duration,
               "--csv", str(out / "locust"), "--html", str(out / "locust.html"), "--only-summary",
               "--stop-timeout", str(STOP_TIMEOUT_S), "--exit-code-on-error", "1"]
    print("running:", " ".join(command[2:]), flush=True)
    subprocess.run(command, env=env, cwd=ROOT)
    return json.loads(outcome_file.read_text())


def wait_for_results(api_url: str, token: str, poll_id: str, total: int, deadline_seconds: float = 30) -> float:
    """Seconds until the results show every accepted vote (the stream drained)."""
    start = time.monotonic()
    while True:
        status, view = http("GET", f"{api_url}/polls/{poll_id}/results", token)
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


if __name__ == "__main__":
    sys.exit(main())
