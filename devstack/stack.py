"""A running local stack, as the tools and tests beside it see one: the one place that starts `python -m devstack`
for another program, waits until it is ready, reads its settings, makes and signs in Cognito users, talks HTTP to
its API, and stops it.

    with LocalStack.start() as stack:                        # free ports, a temporary state dir; stopped on exit
        operator = stack.client(stack.token("operator"))
        operator.post("/polls", json={"poll_id": "p", "title": "P?", "candidates": ["a", "b"]})
        voter = stack.client(stack.new_voter("vic"))         # a Cognito user made and signed in
        voter.post("/votes/a", json={"poll_id": "p"})

    stack = LocalStack.attach(default_state_dir())           # the `make run` stack, or None if none answers
    with LocalStack.attach_or_start(default_state_dir(), own_state_dir) as stack: ...   # that one, else our own

A stack it starts runs without the caller's AWS_* and TALLY_* settings (they must not point it anywhere but its
own moto), plus what `environment` adds, and is tied to this process: it gets SIGTERM if this process dies.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional

import requests

from devstack import processes, state
from tally_client import signin

START_DEADLINE_S = 120
# Longer than the supervisor's own worst case (devstack/supervisor.py: 30 s for the children, then 30 s for moto's
# last snapshot), so that a slow but orderly stop is never cut short into a SIGKILL.
STOP_DEADLINE_S = 75
LOCAL_KEYS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}  # moto takes any


def default_state_dir() -> Path:
    """Where `make run` keeps the stack's files (stack.json, operator.json, voters.json, its data, logs)."""
    return state.DEFAULT_STATE_DIR


def clean_environment(environment: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """This process's environment without AWS_* and TALLY_* settings, plus `environment`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TALLY_"))}
    env.update(environment or {})
    return env


class ApiClient(requests.Session):
    """HTTP to one API, paths relative to it, with a caller's ID token: `client.post("/votes/a", json=...)`."""

    def __init__(self, api_url: str, token: Optional[str] = None, timeout: float = 30):
        super().__init__()
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url if url.startswith("http") else self.api_url + url, *args, **kwargs)


