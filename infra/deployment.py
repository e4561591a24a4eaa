"""What a deployment is: the template's parameters and the audience it is sized for, read from the project's files.

One source for the three tools that need it: `make deploy` sends the parameters, `make preflight` checks the
account's quotas against what they and the audience need, and the capacity model (capacity/) sizes and prices both.

- The parameters: each infra/*.json piece's Default, then, for a big vote, infra/overrides/big-vote.json's
  Parameters, then the deployer's own (PARAMS="Name=value ..."). "After" a big vote sets the big vote's parameters
  back to their defaults, except the ballots table's warm throughput, which can only go up.
- The audience: Audience's defaults (a try-out: what the template's defaults are sized and priced for), then, for a
  big vote, the file's Audience and its Poll's expected peak; after the big vote, the try-out's again.
"""
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Mapping, Optional

from infra import project_root

ROOT = project_root()
BIG_VOTE_FILE = ROOT / "infra" / "overrides" / "big-vote.json"
# Raised before a big vote and kept after it: a table's warm throughput never goes down again (tables.json).
KEPT_AFTER_BIG_VOTE = ("BallotsWarmWriteUnitsPerSecond", "BallotsWarmReadUnitsPerSecond")
MODES = ("defaults", "big-vote", "after")


@dataclass(frozen=True)
class Audience:
    """The people one event brings and how they arrive. A voter's visit, as the vote page makes it (issue 19's
    budget): open the join link, sign in (or be signed in already), vote, watch the results for a few minutes."""
    name: str = "a try-out, 1,000 voters"
    peak_votes_per_s: float = 1_000           # votes a second at the event's busiest
    voters: int = 1_000                       # voters of one event: at the first, every one of them is new
    new_voter_share: float = 1.0              # at each later event, the share that is new (the rest return)
    sign_up_days: float = 30                  # the days before the first event over which its voters sign up
    sign_in_minutes: float = 60               # the window before the vote in which voters open the page
    peak_to_average: float = 3                # a window's busiest second against its average (AWS's example)
    visit_minutes: float = 5
    function_requests_per_visit: int = 3      # requests of a visit that reach the API function, the vote included
    poll_document_every_s: float = 2          # the vote page and screens read the public document this often
    votes_per_voter: float = 1
    invitations_per_day: int = 0              # roll invitations mailed a day (AdminCreateUser), sign-ups aside
    polls_open: int = 1
    events_per_month: int = 1
    big_vote_hours_per_event: float = 0       # hours the big vote's parameters stay deployed, per event

    @property
    def sign_ups(self) -> float:
        """The first event's: every voter is new then, the busiest sign-up of the month."""
        return self.voters

    @property
    def monthly_active_users(self) -> float:
        """Distinct voters in a month: the first event's all, then the new ones of each later event."""
        return self.voters * (1 + (self.events_per_month - 1) * self.new_voter_share)


@dataclass(frozen=True)
class Settings:
    mode: str
    parameters: Dict[str, Any]
    audience: Audience
    poll_peak_votes_per_s: int  # the figure the event's poll is created with: it sets the poll's buckets

    @property
    def name(self) -> str:
        return {"defaults": "defaults", "big-vote": "big vote", "after": "after the big vote"}[self.mode]

    def number(self, parameter: str) -> float:
        return float(self.parameters[parameter])

    def as_dict(self) -> Dict[str, Any]:
        return {"mode": self.mode, "parameters": self.parameters, "audience": asdict(self.audience),
                "poll_peak_votes_per_s": self.poll_peak_votes_per_s}


def big_vote_file() -> Dict[str, Any]:
    return json.loads(BIG_VOTE_FILE.read_text())


def template_parameters() -> Dict[str, Dict[str, Any]]:
    """Every parameter the pieces of infra/ declare, with its spec: the template's own Parameters."""
    from infra.build_template import load_pieces  # every infra/*.json, merged as the template merges them

    return load_pieces().get("Parameters", {})


def parse_overrides(text: Optional[str]) -> Dict[str, str]:
    """PARAMS="Name=value Name2=value2" (CloudFormation's --parameter-overrides form) as a dict."""
    found = {}
    for item in (text or "").split():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"PARAMS takes Name=value pairs; {item!r} is not one")
        found[name] = value
    return found


def parameters(mode: str = "defaults", overrides: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    if mode not in MODES:
        raise ValueError(f"mode is one of {MODES}, not {mode!r}")
    specs = template_parameters()
    values = {name: spec.get("Default") for name, spec in specs.items()}
    big = big_vote_file()["Parameters"]
    if mode == "big-vote":
        values.update(big)
    elif mode == "after":
        values.update({name: big[name] for name in KEPT_AFTER_BIG_VOTE})
    unknown = sorted(set(overrides or {}) - set(specs))
    if unknown:
        raise ValueError(f"the template has no parameter {', '.join(unknown)}")
    for name, value in (overrides or {}).items():
        values[name] = float(value) if specs[name]["Type"] == "Number" else value
        if specs[name]["Type"] == "Number" and values[name] == int(values[name]):
            values[name] = int(values[name])
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}: give it in PARAMS")
    return values


def audience(mode: str = "defaults", **changes: Any) -> Audience:
    found = Audience()
    if mode == "big-vote":
        found = replace(found, **big_vote_file()["Audience"])
    known = {spec.name for spec in fields(Audience)}
    return replace(found, **{name: value for name, value in changes.items() if name in known and value is not None})


def settings(mode: str = "defaults", overrides: Optional[Mapping[str, str]] = None,
             **audience_changes: Any) -> Settings:
    """The deployment `make deploy` makes in this mode, and the audience it is checked and priced for."""
    from chalicelib.domain.ballots import DEFAULT_PEAK_VOTES_PER_S

    poll = big_vote_file()["Poll"]["expected_peak_votes_per_s"] if mode == "big-vote" else DEFAULT_PEAK_VOTES_PER_S
    return Settings(mode=mode, parameters=parameters(mode, overrides), audience=audience(mode, **audience_changes),
                    poll_peak_votes_per_s=poll)
