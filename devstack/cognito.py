"""The local user pool: created the way the AWS template defines it, and signed in to as a real client would."""
import secrets
from typing import Iterable, Tuple

OPERATORS_GROUP = "operators"


def new_password() -> str:
    # Meets Cognito's default policy: length, upper, lower, digit, symbol.
    return secrets.token_urlsafe(12) + "Aa1!"


def create_pool(cognito, name: str = "tally-local") -> Tuple[str, str]:
    """Create the pool, its web app client (USER_PASSWORD_AUTH, no secret) and the operators group."""
    pool_id = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="tally-web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(GroupName=OPERATORS_GROUP, UserPoolId=pool_id,
                         Description="May create, open and close polls and always see results.")
    return pool_id, client_id


def create_user(cognito, pool_id: str, username: str, password: str, groups: Iterable[str] = ()) -> None:
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def sign_in(cognito, client_id: str, username: str, password: str) -> dict:
    """USER_PASSWORD_AUTH, as the dashboard and the phones do. Returns IdToken, AccessToken, RefreshToken."""
    reply = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return reply["AuthenticationResult"]
