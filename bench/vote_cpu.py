"""CPU per vote inside the API function, measured in-process: what sets the function's memory and its duration.

A warm vote on Lambda spends CPU in the function (routing, token verification, Powertools, the PutItem's client
side: building, signing, sending and parsing the request) and waits for DynamoDB. This bench measures the CPU
part on this machine, with no HTTP server and no other process in the way:

  app   `POST /votes/{candidate}` through chalice.test.Client (the Lambda event -> app -> response path, every
        middleware of app.py included) against moto's DynamoDB in the same process (mock_aws), each vote a new
        ballot of a distinct, signed-in voter in one open poll (201 expected), as in a surge on one poll;
  raw   the same conditional PutItem the ballot ledger makes (same client, item shape, condition and
        ReturnValuesOnConditionCheckFailure), fresh keys: the baseline, measured in the same run.

Both sides also pay moto, which emulates DynamoDB in this process; the time spent inside moto's request
handler is measured apart and taken out, since on AWS that work happens on DynamoDB's side, not in the function:

  function CPU per vote = app - moto(app)         (what Lambda bills as compute for a warm vote)
  app own CPU per vote  = app - raw               (everything but the one PutItem round trip)

Rounds interleave the two sides (the order alternates each round) and each figure is the median over rounds; the
ratio app / raw is the median of per-round ratios (a same-run baseline: this 2-core machine is noisy). CPU is
process_time, which other load on a shared machine moves far less than wall time. The environment is the prod
stage's (.chalice/config.json), so log sampling is what prod does; Powertools' Tracer is off outside Lambda, so
X-Ray's in-function cost is not in these figures (it records only the sampled share of requests anyway).

It also reports, for the capacity model: the resident memory of a fresh interpreter that imported app.py and
built the function's DynamoDB client (no moto in it), and the bytes of the log lines a vote can write (a sampled
accepted vote, a refusal, the refusal's EMF metric line).

Run:  .venv/bin/python -m bench.vote_cpu [--votes 300] [--rounds 5]
The last line is a JSON object with every figure.
"""
import argparse
import contextlib
import gzip
import io
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

from bench.machine import cpu_model, quiet_app_output
from infra import project_root

ROOT = project_root()
REGION = "us-east-1"
POLL = "surge"
CANDIDATES = ["red", "green", "blue"]


def prod_environment(jwks: Path, state: Path) -> Dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**config.get("environment_variables", {}), **config["stages"]["prod"].get("environment_variables", {})}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION, "TALLY_POLLS_TABLE": "bench-polls", "TALLY_BALLOTS_TABLE": "bench-ballots",
        "TALLY_TALLIES_TABLE": "bench-tallies", "TALLY_JWKS_URL": jwks.as_uri(),
        "TALLY_INDEX_PATH": str(state / "results.sqlite3"),
    })
    return env


class MotoClock:
    """CPU spent inside moto's request handler (the emulated DynamoDB and Cognito), accumulated."""

    def __init__(self):
        self.seconds = 0.0

    def install(self):
        from moto.core.botocore_stubber import BotocoreStubber
        handle = BotocoreStubber.process_request
        clock = self

        def timed(stub, request):
            start = time.process_time()
            try:
                return handle(stub, request)
            finally:
                clock.seconds += time.process_time() - start
        BotocoreStubber.process_request = timed


