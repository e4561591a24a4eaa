"""`make run`: the whole platform on one machine, on 127.0.0.1, with nothing but Python packages.

It starts moto server (DynamoDB, Streams, Cognito, Secrets Manager), creates the tables and the user pool from the
same definitions the AWS template uses, seeds an operator and a demo poll, serves the API, writes what clients
need to <state-dir>/stack.json, and stops every process it started on Ctrl-C or SIGTERM.

The platform's data is kept in the state directory: polls, ballots, tallies, the results index, voters, the
operator and the voter-key secret are back after a stop and a start, and every change moto answered is back after
a crash of any process, the whole stack's included (a snapshot and a journal: devstack/moto_state.py). A kept
file that is damaged is said in one sentence before anything starts (devstack/state.py's check).
`make reset` (or --fresh) starts from empty. A process that dies is started again with a backoff
(devstack/supervisor.py); the stack stops only if one keeps dying.
"""
import argparse
import json
import secrets
import signal
import sys
import threading
from pathlib import Path

from devstack import cognito, state
from devstack.environment import REGION, local_environment
from devstack.static_server import port_in_use
from devstack.supervisor import Child, Supervisor
from devstack.tables import create_table_requests, table_names
from tally_client import signin
from tally_client.private_files import write_private

POOL_NAME = "tally-local"
POSITIONS_TABLE = "tally-local-stream-positions"  # the stream runner's position per shard (devstack only)

DEMO_POLL = {
    "poll_id": "demo",
    "title": "Which topping wins?",
    "candidates": [
        {"id": "margherita", "label": "Margherita"},
        {"id": "funghi", "label": "Funghi"},
        {"id": "pineapple", "label": "Pineapple"},
    ],
}


def operator_account(state_dir: Path) -> dict:
    """The demo operator's sign-in, kept across runs so a newcomer signs in with the same password."""
    path = state_dir / "operator.json"
    if path.exists():
        return json.loads(path.read_text())
    account = {"username": "operator", "password": signin.new_password()}
    write_private(path, json.dumps(account))
    return account


def voter_key(state_dir: Path) -> str:
    """The key of voters' pseudonyms, made once and kept in the state directory (0600): a new key would give
    every voter a new ballot id. On AWS the template makes it in Secrets Manager; here moto holds a copy."""
    path = state_dir / "voter-key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text()


