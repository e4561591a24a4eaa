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
import shlex
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--static-port", type=int, default=8080, help="the dashboard and the vote page")
    parser.add_argument("--state-dir", default=str(state.DEFAULT_STATE_DIR))
    parser.add_argument("--stage", default="local")
    parser.add_argument("--fresh", action="store_true", help="start empty: drop the kept data first (make reset)")
    return parser.parse_args()


def open_state(state_dir: Path, fresh: bool):
    """Hold the state directory (one stack per directory; released however this process ends) and say what in it
    is damaged. Raises StateInUse or StateDamaged."""
    if fresh:
        state.reset(state_dir)
    lock = state.hold(state_dir)
    for note in state.check(state_dir):
        print(f"devstack: {note}", file=sys.stderr, flush=True)
    return lock


def drop_stale_files(state_dir: Path, status_file: Path) -> None:
    """What the last run left that this one writes again, and, when moto starts empty, what derives from it."""
    stale = ["stack.json", status_file.name]
    if not state.has_moto_state(state_dir):
        stale += list(state.INDEX_FILES)
    for name in stale:
        (state_dir / name).unlink(missing_ok=True)


def stop_on_signals() -> threading.Event:
    stopping = threading.Event()

    def shut_down(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    return stopping


class CrashRecovery:
    """Mends the results index when moto comes back from a crash: after an orderly stop the index agrees with moto;
    after a crash it may lag behind the ballots moto kept, and it holding more than the ledger would mean answered
    votes were lost. Moto's child calls it around every start; main once the platform is provisioned."""

    def __init__(self, env: dict, state_dir: Path):
        self.env, self.state_dir = env, state_dir
        self.after_crash = self.provisioned = False

    def read_snapshot_header(self) -> None:
        self.after_crash = state.after_crash(self.state_dir)

    def mend_after_restore(self) -> None:
        if not (self.after_crash and self.provisioned):
            return
        try:
            changed = state.mend_index(self.env)
        except Exception as error:  # the stack still serves; `make reconcile REPAIR=1` mends it later
            print(f"devstack: could not mend the results index: {error!r}", file=sys.stderr, flush=True)
            return
        print(f"devstack: moto came back from a crash with every change it answered; results index: "
              f"{changed or 'agrees with the ledger'}", file=sys.stderr, flush=True)


def page_origins(args: argparse.Namespace) -> list:
    """The pages' web origins: they call moto's Cognito from the browser, and moto answers no other web origin
    (devstack/moto_server.py). None when the dashboard's port is taken: no pages are served then."""
    if port_in_use(args.host, args.static_port):
        return []
    hosts = (args.host, "localhost") if args.host == "127.0.0.1" else (args.host,)
    return [f"http://{name}:{args.static_port}" for name in hosts]


def platform_children(args: argparse.Namespace, env: dict, state_dir: Path, pages: list,
                      recovery: CrashRecovery) -> tuple:
    """moto, the API and the stream runner, as the supervisor starts them (and starts again when they die)."""
    moto_url, api_url = f"http://{args.host}:{args.moto_port}", f"http://{args.host}:{args.api_port}"
    moto = Child("moto", [sys.executable, "-m", "devstack.moto_server", "--host", args.host,
                          "--port", str(args.moto_port), "--state-file", str(state_dir / state.MOTO_STATE),
                          *(arg for page in pages for arg in ("--allow-origin", page))],
                 env, str(state_dir / "moto.log"), ready_url=f"{moto_url}/moto-api/", ready_seconds=60,
                 before_start=recovery.read_snapshot_header, after_start=recovery.mend_after_restore)
    api = Child("api", [sys.executable, "-m", "devstack.api", "--host", args.host, "--port", str(args.api_port),
                        "--stage", args.stage], env, str(state_dir / "api.log"), ready_url=f"{api_url}/health")
    runner = Child("stream runner", [sys.executable, "-m", "devstack.stream_runner",
                                     "--dead-letters", str(state_dir / "dead-letters.jsonl"),
                                     "--positions-table", POSITIONS_TABLE,
                                     "--status-file", env["TALLY_STREAM_STATUS_FILE"]],
                   env, str(state_dir / "stream.log"))
    moto.dependents.append(runner)
    return moto, api, runner


def dashboard_child(args: argparse.Namespace, env: dict, state_dir: Path, api_url: str) -> Child:
    """The dashboard: static files and the config.json made from the API (devstack/static_server.py)."""
    return Child("static server", [sys.executable, "-m", "devstack.static_server", "--host", args.host,
                                   "--port", str(args.static_port), "--api-url", api_url],
                 env, str(state_dir / "static.log"), ready_url=f"http://{args.host}:{args.static_port}/config.json")


def watch(supervisor: Supervisor, stopping: threading.Event) -> int:
    """Until Ctrl-C or SIGTERM: 0; or 1 once a child keeps dying."""
    while not stopping.wait(0.2):
        reason = supervisor.check()
        if reason:
            print(f"devstack: {reason}", file=sys.stderr, flush=True)
            return 1
    return 0


def main() -> int:
    args = parse_args()
    state_dir = Path(args.state_dir)
    try:
        lock = open_state(state_dir, args.fresh)
    except (state.StateInUse, state.StateDamaged) as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1
    status_file = state_dir / "stream-status.json"
    drop_stale_files(state_dir, status_file)
    moto_url = f"http://{args.host}:{args.moto_port}"
    api_url = f"http://{args.host}:{args.api_port}"
    env = local_environment(moto_url, args.stage, state_dir)
    env["TALLY_STREAM_STATUS_FILE"] = str(status_file)
    stopping = stop_on_signals()
    supervisor = Supervisor()
    recovery = CrashRecovery(env, state_dir)
    pages = page_origins(args)
    moto, api, runner = platform_children(args, env, state_dir, pages, recovery)
    static = None
    try:
        supervisor.start(moto)
        ids = provision(env, state_dir)
        recovery.provisioned = True
        recovery.mend_after_restore()
        env["TALLY_USER_POOL_ID"] = ids["user_pool_id"]
        env["TALLY_CLIENT_ID"] = ids["client_id"]
        supervisor.start(runner)
        supervisor.start(api)
        # A busy port costs the dashboard, not the stack: tools that start a stack of their own need no pages.
        dashboard_url = None
        if not pages:
            print(f"Port {args.static_port} is in use, so the dashboard is not served; "
                  "choose another port with --static-port.", file=sys.stderr)
        else:
            dashboard_url = f"http://{args.host}:{args.static_port}/"
            static = supervisor.start(dashboard_child(args, env, state_dir, api_url))

        stack = {"api_url": api_url, "moto_url": moto_url, "region": REGION, "dashboard_url": dashboard_url,
                 "user_pool_id": ids["user_pool_id"], "client_id": ids["client_id"], "operator": ids["operator"]}
        write_private(state_dir / "stack.json", json.dumps(stack, indent=2))
        print(banner(stack, state_dir, ids), flush=True)
        return watch(supervisor, stopping)
    except (RuntimeError, TimeoutError) as error:  # a child that did not come up: its log's last line says why
        print(f"devstack: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # Whatever writes to moto stops first; then moto saves its state and exits.
        supervisor.stop_all([[c for c in (static, api, runner) if c is not None], [moto]])
        (state_dir / "stack.json").unlink(missing_ok=True)
        lock.close()


def cli_command(state_dir: Path) -> str:
    """The CLI as a newcomer types it for this stack, from the project's directory: the state directory alone
    names the stack (its stack.json gives the API's address), so only one that is not the default is said."""
    if Path(state_dir).resolve() == state.DEFAULT_STATE_DIR.resolve():
        return ".venv/bin/python -m cli"
    return f".venv/bin/python -m cli --state-dir {shlex.quote(str(Path(state_dir).resolve()))}"


def reset_command(state_dir: Path) -> str:
    if Path(state_dir).resolve() == state.DEFAULT_STATE_DIR.resolve():
        return "make reset"
    return f"make reset STATE_DIR={shlex.quote(str(Path(state_dir).resolve()))}"


def dashboard_lines(url, cli: str) -> str:
    if url is None:
        return "  Dashboard      not served: its port is in use (python -m devstack --static-port N)"
    return (f"  Dashboard      {url}   (operators: sign in with the account below)\n"
            f"  Vote page      {url}vote.html   (voters: {cli} voter add NAME)")


def banner(stack: dict, state_dir: Path, ids: dict) -> str:
    operator, cli = stack["operator"], cli_command(state_dir)
    demo = (f"demo ({ids['demo_status']})   results: {stack['api_url']}/polls/demo/results" if ids["demo_status"]
            else "none")
    kept = ("restored from the last run: polls, ballots, results, voters" if ids["restored"]
            else "a new, empty platform")
    try_it = (f"Make a voter and vote (in another terminal):\n  {cli} vote margherita --as alice --poll demo\n"
              f"  {cli} poll demo --as alice" if ids["demo_status"] == "open" else
              f"Make a voter and see the polls (in another terminal):\n  {cli} voter add alice\n"
              f"  {cli} polls --as alice")
    return f"""
Tally is up.
  API            {stack['api_url']}   (try {stack['api_url']}/health, {stack['api_url']}/health?deep=1)
  Cognito, AWS   {stack['moto_url']}   (moto server: DynamoDB, Streams, Cognito, Secrets Manager)
{dashboard_lines(stack['dashboard_url'], cli)}
  Operator       username {operator['username']}  password {operator['password']}
  Demo poll      {demo}
  Stream         ballots -> tallies and results index ({state_dir}/results.sqlite3);
                 records that fail go to {state_dir}/dead-letters.jsonl
  State          {kept}. It is kept when the stack stops;
                 `{reset_command(state_dir)}` (with the stack stopped) starts from empty.

{try_it}
Logs and state: {state_dir}.  Stop with Ctrl-C.
"""


if __name__ == "__main__":
    sys.exit(main())
