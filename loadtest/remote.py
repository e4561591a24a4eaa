"""The load test against a deployed stage: API_URL=https://<id>.execute-api.<region>.amazonaws.com/api.

Needs AWS credentials that may create users in the stage's pool (voters are provisioned with the admin API,
before the run), and the operator's sign-in in TALLY_OPERATOR_USERNAME / TALLY_OPERATOR_PASSWORD. The counts
are reconciled through the API (the results it serves); with --stack (make loadtest STACK=<name>) also against
the stage's ledger, tallies and index read directly, as `make reconcile STACK=<name>` does.
"""
import os
import time
from pathlib import Path

from loadtest import voters as voter_pool
from loadtest.run import create_poll, run_locust, set_up_roll, turnout_check, verdict, wait_for_results
from tally_client import server_config, signin
from tally_client.http import call


def run_remote(args, out: Path) -> int:
    import boto3

    api = os.environ["API_URL"].rstrip("/")
    config = server_config.fetch(api)
    idp = signin.pool_client(config)
    operator = signin.sign_in(idp, config["user_pool_id"], config["client_id"], os.environ["TALLY_OPERATOR_USERNAME"],
                              os.environ["TALLY_OPERATOR_PASSWORD"])["IdToken"]
    voters_file = out / "voters.json"
    voter_pool.provision(idp, config["user_pool_id"], config["client_id"], args.voters, voters_file)
    poll_id = f"load-{int(time.time())}"
    roll = None
    if args.roll:
        roll = set_up_roll(api, operator, poll_id, voter_pool.for_run(voters_file, args.voters), args.off_roll)
    else:
        create_poll(api, operator, poll_id)
    outcome = run_locust(args, out, api, operator, poll_id, voters_file, roll)
    drained = wait_for_results(api, operator, poll_id, outcome["accepted_total"], deadline_seconds=120)
    _, view = call(api, "GET", f"/polls/{poll_id}/results", operator)
    shown = {c["id"]: c["votes"] for c in view["candidates"] if c["votes"]}
    found = {"ledger": shown, "tallies": shown, "index": shown}
    if args.stack:
        from chalicelib.runtime import Runtime
        from infra.stage import deployed_stage

        session = boto3.session.Session(region_name=config["region"])
        stage = deployed_stage(session.client("cloudformation"), args.stack, config["region"])
        found = Runtime(stage.settings).reconciler.compare(poll_id).counts
    roll_check = turnout_check(api, operator, poll_id, outcome, roll) if roll else None
    return verdict(outcome, outcome["accepted"], found, drained, out, roll_check=roll_check)
