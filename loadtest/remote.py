"""The load test against a deployed stage: API_URL=https://<id>.execute-api.<region>.amazonaws.com/api.

Needs AWS credentials that may create users in the stage's pool (voters are provisioned with the admin API,
before the run), and the operator's sign-in in TALLY_OPERATOR_USERNAME / TALLY_OPERATOR_PASSWORD. The counts
are reconciled through the API (the results it serves). With all of TALLY_BALLOTS_TABLE, TALLY_TALLIES_TABLE
and OPENSEARCH_URL naming the stage's tables and domain (and TALLY_OPENSEARCH_SIGV4=true), they are also
reconciled against the ledger, the tallies and the index read directly; some of the three without the others
is refused, as the missing ones would be read from defaults (an empty local index) and report a false mismatch.
"""
import os
import sys
import time
from pathlib import Path

from devstack import cognito
from loadtest import voters as voter_pool

LEDGER_CHECK = ("TALLY_BALLOTS_TABLE", "TALLY_TALLIES_TABLE", "OPENSEARCH_URL")


def run_remote(args, out: Path) -> int:
    import boto3

    from loadtest.__main__ import CANDIDATES, http, run_locust, verdict, wait_for_results

    named = [name for name in LEDGER_CHECK if os.environ.get(name)]
    if named and len(named) < len(LEDGER_CHECK):
        missing = [name for name in LEDGER_CHECK if name not in named]
        print(f"loadtest: the ledger check needs {', '.join(LEDGER_CHECK)} together; "
              f"{', '.join(missing)} not set (or unset all three to reconcile through the API only)",
              file=sys.stderr)
        return 2
    api = os.environ["API_URL"].rstrip("/")
    status, config = http("GET", f"{api}/config")
    if status != 200:
        raise RuntimeError(f"{api}/config answered {status}")
    idp = boto3.client("cognito-idp", region_name=config["region"])
    operator = cognito.sign_in(idp, config["client_id"], os.environ["TALLY_OPERATOR_USERNAME"],
                               os.environ["TALLY_OPERATOR_PASSWORD"])["IdToken"]
    voters_file = out / "voters.json"
    voter_pool.provision(idp, config["user_pool_id"], config["client_id"], args.voters, voters_file)
    poll_id = f"load-{int(time.time())}"
    status, poll = http("POST", f"{api}/polls", operator,
                        {"poll_id": poll_id, "title": "Load test", "candidates": CANDIDATES})
    if status != 201:
        raise RuntimeError(f"could not create the poll: {status} {poll}")
    outcome = run_locust(args, out, api, operator, poll_id, voters_file)
    drained = wait_for_results(api, operator, poll_id, outcome["accepted_total"], deadline_seconds=120)
    _, view = http("GET", f"{api}/polls/{poll_id}/results", operator)
    shown = {c["id"]: c["votes"] for c in view["candidates"] if c["votes"]}
    found = {"ledger": shown, "tallies": shown, "index": shown}
    if named:
        os.environ.setdefault("AWS_REGION", config["region"])
        from chalicelib import runtime
        from devstack.reconcile import counts
        found = counts(runtime.get(), poll_id)
    return verdict(outcome, outcome["accepted"], found, drained, out)
