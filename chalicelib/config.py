"""Settings, read once from the environment that Chalice's stage config (or the local stack) provides."""
import os
from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class Settings:
    region: str
    polls_table: str
    ballots_table: str
    tallies_table: str
    rolls_table: str
    user_pool_id: str
    client_id: str
    cognito_endpoint: Optional[str]
    jwks_url_override: Optional[str]
    poll_cache_seconds: float
    opensearch_url: Optional[str]
    opensearch_sigv4: bool
    index_path: str
    voter_key_secret: str  # the Secrets Manager secret holding the key of voters' pseudonyms
    operator_mfa_required: bool  # operator routes refuse an operator without TOTP MFA
    self_signup: bool  # voters may create their own accounts (the user pool allows it; GET /config says so)

    @property
    def issuer(self) -> str:
        # Cognito tokens carry the AWS-style issuer even when moto issues them.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        if self.jwks_url_override:
            return self.jwks_url_override
        if self.cognito_endpoint:
            return f"{self.cognito_endpoint.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.issuer}/.well-known/jwks.json"


def load(environ: Mapping[str, str] = os.environ) -> Settings:
    return Settings(
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        polls_table=environ.get("TALLY_POLLS_TABLE", "tally-polls"),
        ballots_table=environ.get("TALLY_BALLOTS_TABLE", "tally-ballots"),
        tallies_table=environ.get("TALLY_TALLIES_TABLE", "tally-tallies"),
        rolls_table=environ.get("TALLY_ROLLS_TABLE", "tally-rolls"),
        user_pool_id=environ.get("TALLY_USER_POOL_ID", ""),
        client_id=environ.get("TALLY_CLIENT_ID", ""),
        cognito_endpoint=environ.get("TALLY_COGNITO_ENDPOINT") or None,
        jwks_url_override=environ.get("TALLY_JWKS_URL") or None,
        poll_cache_seconds=float(environ.get("TALLY_POLL_CACHE_SECONDS", "5")),
        opensearch_url=environ.get("OPENSEARCH_URL") or None,
        opensearch_sigv4=environ.get("TALLY_OPENSEARCH_SIGV4", "false").lower() == "true",
        index_path=environ.get("TALLY_INDEX_PATH", "/tmp/tally-results.sqlite3"),
        voter_key_secret=environ.get("TALLY_VOTER_KEY_SECRET", "tally-voter-key"),
        operator_mfa_required=environ.get("TALLY_OPERATOR_MFA", "optional").lower() == "required",
        self_signup=environ.get("TALLY_SELF_SIGNUP", "closed").lower() == "open",
    )
