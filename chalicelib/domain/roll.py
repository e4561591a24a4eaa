"""A poll's electorate and roll: who may vote, named by the operator, and what a roll change reports.

An `open` poll takes a ballot from anyone signed in. A `roll` poll takes one only from the accounts on its roll,
each of which holds a blank ballot under its own ballot key from the moment it is added: a vote fills the blank
with one conditional write, so eligibility costs the vote no read (adapters/dynamo_ballots.py). A blank is not a
ballot and never counts (events/ballot_records.py, the ledger's ballots()).

A roll is secret from its own operator too (docs/security.md): no answer to an operator may depend on whether one
voter has voted. So a roll shrinks only before its poll opens, when nobody can have voted (a removal then takes out
the blank, entry and size together); once the poll opens, the roll can still grow, and adding someone already on it
answers `already` whether or not they have voted. Once the poll closes, its roll is final.
"""
import re
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

from .errors import Conflict, Forbidden, Invalid
from .polls import Poll
from .times import later

MAX_ROLL_BATCH = 1_000  # entries per request: an API Gateway request must end within 29 s, Cognito lookups included
MAX_ENTRY = 128  # Cognito's limit for a username
# An entry is a username or an email address: no whitespace or control characters (Cognito's usernames have
# none), and no quotes or backslashes (an email goes into a Cognito ListUsers filter, which has no escaping). The
# same pattern is the entries' schema in openapi.yaml (tests/unit/test_openapi.py holds them together).
# The control ranges and U+FEFF are named as well as \s: Python's \s and JSON Schema's (ECMA's) differ on U+0085
# and U+FEFF, and the pattern must mean the same to the API and to its clients.
_CHAR = r'[^\s@"\\\u0000-\u001f\u007f-\u009f\ufeff]'
_TLD = r'[^\s@."\\\u0000-\u001f\u007f-\u009f\ufeff]'
ENTRY_PATTERN = f"^(?:{_CHAR}+|{_CHAR}+@{_CHAR}+\\.{_TLD}+)$"
# Kept as text, compiled (and cached by `re`) on first use: compiling them costs a vote's cold start ~4 ms, and
# votes import this module without ever checking an entry.
EMAIL_PATTERN = f"{_CHAR}+@{_CHAR}+\\.{_TLD}+"
ROLL_PAGE = 100


def is_email(entry: str) -> bool:
    return re.fullmatch(EMAIL_PATTERN, entry) is not None


def entries(body: dict, field_name: str = "voters") -> List[str]:
    """The request's roll entries, each trimmed and lowercased (the user pool is case-insensitive), in order.
    Any malformed entry refuses the whole request, naming it, so a batch is never half-taken."""
    raw = body.get(field_name)
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ROLL_BATCH:
        raise Invalid(f"{field_name} must be a list of 1 to {MAX_ROLL_BATCH:,} usernames or email addresses.")
    found, bad = [], []
    for position, entry in enumerate(raw):
        well_formed = isinstance(entry, str) and len(entry) <= MAX_ENTRY and re.fullmatch(ENTRY_PATTERN, entry)
        if well_formed and _encodable(entry):
            found.append(entry.lower())
        else:
            bad.append(position)
    if bad:
        shown = ", ".join(f"{field_name}[{p}]" for p in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise Invalid(f"Not a username or email address: {shown} (1 to {MAX_ENTRY} characters, with no spaces, "
                      "quotes or backslashes). Nothing was added.")
    return found


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # JSON's \ud800 escapes decode to lone surrogates, which no store or client can take
    except UnicodeEncodeError:
        return False
    return True


def roll_request(body: dict, invite_allowed: bool = True) -> Tuple[List[str], bool]:
    """A roll change's entries, and whether to invite those without an account."""
    fields = {"voters", "invite"} if invite_allowed else {"voters"}
    extra = set(body) - fields
    if extra:
        raise Invalid(f"Unknown fields: {', '.join(sorted(extra))}. The body holds {' and '.join(sorted(fields))}.")
    invite = False if body.get("invite") is None else body["invite"]
    if not isinstance(invite, bool):
        raise Invalid("invite must be true or false.")
    return entries(body), invite


def check_roll_can_change(poll: Poll, now: str) -> None:
    if poll.electorate != "roll":
        raise Conflict(f"Poll {poll.poll_id} is open to every signed-in voter; it has no roll.")
    if poll.status(now) == "closed":
        raise Conflict(f"Poll {poll.poll_id} is closed; its roll is final.")


def check_roll_can_shrink(poll: Poll, now: str, clock_skew_s: float) -> None:
    """A removal's answer would say whether the voter has voted (their blank filled or not), and taking out a
    counted ballot's voter would let the turnout's cast pass its roll: so voters leave a roll only while no ballot
    can exist, that is while `now` is more than the instances' clock skew before `opens_at`. `poll` must be the
    stored poll, not a cached copy: opening a poll moves its `opens_at` to that moment."""
    check_roll_can_change(poll, now)
    if poll.opens_at is None or later(now, clock_skew_s) >= poll.opens_at:
        raise Conflict(f"Poll {poll.poll_id} has opened, so no one can be taken off its roll: whether a removal "
                       "worked would tell whether that voter has voted. Voters can still be added. Remove voters "
                       "before a poll opens (create it with opens_at).")


@dataclass(frozen=True)
class Account:
    """A user pool account as a roll needs it: the name the roll lists, and the sub its ballot key comes from."""
    username: str
    sub: str
    email: str = ""


@dataclass(frozen=True)
class Enrolment:
    """One account to put on a poll's roll: its roll entry, and its blank ballot's key."""
    username: str
    email: str
    voter_id: str
    bucket: int


@dataclass
class RollReport:
    """What a roll addition did, entry by entry: added + already + len(unknown) is the number of entries sent.
    `invited` counts the added accounts that were created, and mailed an invitation, by this request."""
    added: int = 0
    already: int = 0
    invited: int = 0
    unknown: List[str] = field(default_factory=list)

    def view(self) -> dict:
        return {"added": self.added, "already": self.already, "invited": self.invited, "unknown": self.unknown}


@dataclass
class RemovalReport:
    """What a roll removal did (before the poll opens): removed + len(absent) + len(unknown) entries."""
    removed: int = 0
    absent: List[str] = field(default_factory=list)
    unknown: List[str] = field(default_factory=list)

    def view(self) -> dict:
        return {"removed": self.removed, "absent": self.absent, "unknown": self.unknown}


def first_of_each(accounts: Sequence[Tuple[str, Account]]) -> Tuple[List[Tuple[str, Account]], int]:
    """The entries naming distinct accounts, and how many named one already named (a username and its email)."""
    seen, kept = set(), []
    for entry, account in accounts:
        if account.sub not in seen:
            seen.add(account.sub)
            kept.append((entry, account))
    return kept, len(accounts) - len(kept)


class NotOnRoll(Forbidden):
    def __init__(self, poll_id: str):
        super().__init__(f"You are not on the roll of poll {poll_id}: only the voters its operators listed may vote "
                         "in it. If you should be, ask them to add the account you signed in with.")
