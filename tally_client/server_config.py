"""GET /config: what the server publishes for its clients, the one source of every rule a client checks before it
sends anything. Clients keep no copy of these values, not even as a fallback.

    region, user_pool_id, client_id   the pool the API trusts
    cognito_endpoint                  the local stack's Cognito (moto); null on AWS
    self_signup                       whether voters may sign up themselves
    operators_group                   the pool group whose members manage polls
    limits                            id_pattern, max_title, max_roll_batch, max_roll_body_bytes, ... (openapi.yaml)
"""
from tally_client.http import Failure, call


def fetch(api: str) -> dict:
    """The server's /config; a Failure when it answers anything but a config."""
    status, config = call(api, "GET", "/config")
    if status != 200:
        raise Failure(f"GET {api}/config answered {status}: {config.get('Message')}")
    missing = [key for key in ("user_pool_id", "client_id", "region", "operators_group", "limits")
               if key not in config]
    if missing:
        raise Failure(f"GET {api}/config lacks {', '.join(missing)}: is {api} a Tally API?")
    return dict(config)


def is_local(config: dict) -> bool:
    """Whether the pool is the local stack's (moto's Cognito), where tools may create users freely."""
    return config.get("cognito_endpoint") is not None
