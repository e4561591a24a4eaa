"""Cognito users and sign-in for the tools, in the local stack's pool (moto) or a deployed one: the pool GET /config
names, so a tool signs in exactly where the API checks its tokens.

Tools sign in with a password: ADMIN_USER_PASSWORD_AUTH, which needs IAM credentials (any on moto; an AWS
principal allowed cognito-idp:AdminInitiateAuth on a stage), so the app client offers no password flow to the
public (browsers and phones use SRP, and never send the password).
"""
import secrets
from typing import Any, Dict, Iterable

from tally_client.server_config import is_local


def pool_client(config: dict) -> Any:
    """A boto3 cognito-idp client of the pool /config names: moto's with any keys, AWS's with the caller's."""
    import boto3

    if is_local(config):
        return boto3.client("cognito-idp", region_name=config["region"], endpoint_url=config["cognito_endpoint"],
                            aws_access_key_id="local", aws_secret_access_key="local")  # moto takes any
    return boto3.client("cognito-idp", region_name=config["region"])


def new_password() -> str:
    # Meets the pool's password policy (infra/cognito.json): 12+ characters, upper, lower, digit, symbol.
    return secrets.token_urlsafe(12) + "Aa1!"


def create_user(idp: Any, pool_id: str, username: str, password: str, groups: Iterable[str] = ()) -> None:
    """A confirmed user with a permanent password, no mail sent; in each of `groups`."""
    idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def sign_in(idp: Any, pool_id: str, client_id: str, username: str, password: str) -> Dict[str, str]:
    """IdToken, AccessToken, RefreshToken for a user's password."""
    reply = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return dict(reply["AuthenticationResult"])
