"""Who may manage polls, asked of the user pool at the moment of asking, not of a token an hour old.

An ID token says which groups its holder was in when it was issued, and stays valid for its whole life (an
hour by default): an operator removed from `operators`, or disabled, would keep managing polls until it ran
out. Operator actions are rare (create, open, close, a roll), so each asks the pool directly: a removed
operator gets 403 on their very next operator request. Where the stage requires it, an operator must also have
TOTP MFA set up. Results, which dashboards read every second, go by the token's groups.
"""
from ..domain.errors import Forbidden
from .ports import OperatorDirectory

OPERATORS = "operators"


class OperatorGate:
    def __init__(self, directory: OperatorDirectory, mfa_required: bool):
        self._directory = directory
        self._mfa_required = mfa_required

    def confirm(self, username: str, token_groups: frozenset) -> None:
        """Raise Forbidden unless the user is an operator now (and has MFA, where required)."""
        if OPERATORS not in token_groups:
            raise Forbidden("Only members of the operators group can manage polls.")
        standing = self._directory.standing(username) if username else None
        if standing is None or not standing.enabled or OPERATORS not in standing.groups:
            raise Forbidden("Only members of the operators group can manage polls; your membership has ended. "
                            "Sign in again if it was given back.")
        if self._mfa_required and not standing.mfa:
            raise Forbidden("Operators must use an authenticator app (TOTP MFA) on this stage: set it up on the "
                            "dashboard, then sign in again.")