class LocalStack:
    """One local stack's settings (its stack.json), and the process if this program started it."""

    def __init__(self, state_dir: Path, process: Optional[subprocess.Popen] = None, own_dir: bool = False):
        self.state_dir = Path(state_dir)
        self.process = process
        self._own_dir = own_dir  # a temporary state dir this object made: removed after a clean stop
        self.info = json.loads((self.state_dir / "stack.json").read_text())
        self.api_url = self.info["api_url"]
        self.moto_url = self.info["moto_url"]
        self.region = self.info["region"]
        self.user_pool_id = self.info["user_pool_id"]
        self.client_id = self.info["client_id"]
        self.operator = self.info["operator"]
        self._idp = None

    @property
    def api(self) -> str:
        return self.api_url

    # --- finding one, starting one ----------------------------------------------------------------------------

    @classmethod
    def attach(cls, state_dir: Path, deadline_s: float = 2) -> Optional["LocalStack"]:
        """The stack whose stack.json is in state_dir if it is running and its API answers /health, else None
        (`not_running` says why)."""
        return None if cls.not_running(state_dir, deadline_s) else cls(state_dir)

    @staticmethod
    def not_running(state_dir: Path, deadline_s: float = 2) -> Optional[str]:
        """Why no stack of state_dir can be attached to, or None when one runs and answers. A killed stack leaves
        its stack.json behind, and by then its address may answer for another stack or program: only a stack
        that still holds the state directory's lock is this one."""
        stack_file = Path(state_dir) / "stack.json"
        try:
            api_url = json.loads(stack_file.read_text())["api_url"]
        except FileNotFoundError:
            return f"{stack_file} is missing"
        except (OSError, ValueError, KeyError, TypeError):
            return f"{stack_file} does not read as a stack's settings"
        if not state.running(Path(state_dir)):
            return (f"{stack_file} was left by a stack that is not running any more (killed?), so its address "
                    f"{api_url} is not used")
        try:
            processes.wait_for_http(f"{api_url}/health", deadline_s)
        except (OSError, TimeoutError):
            return f"the stack's API at {api_url} does not answer"
        return None

    @classmethod
    def start(cls, state_dir: Optional[Path] = None, environment: Optional[Dict[str, str]] = None,
              deadline_s: float = START_DEADLINE_S) -> "LocalStack":
        """`python -m devstack` on free ports, ready: stack.json written and /health answering. Without a
        state_dir, a temporary one, removed when the stack stops cleanly (kept, with the logs, after an error).
        The supervisor's own output goes to <state_dir>/devstack.log."""
        own_dir = state_dir is None
        state_dir = Path(tempfile.mkdtemp(prefix="tally-stack-")) if own_dir else Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "stack.json").unlink(missing_ok=True)
        ports = set()
        while len(ports) < 3:
            ports.add(processes.free_port())
        api_port, moto_port, static_port = ports
        log = state_dir / "devstack.log"
        process = processes.spawn(
            [sys.executable, "-m", "devstack", "--api-port", str(api_port), "--moto-port", str(moto_port),
             "--static-port", str(static_port), "--state-dir", str(state_dir)],
            clean_environment(environment), str(log))
        try:
            cls._wait_until_ready(process, state_dir, deadline_s)
            return cls(state_dir, process, own_dir)
        except BaseException:
            _terminate(process)
            raise

    @classmethod
    def attach_or_start(cls, state_dir: Path, own_state_dir: Optional[Path] = None) -> "LocalStack":
        """The running stack of state_dir (`make run`'s), else one of our own, stopped with this object."""
        return cls.attach(state_dir) or cls.start(own_state_dir)

    @staticmethod
    def _wait_until_ready(process: subprocess.Popen, state_dir: Path, deadline_s: float) -> None:
        stack_file = state_dir / "stack.json"
        deadline = time.monotonic() + deadline_s
        while not stack_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"the local stack exited with {process.returncode} before it was up:\n"
                                   f"{_tail(state_dir / 'devstack.log')}\n(logs in {state_dir})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the local stack was not up within {deadline_s:.0f} s (logs in {state_dir})")
            time.sleep(0.05)
        api_url = json.loads(stack_file.read_text())["api_url"]
        processes.wait_for_http(f"{api_url}/health", max(1.0, deadline - time.monotonic()), process)

    def children(self) -> Dict[str, int]:
        """The processes of a stack this object started, by the module each runs (`python -m <module>`): pid."""
        pids = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if self.process is not None and ppid == self.process.pid and b"-m" in argv:
                pids[argv[argv.index(b"-m") + 1].decode()] = int(entry.name)
        return pids

    # --- stopping ---------------------------------------------------------------------------------------------

    def stop(self, failed: bool = False) -> Optional[int]:
        """SIGTERM to a stack this object started and wait for it (it stops its own children first); the exit
        status, or None for a stack it only attached to."""
        if self.process is None:
            return None
        status = _terminate(self.process)
        if self._own_dir and not failed:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        elif self._own_dir:
            print(f"the local stack's logs are kept in {self.state_dir}", file=sys.stderr)
        return status

    def __enter__(self) -> "LocalStack":
        return self

    def __exit__(self, exc_type, _exc, _tb) -> None:
        self.stop(failed=exc_type is not None)

    # --- AWS (moto) and Cognito -------------------------------------------------------------------------------

    def aws_client(self, service: str, **client_config):
        """A boto3 client of the stack's moto; `client_config` goes to botocore's Config."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(region_name=self.region, **LOCAL_KEYS).client(
            service, endpoint_url=self.moto_url, config=Config(**client_config) if client_config else None)

    @property
    def idp(self):
        """The stack's Cognito (cognito-idp on moto)."""
        if self._idp is None:
            self._idp = self.aws_client("cognito-idp", max_pool_connections=8)
        return self._idp

    def environment(self, stage: str = "local") -> Dict[str, str]:
        """What a process of this stack runs with (another API process, reconcile): devstack/environment.py."""
        from devstack.environment import stack_environment

        return stack_environment(self.state_dir, stage)

    def settings(self, stage: str = "local"):
        """The stack's chalicelib Settings (table names, index, pool), as its API has them."""
        from chalicelib import config

        return config.load(self.environment(stage))

    def runtime_settings(self, stage: str = "local"):
        """The stack's Settings, with this process's environment pointed at its moto (boto3 finds it through
        AWS_ENDPOINT_URL), so that a chalicelib Runtime built here reads and writes this stack's tables."""
        from chalicelib import config

        env = self.environment(stage)
        os.environ.update(env)
        return config.load(env)

    def create_user(self, username: str, password: Optional[str] = None, groups=()) -> str:
        """A user in the stack's pool; returns the password."""
        password = password or signin.new_password()
        signin.create_user(self.idp, self.user_pool_id, username, password, groups)
        return password

    def sign_in(self, username: str, password: Optional[str] = None) -> dict:
        """IdToken, AccessToken, RefreshToken for a user (the operator's password is the stack's own)."""
        if password is None and username == self.operator["username"]:
            password = self.operator["password"]
        return signin.sign_in(self.idp, self.user_pool_id, self.client_id, username, password)

    def token(self, username: str, password: Optional[str] = None) -> str:
        return self.sign_in(username, password)["IdToken"]

    def new_voter(self, username: str) -> str:
        """A voter made in the pool and signed in: its ID token."""
        return self.token(username, self.create_user(username))

    def client(self, token: Optional[str] = None) -> ApiClient:
        return ApiClient(self.api_url, token)


def _terminate(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
