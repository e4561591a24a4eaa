"""`make loadtest`: drive simulated voters at Tally with locust, then prove nothing was lost or doubled.

    make loadtest                                   # against the local stack, with the defaults below
    make loadtest USERS=50 DURATION=60s VOTERS=5000
    make loadtest SURGE=1                           # a broadcast's surge: every user starts at once (--surge)
    .venv/bin/python -m loadtest --roll             # a roll poll: 80% of the voters on its roll, 20% refused (403)
    API_URL=https://<api>/api make loadtest         # against a deployed stage (see README)

Steps: find or start the stack; provision the voters (cached); create a fresh poll; run locust headless
(CSV and HTML reports in build/loadtest/); wait for the stream to drain; reconcile accepted ballots (the 201s
locust saw) == ledger == tallies == index, exactly; locally, measure moto's raw conditional PutItem rate from as
many threads, the same run's baseline for votes/s. Exits 1 on any lost or doubled vote or unexpected answer.

Votes that answer 429, 5xx or lose their connection are resent with tally_client.resend's policy
(loadtest/locustfile.py); the summary counts the resends (`retries`), and the verdict stays exact: each voter's
ballot is accepted once.
--surge spawns every user in the first second (spawn rate = users; SURGE_USERS users unless --users says
otherwise), all on the one poll, as a broadcast vote opens.

--roll runs the roll profile: the poll is a roll poll; every voter but --off-roll (a share, 0.2 by default) of
them is put on its roll through the API, up to 1,000 per request, before locust starts. Those on the roll vote
as usual (201, then 200 on a resend); those off it must each get 403, and any other answer is a failure. On top
of the exact reconcile, the results' turnout must say cast == the eligible voters' accepted ballots and roll ==
the eligible voters.
"""
import argparse
import os
import sys
import time
from pathlib import Path

from devstack.stack import LocalStack, default_state_dir
from infra import project_root
from loadtest import voters as voter_pool
from loadtest.run import create_poll, run_locust, set_up_roll, turnout_check, verdict, wait_for_results

USERS = 20
SPAWN_RATE = 20
SURGE_USERS = 200
OFF_ROLL = 0.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, help=f"concurrent simulated voters ({USERS}; {SURGE_USERS} with --surge)")
    parser.add_argument("--spawn-rate", type=float, help=f"users started per second ({SPAWN_RATE}; all with --surge)")
    parser.add_argument("--surge", action="store_true",
                        help="every user starts at once (spawn rate = users), on the one poll")
    parser.add_argument("--duration", default="30s", help="locust --run-time")
    parser.add_argument("--voters", type=int, default=2000, help="distinct voters (each votes once)")
    parser.add_argument("--state-dir", default=str(default_state_dir()), help="a running local stack's state")
    parser.add_argument("--out", default=str(project_root() / "build" / "loadtest"))
    parser.add_argument("--roll", action="store_true",
                        help="the roll profile: a roll poll, with --off-roll of the voters left off its roll (403)")
    parser.add_argument("--off-roll", type=float, default=OFF_ROLL, metavar="SHARE",
                        help=f"with --roll: the share of the voters not on the roll ({OFF_ROLL})")
    parser.add_argument("--stack", help="with API_URL: the stage's CloudFormation stack, to reconcile its ledger, "
                                        "tallies and index directly (AWS credentials); else through the API only")
    args = parser.parse_args()
    if not 0 <= args.off_roll < 1:
        parser.error("--off-roll is a share: at least 0 and under 1")
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
    # The `make run` stack if it is up, else one of our own for the run's length (state in <out>/stack).
    with LocalStack.attach_or_start(Path(args.state_dir), out / "stack") as stack:
        return run_local(args, out, stack)


def run_local(args, out: Path, stack: LocalStack) -> int:
    operator = stack.token(stack.operator["username"])
    started = time.monotonic()
    voters_file = stack.state_dir / "loadtest-voters.json"
    voter_pool.provision(stack.idp, stack.user_pool_id, stack.client_id, args.voters, voters_file)
    print(f"voters: {args.voters} ready in {time.monotonic() - started:.1f} s ({voters_file})", flush=True)

    poll_id = f"load-{int(time.time())}"
    roll = None
    if args.roll:
        roll = set_up_roll(stack.api_url, operator, poll_id, voter_pool.for_run(voters_file, args.voters),
                           args.off_roll)
    else:
        create_poll(stack.api_url, operator, poll_id)
    outcome = run_locust(args, out, stack.api_url, operator, poll_id, voters_file, roll)

    accepted = outcome["accepted"]
    drained = wait_for_results(stack.api_url, operator, poll_id, outcome["accepted_total"])
    from chalicelib.runtime import Runtime
    settings = stack.runtime_settings()
    comparison = Runtime(settings).reconciler.compare(poll_id)
    print(comparison.table())
    found = comparison.counts
    roll_check = turnout_check(stack.api_url, operator, poll_id, outcome, roll) if roll else None
    baseline = raw_put_baseline(stack, operator, settings.ballots_table, args.users)
    return verdict(outcome, accepted, found, drained, out, baseline, roll_check)


BASELINE_PUTS = 1000


def raw_put_baseline(stack: LocalStack, operator_token: str, ballots_table: str, clients: int) -> dict:
    """The rate the votes/s figure is read against, on the same stack in the same run: moto's raw conditional
    PutItem of a ballot, from as many threads as locust had users, with no API, token or locust in the way."""
    from devstack.floor import raw_put_phase
    from devstack.processes import CpuMeter

    baseline_poll = f"load-baseline-{int(time.time())}"
    create_poll(stack.api_url, operator_token, baseline_poll, "Load test baseline", ["red", "blue"])
    dynamodb = stack.aws_client("dynamodb", max_pool_connections=clients + 4, retries={"total_max_attempts": 1})
    phase = raw_put_phase(dynamodb, ballots_table, baseline_poll, BASELINE_PUTS, clients, CpuMeter({}))
    print(f"baseline: raw conditional PutItem {phase.rate:.1f}/s from {clients} threads "
          f"({len(phase.errors)} errors)", flush=True)
    return {"baseline_raw_put_per_s": round(phase.rate, 1), "baseline_errors": len(phase.errors)}


if __name__ == "__main__":
    sys.exit(main())
