"""Schemathesis against the whole local stack, from openapi.yaml, as a voter and as an operator: no 5xx, and
every answer keeps the contract (status, content type, headers and body as documented). Bounded: a fixed number
of generated cases per operation, so the run takes a few minutes at most."""
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tally_client import signin
from tests.e2e.conftest import ROOT

SPEC = Path(ROOT) / "openapi.yaml"
CASES_PER_OPERATION = 100

# A malformed request may be refused for its size before its shape is read: a roll with more entries than allowed
# can pass its route's body limit first, and 413 is the refusal then (documented as RollTooLarge).
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]}}})
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)  # a local file; where to send the cases is per call


@pytest.fixture(scope="module")
def callers(running_stack):
    """A voter's and an operator's Authorization headers, signed in through the stack's Cognito."""
    info = running_stack.info
    password = signin.new_password()
    signin.create_user(running_stack.idp, info["user_pool_id"], "fuzz-voter", password)
    voter = signin.sign_in(running_stack.idp, info["user_pool_id"], info["client_id"], "fuzz-voter", password)
    operator = signin.sign_in(running_stack.idp, info["user_pool_id"], info["client_id"],
                               info["operator"]["username"], info["operator"]["password"])
    return [{"Authorization": f"Bearer {tokens['IdToken']}"} for tokens in (voter, operator)]


def rules_beyond_the_schema(case) -> bool:
    """Requests that a rule no JSON Schema can state may refuse with a documented 400: a new poll's closes_at must
    lie in the future and after opens_at; a vote, or a look at one's own, may leave poll_id out only while exactly
    one poll is open. Every other schema-valid request must be accepted."""
    if (case.method, case.path) == ("POST", "/polls"):
        return True
    if case.path in ("/votes/{candidate}", "/votes/mine"):
        given = (case.body if isinstance(case.body, dict) else {}) | (case.query or {})
        return given.get("poll_id") is None
    return False


@schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_contract_for_voters_and_operators(case, running_stack, callers):
    excluded = [positive_data_acceptance] if rules_beyond_the_schema(case) else []
    for headers in callers:
        case.call_and_validate(base_url=running_stack.api, headers=headers, timeout=30, excluded_checks=excluded)
