"""A poll: its shape, how a new one is validated, and what its status is at an instant."""
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Optional, TypeGuard

from .ballots import DEFAULT_PEAK_VOTES_PER_S, buckets_for
from .errors import Invalid
from .times import parse_instant

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
MAX_TITLE = 200
MAX_LABEL = 200
MIN_CANDIDATES = 2
MAX_CANDIDATES = 100
# Who sees a poll's results besides its operators: live, everyone while it runs; after_close, everyone once it is
# closed; operators, no one else, ever (a board's internal vote, a result announced from the stage).
RESULTS_MODES = ("live", "after_close", "operators")
# open: anyone signed in votes; roll: only the accounts on the poll's roll (domain/roll.py).
ELECTORATES = ("open", "roll")
# Fixed path segments that stand where an id could: POST /votes/{candidate} beside GET /votes/mine. An id equal
# to one could be created but never used (tests/unit/test_openapi.py derives them from the app's routes).
RESERVED_IDS = frozenset({"mine"})
CREATE_FIELDS = {"poll_id", "title", "candidates", "opens_at", "closes_at", "results", "expected_peak_votes_per_s",
                 "electorate"}


@dataclass(frozen=True)
class Candidate:
    id: str
    label: str


@dataclass(frozen=True)
class Poll:
    poll_id: str
    title: str
    candidates: tuple
    created_at: str
    opens_at: Optional[str] = None
    closes_at: Optional[str] = None
    results: str = "live"
    expected_peak_votes_per_s: int = DEFAULT_PEAK_VOTES_PER_S
    buckets: int = 1  # how many partition keys hold its ballots: set at creation, never changed
    electorate: str = "open"
    _ids: frozenset = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ids", frozenset(c.id for c in self.candidates))

    def status(self, now: str) -> str:
        """Status follows the clock: closing wins over opening, so a poll closed early stays closed."""
        if self.closes_at is not None and now >= self.closes_at:
            return "closed"
        if self.opens_at is not None and now < self.opens_at:
            return "scheduled"
        return "open"

    def results_shown(self, now: str) -> bool:
        """May anyone who is not an operator (a voter, the public document) see the results at `now`?"""
        if self.results == "live":
            return True
        return self.results == "after_close" and self.status(now) == "closed"

    def results_at(self) -> Optional[str]:
        """When the results are shown to everyone, final: the close (None while no close is set), or None for
        ever when only operators see them."""
        return None if self.results == "operators" else self.closes_at

    def has_candidate(self, candidate_id: str) -> bool:
        return candidate_id in self._ids

    def opened(self, now: str) -> "Poll":
        if self.status(now) != "scheduled":
            return self
        return replace(self, opens_at=now)

    def closing(self, requested: Optional[str], earliest: str) -> "Poll":
        """The poll as it closes at `requested`, but never before `earliest`: the instant by which every
        function instance has re-read the poll, so that each refuses ballots cast from then on by itself. A
        close already set for sooner stands, as every instance knows it already."""
        effective = max(requested or earliest, earliest)
        if self.closes_at is not None and self.closes_at <= effective:
            return self
        return replace(self, closes_at=effective)


def is_valid_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def check_id(value: object, field_name: str) -> str:
    if not is_valid_id(value):
        raise Invalid(
            f"{field_name} must be 1 to 63 characters of lowercase letters, digits and hyphens, "
            "starting with a letter or digit."
        )
    return value


