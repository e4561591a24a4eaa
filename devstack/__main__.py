"""`make run`: the whole platform on one machine, on 127.0.0.1, with nothing but Python packages.

It starts moto server (DynamoDB, Streams, Cognito), creates the tables and the user pool from the same
definitions the AWS template uses, seeds an operator and a demo poll, serves the API, writes what clients
need to <state-dir>/stack.json, and stops every process it started on Ctrl-C or SIGTERM.
"""
import argparse
import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack import cognito, processes  # noqa: E402
from devstack.environment import REGION, local_environment  # noqa: E402
from devstack.static_server import port_in_use  # noqa: E402
from devstack.tables import create_tables  # noqa: E402

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
    account = {"username": "operator", "password": cognito.new_password()}
    write_private(path, json.dumps(account))
    return account


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from the first byte (it holds a password)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def voter_key(state_dir: Path) -> str:
    """The key of voters' pseudonyms, made once and kept in the state directory (0600): a new key would give
    every voter a new ballot id. On AWS the template makes it in Secrets Manager; here moto holds a copy."""
    path = state_dir / "voter-key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text()


def provision(env: dict, state_dir: Path) -> dict:
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

    create_tables(dynamodb, settings)
    session.client("secretsmanager", endpoint_url=endpoint).create_secret(Name=settings.voter_key_secret,
                                                                          SecretString=voter_key(state_dir))
    pool_id, client_id = cognito.create_pool(idp)
    operator = operator_account(state_dir)
    cognito.create_user(idp, pool_id, operator["username"], operator["password"], [cognito.OPERATORS_GROUP])
    DynamoPollStore(dynamodb, settings.polls_table).add(new_poll(DEMO_POLL, utc_now()))
    return {"user_pool_id": pool_id, "client_id": client_id, "operator": operator}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--static-port", type=int, default=8080, help="the dashboard and the vote page")
    parser.add_argument("--state-dir", default=str(ROOT / ".devstack"))
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()

    state_dir = Path(args.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("stack.json", "results.sqlite3", "results.sqlite3-wal", "results.sqlite3-shm"):
        (state_dir / stale).unlink(missing_ok=True)  # moto starts empty; so must what derives from it
    moto_url = f"http://{args.host}:{args.moto_port}"
    api_url = f"http://{args.host}:{args.api_port}"
    env = local_environment(moto_url, args.stage, state_dir)

    children = []
    stopping = threading.Event()

    def shut_down(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    try:
        moto = processes.spawn([sys.executable, "-m", "devstack.moto_server", "--host", args.host,
                                "--port", str(args.moto_port)],
                               env, str(state_dir / "moto.log"))
        children.append(moto)
        processes.wait_for_http(f"{moto_url}/moto-api/", 30, moto)

        ids = provision(env, state_dir)
        env["TALLY_USER_POOL_ID"] = ids["user_pool_id"]
        env["TALLY_CLIENT_ID"] = ids["client_id"]

        api = processes.spawn([sys.executable, "-m", "devstack.api", "--host", args.host,
                               "--port", str(args.api_port), "--stage", args.stage],
                              env, str(state_dir / "api.log"))
        children.append(api)
        children.append(processes.spawn([sys.executable, "-m", "devstack.stream_runner",
                                         "--dead-letters", str(state_dir / "dead-letters.jsonl")],
                                        env, str(state_dir / "stream.log")))
        processes.wait_for_http(f"{api_url}/health", 30, api)

        # The dashboard: static files and the config.json made from the API (devstack/static_server.py).
        # A busy port costs the dashboard, not the stack: tools that start a stack of their own need no pages.
        dashboard_url = None
        if port_in_use(args.host, args.static_port):
            print(f"Port {args.static_port} is in use, so the dashboard is not served; "
                  "choose another port with --static-port.", file=sys.stderr)
        else:
            dashboard_url = f"http://{args.host}:{args.static_port}/"
            static = processes.spawn([sys.executable, "-m", "devstack.static_server", "--host", args.host,
                                      "--port", str(args.static_port), "--api-url", api_url],
                                     env, str(state_dir / "static.log"))
            children.append(static)
            processes.wait_for_http(f"{dashboard_url}config.json", 30, static)

        stack = {"api_url": api_url, "moto_url": moto_url, "region": REGION, "dashboard_url": dashboard_url, **ids}
        write_private(state_dir / "stack.json", json.dumps(stack, indent=2))
        print(banner(stack, state_dir), flush=True)

        while not stopping.wait(0.5):
            for child in children:
                if child.poll() is not None:
                    print(f"{child.args[2]} exited with {child.returncode}; stopping the stack "
                          f"(logs in {state_dir}).", file=sys.stderr)
                    return 1
        return 0
    finally:
        processes.stop(children)
        (state_dir / "stack.json").unlink(missing_ok=True)


def dashboard_lines(url) -> str:
    if url is None:
        return "  Dashboard      not served: its port is in use (python -m devstack --static-port N)"
    return (f"  Dashboard      {url}   (operators: sign in with the account below)\n"
            f"  Vote page      {url}vote.html   (voters: .venv/bin/python -m cli voter add NAME)")


def banner(stack: dict, state_dir: Path) -> str:
    operator = stack["operator"]
    return f"""
Tally is up.
  API            {stack['api_url']}   (try {stack['api_url']}/health)
  Cognito, AWS   {stack['moto_url']}   (moto server: DynamoDB, Streams, Cognito)
{dashboard_lines(stack['dashboard_url'])}
  Operator       username {operator['username']}  password {operator['password']}
  Demo poll      demo (open)   results: {stack['api_url']}/polls/demo/results
  Stream         ballots -> tallies and results index ({state_dir}/results.sqlite3);
                 records that fail go to {state_dir}/dead-letters.jsonl

Make a voter and vote (in another terminal):
  .venv/bin/python -m cli vote margherita --as alice
  .venv/bin/python -m cli poll demo --as alice
Logs and state: {state_dir}.  Stop with Ctrl-C.
"""


if __name__ == "__main__":
    sys.exit(main())
