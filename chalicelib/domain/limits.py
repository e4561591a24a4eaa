"""The rules a client checks before it sends anything, as GET /config publishes them: gathered here from the
modules that keep them (polls, ballots, roll), which import nothing of this one. openapi.yaml states the same,
and tests/unit/test_openapi.py holds the two together."""
from .ballots import MAX_PEAK_VOTES_PER_S
from .polls import ID_PATTERN, MAX_CANDIDATES, MAX_LABEL, MAX_TITLE, MIN_CANDIDATES, RESERVED_IDS
from .roll import MAX_ROLL_BATCH

# The user pool group whose members manage polls: the template creates it (infra/cognito.json OperatorsGroup).
OPERATORS_GROUP = "operators"


def client_limits() -> dict:
    return {"id_pattern": f"^{ID_PATTERN.pattern}$", "max_title": MAX_TITLE, "max_label": MAX_LABEL,
            "min_candidates": MIN_CANDIDATES, "max_candidates": MAX_CANDIDATES,
            "max_peak_votes_per_s": MAX_PEAK_VOTES_PER_S, "reserved_ids": sorted(RESERVED_IDS),
            "max_roll_batch": MAX_ROLL_BATCH}
