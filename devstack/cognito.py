"""The local user pool: created from infra/cognito.json, the template's own definition, and signed in to as a
real client would."""
import secrets
from typing import Iterable, Tuple

from infra import piece

RESOURCES = piece("cognito")["Resources"]
OPERATORS_GROUP = RESOURCES["OperatorsGroup"]["Properties"]["GroupName"]


def new_password() -> str:
    # Meets the pool's password policy in infra/cognito.json: 12+ characters, upper, lower, digit, symbol.
    return secrets.token_urlsafe(12) + "Aa1!"


def create_pool(cognito, name: str = "tally-local") -> Tuple[str, str]:
    """Create the pool, its web app client (SRP, refresh, admin password sign-in; no secret) and the operators
    group, with the properties the template gives them that decide how sign-in behaves."""
    pool = RESOURCES["UserPool"]["Properties"]
    client = RESOURCES["UserPoolClient"]["Properties"]
    group = RESOURCES["OperatorsGroup"]["Properties"]
    pool_id = cognito.create_user_pool(PoolName=name, Policies=pool["Policies"],
                                       AdminCreateUserConfig=pool["AdminCreateUserConfig"],
                                       MfaConfiguration=pool["MfaConfiguration"])["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=pool["MfaConfiguration"],
                                     SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in
                                                                    pool["EnabledMfas"]})
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        **{key: client[key] for key in ("ClientName", "GenerateSecret", "ExplicitAuthFlows")},
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName=group["GroupName"], Description=group["Description"])
    return pool_id, client_id


def create_user(cognito, pool_id: str, username: str, password: str, groups: Iterable[str] = ()) -> None:
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def sign_in(cognito, pool_id: str, client_id: str, username: str, password: str) -> dict:
    """Sign a tool in with a password: ADMIN_USER_PASSWORD_AUTH, which needs IAM credentials, so the app client
    offers no password flow to the public (browsers and phones use SRP, and never send the password). Returns
    IdToken, AccessToken, RefreshToken."""
    reply = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return reply["AuthenticationResult"]