def resident_memory_mb(env: Dict[str, str]) -> float:
    """Peak RSS of a fresh interpreter that imports app.py and builds the function's DynamoDB client."""
    child = ("import resource, app; from chalicelib import runtime; runtime.get().dynamodb; runtime.get().ledger; "
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    result = subprocess.run([sys.executable, "-c", child], cwd=ROOT, env={**os.environ, **env},
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def isolate_prod_environment() -> Dict[str, str]:
    """The prod stage's environment in this process, on moto: its own signing keys (moto's), a scratch state
    directory, and no endpoint, Cognito, index or tracing override left from the caller's."""
    import moto

    state = Path(tempfile.mkdtemp(prefix="tally-vote-cpu-"))
    jwks = state / "jwks.json"
    jwks.write_bytes(gzip.decompress((Path(moto.__file__).parent / "cognitoidp" / "resources"
                                      / "jwks-public.json.gz").read_bytes()))
    env = prod_environment(jwks, state)
    os.environ.update(env)
    for name in ("AWS_ENDPOINT_URL", "TALLY_COGNITO_ENDPOINT", "OPENSEARCH_URL", "POWERTOOLS_TRACE_DISABLED"):
        os.environ.pop(name, None)
    return env


def provision_emulated_account(idp, dynamodb) -> Tuple[str, str]:
    """The tables, the voter-key secret and the user pool, in moto; (pool id, client id)."""
    import boto3

    from chalicelib import config, runtime
    from devstack import cognito
    from devstack.tables import create_tables

    create_tables(dynamodb, config.load())
    boto3.client("secretsmanager", region_name=REGION).create_secret(  # the key of voters' pseudonyms
        Name=config.load().voter_key_secret, SecretString=secrets.token_urlsafe(48))
    pool_id, client_id = cognito.create_pool(idp)
    os.environ.update({"TALLY_USER_POOL_ID": pool_id, "TALLY_CLIENT_ID": client_id})
    runtime.reset()
    return pool_id, client_id


def signed_in(idp, pool_id: str, client_id: str, name: str, groups=()) -> Dict[str, str]:
    """A new user's request headers, signed in."""
    from tally_client import signin

    password = signin.new_password()
    signin.create_user(idp, pool_id, name, password, groups)
    token = signin.sign_in(idp, pool_id, client_id, name, password)["IdToken"]
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def open_the_poll(http, operator: Dict[str, str], warm_up_voter: Dict[str, str]) -> str:
    """The surge's poll, created and opened; one warm-up vote lands it in the cache, reads the signing keys and
    imports everything. The body of a vote in it."""
    poll = {"poll_id": POLL, "title": "Surge", "candidates": CANDIDATES}
    created = http.post("/polls", headers=operator, body=json.dumps(poll))
    assert created.status_code == 201, created.body
    opened = http.post(f"/polls/{POLL}/open", headers=operator)
    assert opened.status_code == 200, opened.body
    body = json.dumps({"poll_id": POLL})
    assert http.post("/votes/red", headers=warm_up_voter, body=body).status_code == 201
    return body


def vote_through_the_app(http, body: str, batch: List[dict]) -> None:
    for i, headers in enumerate(batch):
        response = http.post(f"/votes/{CANDIDATES[i % 3]}", headers=headers, body=body)
        assert response.status_code == 201, (response.status_code, response.body)


def the_ledgers_table() -> tuple:
    """The function's DynamoDB client, the ballots table and the buckets of a poll at the default peak."""
    from chalicelib import runtime
    from chalicelib.domain.ballots import DEFAULT_PEAK_VOTES_PER_S, buckets_for

    return runtime.get().dynamodb, runtime.get().settings.ballots_table, buckets_for(DEFAULT_PEAK_VOTES_PER_S)


def put_raw_ballots(ledger_client, table: str, buckets: int, n: int) -> None:
    """The baseline: the ballot ledger's conditional PutItem alone, fresh keys, with the function's client."""
    from chalicelib.adapters.dynamo_ballots import ballot_to_item
    from chalicelib.domain.ballots import Ballot
    from chalicelib.domain.times import utc_now

    for i in range(n):
        ballot = Ballot(poll_id=POLL, voter_id=f"raw-{uuid.uuid4()}", candidate=CANDIDATES[i % 3], cast_at=utc_now())
        ledger_client.put_item(TableName=table, Item=ballot_to_item(ballot, i % buckets),
                               ConditionExpression="attribute_not_exists(voter_id)",
                               ReturnValuesOnConditionCheckFailure="ALL_OLD")


def timed(clock: MotoClock, votes: int, phase, *args) -> Dict[str, float]:
    """A phase's CPU, wall time and time inside moto, per vote."""
    moto_before, cpu, wall = clock.seconds, time.process_time(), time.perf_counter()
    with quiet_app_output():
        phase(*args)
    return {"cpu_ms": (time.process_time() - cpu) * 1000 / votes,
            "wall_ms": (time.perf_counter() - wall) * 1000 / votes,
            "moto_ms": (clock.seconds - moto_before) * 1000 / votes}


def interleaved_rounds(clock: MotoClock, http, body: str, voters: List[dict], ledger: tuple, votes: int,
                       rounds: int) -> List[dict]:
    """Each round times both sides, the order alternating round by round."""
    per_round = []
    for r in range(rounds):
        batch = [voters.pop() for _ in range(votes)]
        sides = {"app": (vote_through_the_app, http, body, batch), "raw": (put_raw_ballots, *ledger, votes)}
        order = ("app", "raw") if r % 2 == 0 else ("raw", "app")
        measured = {side: timed(clock, votes, *sides[side]) for side in order}
        per_round.append({"app": measured["app"], "raw": measured["raw"]})
    return per_round


def run(votes: int, rounds: int) -> dict:
    import boto3
    from moto import mock_aws

    env = isolate_prod_environment()
    rss_mb = resident_memory_mb(env)
    clock = MotoClock()
    clock.install()
    with mock_aws():
        from chalice.test import Client

        from devstack import cognito

        dynamodb = boto3.client("dynamodb", region_name=REGION)
        idp = boto3.client("cognito-idp", region_name=REGION)
        pool_id, client_id = provision_emulated_account(idp, dynamodb)
        started = time.perf_counter()
        operator = signed_in(idp, pool_id, client_id, "olga", [cognito.OPERATORS_GROUP])
        voters = [signed_in(idp, pool_id, client_id, f"voter{i:05d}") for i in range(votes * rounds + 1)]
        setup_s = time.perf_counter() - started

        from app import app
        with Client(app) as client:
            body = open_the_poll(client.http, operator, voters.pop())
            ledger = the_ledgers_table()
            per_round = interleaved_rounds(clock, client.http, body, voters, ledger, votes, rounds)
            lines = log_line_bytes(client.http, operator, body)
    return summary(per_round, votes, rounds, setup_s, rss_mb, lines)


def summary(per_round: List[dict], votes: int, rounds: int, setup_s: float, rss_mb: float,
            lines: Dict[str, int]) -> dict:
    """Every figure: the medians over rounds, and the function's CPU per vote with moto's share taken out."""
    def median(side, key):
        return statistics.median(r[side][key] for r in per_round)

    app_cpu, raw_cpu = median("app", "cpu_ms"), median("raw", "cpu_ms")
    function_cpu = statistics.median(r["app"]["cpu_ms"] - r["app"]["moto_ms"] for r in per_round)
    return {
        "votes_per_round": votes, "rounds": rounds, "setup_s": round(setup_s, 1),
        "app_cpu_ms_per_vote": round(app_cpu, 3), "raw_putitem_cpu_ms": round(raw_cpu, 3),
        "ratio_app_over_raw": round(statistics.median(r["app"]["cpu_ms"] / r["raw"]["cpu_ms"] for r in per_round), 3),
        "per_round_ratio": [round(r["app"]["cpu_ms"] / r["raw"]["cpu_ms"], 3) for r in per_round],
        "moto_ms_in_app": round(median("app", "moto_ms"), 3), "moto_ms_in_raw": round(median("raw", "moto_ms"), 3),
        "app_own_cpu_ms": round(app_cpu - raw_cpu, 3),
        "putitem_client_cpu_ms": round(statistics.median(r["raw"]["cpu_ms"] - r["raw"]["moto_ms"]
                                                         for r in per_round), 3),
        "function_cpu_ms_per_vote": round(function_cpu, 3),
        "app_wall_ms_per_vote": round(median("app", "wall_ms"), 3),
        "resident_mb_after_import": round(rss_mb, 1),
        "log_line_bytes": lines,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "cpu": cpu_model(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
    }


def log_line_bytes(http, operator, body) -> Dict[str, int]:
    """Bytes of each line a vote can write, as the function prints them (one sampled vote, one refusal)."""
    from chalicelib.observability import logger
    handler = logger.registered_handler
    text, out = io.StringIO(), io.StringIO()
    previous = handler.setStream(text)
    rate = logger.sampling_rate
    try:
        logger.sampling_rate = 1.0  # every invocation sampled, so the accepted vote's line is written
        voter = json.loads(json.dumps(operator))
        with contextlib.redirect_stdout(out):
            assert http.post("/votes/red", headers=voter, body=body).status_code == 201
            accepted = text.getvalue()
            assert http.post("/votes/blue", headers=voter, body=body).status_code == 409
        refused = text.getvalue()[len(accepted):]
    finally:
        logger.sampling_rate = rate
        logger.refresh_sample_rate_calculation()
        handler.setStream(previous)
    emf = [line for line in out.getvalue().splitlines() if line.startswith('{"_aws"')]
    print("  the lines:", accepted.strip(), refused.strip(), *emf, sep="\n    ")

    def size(block):
        return max((len(line.encode()) for line in block.splitlines() if '"message"' in line), default=0)
    return {"vote_accepted": size(accepted), "vote_refused": size(refused),
            "refusal_emf": len(emf[0].encode()) if emf else 0}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=300, help="votes per phase per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.votes, args.rounds)
    print(f"CPU per vote, median of {args.rounds} rounds of {args.votes} ({result['machine']['cores']} cores, "
          f"{result['machine']['cpu']}, Python {result['machine']['python']})")
    print(f"  app, through chalice.test.Client on moto       {result['app_cpu_ms_per_vote']:7.3f} ms  "
          f"(moto inside: {result['moto_ms_in_app']:.3f})")
    print(f"  raw conditional PutItem on moto (baseline)      {result['raw_putitem_cpu_ms']:7.3f} ms  "
          f"(moto inside: {result['moto_ms_in_raw']:.3f})")
    print(f"  ratio app / raw, same run                       {result['ratio_app_over_raw']:7.3f}    "
          f"per round {result['per_round_ratio']}")
    print(f"  app's own CPU beyond the PutItem (app - raw)    {result['app_own_cpu_ms']:7.3f} ms")
    print(f"  PutItem client side (raw - moto)                {result['putitem_client_cpu_ms']:7.3f} ms")
    print(f"  => function CPU per warm vote (app - moto)      {result['function_cpu_ms_per_vote']:7.3f} ms")
    print(f"  resident memory after importing app.py          {result['resident_mb_after_import']:7.1f} MB")
    print(f"  log lines, bytes: {result['log_line_bytes']}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
