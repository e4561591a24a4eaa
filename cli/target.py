"""Which stack the CLI talks to: an API, and the state directory of the local stack that serves it, where its
files are (stack.json: the API's address and the operator's password; voters.json: the passwords of the voters
the CLI made).

    --state-dir DIR (TALLY_STATE_DIR)   the stack that runs from DIR: its API is DIR/stack.json's api_url
    --api URL (TALLY_API_URL)           that API; its state directory is the default one only if that names it
    neither                             the `make run` stack, from .devstack/

An option on the command line outranks the environment, so `--state-dir` follows its stack even where
TALLY_API_URL is set for another one.
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from devstack.stack import default_state_dir
from tally_client.http import Failure

POINT_ELSEWHERE = "Name the stack with --state-dir DIR (TALLY_STATE_DIR), or the API with --api URL (TALLY_API_URL)."


@dataclass(frozen=True)
class Target:
    api: str
    state_dir: Optional[Path]  # None: no state directory we know of describes this API (a stage, a stack elsewhere)

    def files(self, what: str) -> Path:
        """The state directory, for `what` needs it; a Failure that says what to pass when none is known."""
        if self.state_dir is None:
            raise Failure(f"{what} is kept in the state directory of the stack that serves {self.api}, and none "
                          f"is known for that address: pass --state-dir DIR (or TALLY_STATE_DIR) of that stack.")
        return self.state_dir


def api_of(state_dir: Path) -> Optional[str]:
    """The API a stack's stack.json names, or None when there is no readable stack.json."""
    try:
        return json.loads((Path(state_dir) / "stack.json").read_text())["api_url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def same_api(one: Optional[str], other: Optional[str]) -> bool:
    return bool(one and other) and one.rstrip("/") == other.rstrip("/")


def resolve(api: Optional[str] = None, state_dir: Optional[str] = None, environ=os.environ,
            default: Optional[Path] = None) -> Target:
    """The target the options (None when absent), then the environment, then the default state directory name."""
    api = api or (None if state_dir else environ.get("TALLY_API_URL"))
    state_dir = state_dir or environ.get("TALLY_STATE_DIR")
    if state_dir:
        found = api_of(Path(state_dir))
        if not (api or found):
            raise Failure(f"No stack runs from {state_dir}: its stack.json is missing or unreadable. Start one "
                          f"with `python -m devstack --state-dir {state_dir}`, or pass --api URL.")
        return Target((api or found).rstrip("/"), Path(state_dir))
    default = default or default_state_dir()
    found = api_of(default)
    if api:
        return Target(api.rstrip("/"), default if same_api(api, found) else None)
    if not found:
        raise Failure(f"No stack to talk to: {default / 'stack.json'} is missing, so the `make run` stack is not "
                      f"up. Start it with `make run`, or: {POINT_ELSEWHERE}")
    return Target(found.rstrip("/"), default)
