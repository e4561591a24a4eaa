"""Who a voter is in what Tally stores and logs: a keyed pseudonym, never the Cognito sub.

A ballot item holds HMAC-SHA256(key, sub) instead of the sub, so the ballots table, a backup of it or an index
document alone links nobody to a vote; only the functions, which hold the key, can compute a voter's pseudonym,
and only from that voter's sub. The same sub always gives the same pseudonym, so one ballot per voter holds and
GET /votes/mine finds the ballot again. Logs carry a second, separate pseudonym (another message under the same
key), so a log line cannot be joined to a ballot item either.
"""
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class VoterKeys:
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise ValueError("the voter key must be at least 32 bytes")

    def _mac(self, purpose: bytes, sub: str) -> str:
        return hmac.new(self.secret, purpose + b"\n" + sub.encode(), hashlib.sha256).hexdigest()

    def ballot_id(self, sub: str) -> str:
        """The voter's id in the ballots table: 64 hex characters."""
        return self._mac(b"ballot", sub)

    def log_ref(self, sub: str) -> str:
        """A stable handle for the voter in logs, unrelated to the ballot id without the key."""
        return self._mac(b"log", sub)[:16]