def provision(env: dict, state_dir: Path) -> dict:
    """Make what the platform needs and moto does not hold yet. On a restored start everything is there and
    nothing is made: the pool and client keep their ids, and the demo poll is not seeded again."""
    import boto3

    from chalicelib import config
    from chalicelib.adapters.dynamo_polls import DynamoPollStore
    from chalicelib.domain.polls import new_poll
    from chalicelib.domain.times import utc_now

    settings = config.load(env)
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
    endpoint = env["AWS_ENDPOINT_URL"]
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    idp = session.client("cognito-idp", endpoint_url=endpoint)
    secrets_manager = session.client("secretsmanager", endpoint_url=endpoint)

    existing = set(dynamodb.list_tables()["TableNames"])
    fresh = not existing
    requests = create_table_requests(table_names(settings))
    requests.append({"TableName": POSITIONS_TABLE, "BillingMode": "PAY_PER_REQUEST",
                     "AttributeDefinitions": [{"AttributeName": "stream_arn", "AttributeType": "S"}],
                     "KeySchema": [{"AttributeName": "stream_arn", "KeyType": "HASH"}]})
    for request in requests:
        if request["TableName"] not in existing:
            dynamodb.create_table(**request)
            dynamodb.get_waiter("table_exists").wait(TableName=request["TableName"],
                                                     WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    if not secrets_manager.list_secrets(Filters=[{"Key": "name", "Values": [settings.voter_key_secret]}])[
            "SecretList"]:
        secrets_manager.create_secret(Name=settings.voter_key_secret, SecretString=voter_key(state_dir))
    pools = [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == POOL_NAME]
    if pools:
        pool_id = pools[0]
        client_id = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"][0]["ClientId"]
    else:
        # The pool as the stage's settings say (TALLY_SELF_SIGNUP), which GET /config tells the vote page too.
        pool_id, client_id = cognito.create_pool(idp, POOL_NAME, "open" if settings.self_signup else "closed")
    kept_password = (state_dir / "operator.json").exists()
    operator = operator_account(state_dir)
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username=operator["username"])
        if not kept_password:  # operator.json was deleted (state.check says to, when it is damaged): a new one
            idp.admin_set_user_password(UserPoolId=pool_id, Username=operator["username"],
                                        Password=operator["password"], Permanent=True)
    except idp.exceptions.UserNotFoundException:
        signin.create_user(idp, pool_id, operator["username"], operator["password"], [cognito.OPERATORS_GROUP])
    polls = DynamoPollStore(dynamodb, settings.polls_table)
    if fresh:
        polls.add(new_poll(DEMO_POLL, utc_now()))
    demo = polls.get(DEMO_POLL["poll_id"])
    return {"user_pool_id": pool_id, "client_id": client_id, "operator": operator, "restored": not fresh,
            "demo_status": demo.status(utc_now()) if demo else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--static-port", type=int, default=8080, help="the dashboard and the vote page")
    parser.add_argument("--state-dir", default=str(state.DEFAULT_STATE_DIR))
    parser.add_argument("--stage", default="local")
    parser.add_argument("--fresh", action="store_true", help="start empty: drop the kept data first (make reset)")
    args = parser.parse_args()

    state_dir = Path(args.state_dir)
    try:
        if args.fresh:
            state.reset(state_dir)
        lock = state.hold(state_dir)  # one stack per state directory; released however this process ends
        notes = state.check(state_dir)
    except (state.StateInUse, state.StateDamaged) as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"devstack: {note}", file=sys.stderr, flush=True)
    moto_file = state_dir / state.MOTO_STATE
    status_file = state_dir / "stream-status.json"
    stale = ["stack.json", status_file.name]
    if not state.has_moto_state(state_dir):
        stale += list(state.INDEX_FILES)  # moto starts empty; so must what derives from it
    for name in stale:
        (state_dir / name).unlink(missing_ok=True)
    moto_url = f"http://{args.host}:{args.moto_port}"
    api_url = f"http://{args.host}:{args.api_port}"
    env = local_environment(moto_url, args.stage, state_dir)
    env["TALLY_STREAM_STATUS_FILE"] = str(status_file)

    stopping = threading.Event()

    def shut_down(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    supervisor = Supervisor()
    restored = {}

    def read_snapshot_header():
        restored["after_crash"] = state.after_crash(state_dir)

    def mend_after_restore():
        # After an orderly stop the index agrees with moto; after a crash it may lag behind the ballots moto
        # kept, and it holding more than the ledger would mean answered votes were lost.
        if restored.get("after_crash") and restored.get("provisioned"):
            try:
                changed = state.mend_index(env)
            except Exception as error:  # the stack still serves; `make reconcile REPAIR=1` mends it later
                print(f"devstack: could not mend the results index: {error!r}", file=sys.stderr, flush=True)
                return
            print(f"devstack: moto came back from a crash with every change it answered; results index: "
                  f"{changed or 'agrees with the ledger'}", file=sys.stderr, flush=True)

    # The pages call moto's Cognito from the browser; moto answers no other web origin (devstack/moto_server.py).
    dashboard_free = not port_in_use(args.host, args.static_port)
    pages = [f"http://{name}:{args.static_port}" for name in
             ((args.host, "localhost") if args.host == "127.0.0.1" else (args.host,))] if dashboard_free else []
    moto = Child("moto", [sys.executable, "-m", "devstack.moto_server", "--host", args.host,
                          "--port", str(args.moto_port), "--state-file", str(moto_file),
                          *(arg for page in pages for arg in ("--allow-origin", page))],
                 env, str(state_dir / "moto.log"), ready_url=f"{moto_url}/moto-api/", ready_seconds=60,
                 before_start=read_snapshot_header, after_start=mend_after_restore)
    api = Child("api", [sys.executable, "-m", "devstack.api", "--host", args.host, "--port", str(args.api_port),
                        "--stage", args.stage], env, str(state_dir / "api.log"), ready_url=f"{api_url}/health")
    runner = Child("stream runner", [sys.executable, "-m", "devstack.stream_runner",
                                     "--dead-letters", str(state_dir / "dead-letters.jsonl"),
                                     "--positions-table", POSITIONS_TABLE, "--status-file", str(status_file)],
                   env, str(state_dir / "stream.log"))
    moto.dependents.append(runner)
    static = None
    try:
        supervisor.start(moto)
        ids = provision(env, state_dir)
        restored["provisioned"] = True
        mend_after_restore()
        env["TALLY_USER_POOL_ID"] = ids["user_pool_id"]
        env["TALLY_CLIENT_ID"] = ids["client_id"]

        supervisor.start(runner)
        supervisor.start(api)

        # The dashboard: static files and the config.json made from the API (devstack/static_server.py).
        # A busy port costs the dashboard, not the stack: tools that start a stack of their own need no pages.
        dashboard_url = None
        if not dashboard_free:
            print(f"Port {args.static_port} is in use, so the dashboard is not served; "
                  "choose another port with --static-port.", file=sys.stderr)
        else:
            dashboard_url = f"http://{args.host}:{args.static_port}/"
            static = supervisor.start(Child(
                "static server", [sys.executable, "-m", "devstack.static_server", "--host", args.host,
                                  "--port", str(args.static_port), "--api-url", api_url],
                env, str(state_dir / "static.log"), ready_url=f"{dashboard_url}config.json"))

        stack = {"api_url": api_url, "moto_url": moto_url, "region": REGION, "dashboard_url": dashboard_url,
                 "user_pool_id": ids["user_pool_id"], "client_id": ids["client_id"], "operator": ids["operator"]}
        write_private(state_dir / "stack.json", json.dumps(stack, indent=2))
        print(banner(stack, state_dir, ids), flush=True)

        while not stopping.wait(0.2):
            reason = supervisor.check()
            if reason:
                print(f"devstack: {reason}", file=sys.stderr, flush=True)
                return 1
        return 0
    except (RuntimeError, TimeoutError) as error:  # a child that did not come up: its log's last line says why
        print(f"devstack: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # Whatever writes to moto stops first; then moto saves its state and exits.
        supervisor.stop_all([[c for c in (static, api, runner) if c is not None], [moto]])
        (state_dir / "stack.json").unlink(missing_ok=True)
        lock.close()


def dashboard_lines(url) -> str:
    if url is None:
        return "  Dashboard      not served: its port is in use (python -m devstack --static-port N)"
    return (f"  Dashboard      {url}   (operators: sign in with the account below)\n"
            f"  Vote page      {url}vote.html   (voters: .venv/bin/python -m cli voter add NAME)")


def banner(stack: dict, state_dir: Path, ids: dict) -> str:
    operator = stack["operator"]
    demo = (f"demo ({ids['demo_status']})   results: {stack['api_url']}/polls/demo/results" if ids["demo_status"]
            else "none")
    kept = ("restored from the last run: polls, ballots, results, voters" if ids["restored"]
            else "a new, empty platform")
    return f"""
Tally is up.
  API            {stack['api_url']}   (try {stack['api_url']}/health, {stack['api_url']}/health?deep=1)
  Cognito, AWS   {stack['moto_url']}   (moto server: DynamoDB, Streams, Cognito, Secrets Manager)
{dashboard_lines(stack['dashboard_url'])}
  Operator       username {operator['username']}  password {operator['password']}
  Demo poll      {demo}
  Stream         ballots -> tallies and results index ({state_dir}/results.sqlite3);
                 records that fail go to {state_dir}/dead-letters.jsonl
  State          {kept}. It is kept when the stack stops;
                 `make reset` (with the stack stopped) starts from empty.

Make a voter and vote (in another terminal):
  .venv/bin/python -m cli vote margherita --as alice
  .venv/bin/python -m cli poll demo --as alice
Logs and state: {state_dir}.  Stop with Ctrl-C.
"""


if __name__ == "__main__":
    sys.exit(main())
