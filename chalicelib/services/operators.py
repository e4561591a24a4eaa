"""Who may manage polls, asked of the user pool at the moment of asking, not of a token an hour old.

An ID token says which groups its holder was in when it was issued, and stays valid for its whole life (an
hour by default): an operator removed from `operators`, or disabled, would keep managing polls until it ran
out. Operator actions are rare (create, open, close, a roll), so each asks the pool directly: a removed
operator gets 403 on their very next operator request. Where the stage requires it, an operator must also have
TOTP MFA set up.

Results are read by dashboards every second, and only results a voter may not see yet (`after_close` before the
close, `operators` always) need an operator at all: those ask `sees_hidden_results`, which may answer from a
standing read up to `standing_ttl_s` ago (each API instance its own). A revoked operator gets the voter's view
within that time, the time a close itself takes to reach every instance; the CSV export and every action ask
the pool each time.
"""
import threading
import time
from typing import Callable, Dict, Optional, Tuple

from ..domain.errors import Forbidden
from ..domain.limits import OPERATORS_GROUP as OPERATORS
from .ports import OperatorDirectory, Standing

# Operators are few; the bound only keeps a stream of made-up usernames (each a valid token) from growing it.
MAX_CACHED = 1_000


class OperatorGate:
    def __init__(self, directory: OperatorDirectory, mfa_required: bool, standing_ttl_s: float = 0.0,
                 monotonic: Callable[[], float] = time.monotonic):
        self._directory = directory
        self._mfa_required = mfa_required
        self._ttl = standing_ttl_s
        self._monotonic = monotonic
        self._standings: Dict[str, Tuple[float, Optional[Standing]]] = {}  # username -> (read at, standing)
        self._lock = threading.Lock()

    def confirm(self, username: Optional[str], token_groups: frozenset) -> None:
        """Raise Forbidden unless the user is an operator now (and has MFA, where required)."""
        if OPERATORS not in token_groups:
            raise Forbidden("Only members of the operators group can manage polls.")
        self._judge(self._directory.standing(username) if username else None)

    def sees_hidden_results(self, username: Optional[str], token_groups: frozenset) -> bool:
        """Whether the caller is an operator, by a standing at most standing_ttl_s old: for results reads."""
        if OPERATORS not in token_groups or not username:
            return False
        try:
            self._judge(self._recent_standing(username))
        except Forbidden:
            return False
        return True

    def _recent_standing(self, username: str) -> Optional[Standing]:
        now = self._monotonic()
        kept = self._standings.get(username)
        if kept is not None and now - kept[0] < self._ttl:
            return kept[1]
        standing = self._directory.standing(username)
        with self._lock:
            if len(self._standings) >= MAX_CACHED:
                self._standings.clear()
            self._standings[username] = (now, standing)
        return standing

    def _judge(self, standing: Optional[Standing]) -> None:
        if standing is None or not standing.enabled or OPERATORS not in standing.groups:
            raise Forbidden("Only members of the operators group can manage polls; your membership has ended. "
                            "Sign in again if it was given back.")
        if self._mfa_required and not standing.mfa:
            raise Forbidden("Operators must use an authenticator app (TOTP MFA) on this stage: set it up on the "
                            "dashboard, then sign in again.")