def _text(value: object, field_name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field_name} must be a string.")
    if not value.strip():
        raise Invalid(f"{field_name} must not be empty.")
    if len(value) > limit:
        raise Invalid(f"{field_name} must be at most {limit} characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON's \ud800 escapes decode to lone surrogates, which no store or client can take.
        raise Invalid(f"{field_name} must be valid Unicode text.") from None
    return value


def _candidate_id(value: object, where: str) -> str:
    candidate_id = check_id(value, where)
    if candidate_id in RESERVED_IDS:
        raise Invalid(f"{where} cannot be {candidate_id!r}: the API uses that word in its paths "
                      f"(reserved: {', '.join(sorted(RESERVED_IDS))}).")
    return candidate_id


def _candidate(raw: object, position: int) -> Candidate:
    where = f"candidates[{position}]"
    if isinstance(raw, str):
        return Candidate(id=_candidate_id(raw, where), label=raw)
    if not isinstance(raw, dict):
        raise Invalid(f"{where} must be an id string or an object with id and label.")
    extra = set(raw) - {"id", "label"}
    if extra:
        raise Invalid(f"{where} has unknown fields: {', '.join(sorted(extra))}.")
    candidate_id = _candidate_id(raw.get("id"), f"{where}.id")
    label = _text(raw.get("label", candidate_id), f"{where}.label", MAX_LABEL)
    return Candidate(id=candidate_id, label=label)


def _new_poll_id(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    suffix = secrets.token_hex(3)
    return f"{slug}-{suffix}" if slug else f"poll-{suffix}"


def new_poll(body: dict, now: str) -> Poll:
    """Validate an operator's request for a poll and build it, created at `now`."""
    extra = set(body) - CREATE_FIELDS
    if extra:
        raise Invalid(f"Unknown fields: {', '.join(sorted(extra))}.")
    title = _text(body.get("title"), "title", MAX_TITLE)
    raw_candidates = body.get("candidates")
    if not isinstance(raw_candidates, list):
        raise Invalid("candidates must be a list of candidate ids or {id, label} objects.")
    if not MIN_CANDIDATES <= len(raw_candidates) <= MAX_CANDIDATES:
        raise Invalid(f"A poll needs {MIN_CANDIDATES} to {MAX_CANDIDATES} candidates.")
    candidates = tuple(_candidate(raw, i) for i, raw in enumerate(raw_candidates))
    seen = set()
    for candidate in candidates:
        if candidate.id in seen:
            raise Invalid(f"Candidate id {candidate.id} appears twice.")
        seen.add(candidate.id)

    poll_id = body.get("poll_id")
    poll_id = check_id(poll_id, "poll_id") if poll_id is not None else _new_poll_id(title)
    opens_at = parse_instant(body["opens_at"], "opens_at") if body.get("opens_at") is not None else None
    closes_at = parse_instant(body["closes_at"], "closes_at") if body.get("closes_at") is not None else None
    if closes_at is not None:
        if closes_at <= now:
            raise Invalid("closes_at must be in the future.")
        if opens_at is not None and closes_at <= opens_at:
            raise Invalid("closes_at must be later than opens_at.")
    results = "live" if body.get("results") is None else body["results"]  # null like the other optionals
    if results not in RESULTS_MODES:
        raise Invalid('results must be "live" (shown while open), "after_close" (shown once closed) or '
                      '"operators" (never shown beyond operators).')
    electorate = "open" if body.get("electorate") is None else body["electorate"]
    if electorate not in ELECTORATES:
        raise Invalid('electorate must be "open" (anyone signed in) or "roll" (only the voters on its roll).')
    peak = body.get("expected_peak_votes_per_s")
    peak = DEFAULT_PEAK_VOTES_PER_S if peak is None else peak
    return Poll(
        poll_id=poll_id,
        title=title,
        candidates=candidates,
        created_at=now,
        opens_at=opens_at,
        closes_at=closes_at,
        results=results,
        expected_peak_votes_per_s=peak,
        buckets=buckets_for(peak),
        electorate=electorate,
    )


def poll_view(poll: Poll, now: str) -> dict:
    """The poll as the API shows it (openapi.yaml, Poll)."""
    return {
        "poll_id": poll.poll_id,
        "title": poll.title,
        "candidates": [{"id": c.id, "label": c.label} for c in poll.candidates],
        "status": poll.status(now),
        "opens_at": poll.opens_at,
        "closes_at": poll.closes_at,
        "results": poll.results,
        "created_at": poll.created_at,
        "expected_peak_votes_per_s": poll.expected_peak_votes_per_s,
        "electorate": poll.electorate,
    }
