"""OperatorDirectory and AccountDirectory on the Cognito user pool's admin API (IAM-signed: the API role may
read users, and create them for a roll's invitations)."""
from contextlib import contextmanager
from typing import Optional

from botocore.exceptions import ClientError

from ..domain.errors import Throttled
from ..domain.roll import Account, is_email
from ..services.ports import Standing
from .dynamo import error_code

SOFTWARE_TOKEN = "SOFTWARE_TOKEN_MFA"


@contextmanager
def throttling_as_refusal():
    # Cognito's admin calls have per-second quotas (AdminGetUser 120/s, ListUsers 30/s, AdminCreateUser 50/s by
    # default): a roll request beyond them gets a 429, and its resend finds the entries done so far "already".
    try:
        yield
    except ClientError as error:
        if error_code(error) in ("TooManyRequestsException", "LimitExceededException"):
            raise Throttled("The user pool is busy; send the rest of the roll again in a moment.") from error
        raise


def _attributes(user: dict, key: str) -> dict:
    return {a["Name"]: a["Value"] for a in user.get(key) or []}


class CognitoDirectory:
    def __init__(self, client, pool_id: str):
        self._client = client
        self._pool_id = pool_id

    def standing(self, username: str) -> Optional[Standing]:
        try:
            user = self._client.admin_get_user(UserPoolId=self._pool_id, Username=username)
            groups = self._client.admin_list_groups_for_user(UserPoolId=self._pool_id, Username=username)["Groups"]
        except ClientError as error:
            if error_code(error) == "UserNotFoundException":
                return None
            raise
        return Standing(enabled=user.get("Enabled", True), groups=frozenset(g["GroupName"] for g in groups),
                        mfa=SOFTWARE_TOKEN in (user.get("UserMFASettingList") or []))

    def account(self, name: str) -> Optional[Account]:
        """The account a roll entry names: its username, else (for an email) the one account with that email."""
        with throttling_as_refusal():
            try:
                user = self._client.admin_get_user(UserPoolId=self._pool_id, Username=name)
                attributes = _attributes(user, "UserAttributes")
                return Account(username=user["Username"].lower(), sub=attributes["sub"],
                               email=attributes.get("email", ""))
            except ClientError as error:
                if error_code(error) != "UserNotFoundException":
                    raise
            if not is_email(name):
                return None
            users = self._client.list_users(UserPoolId=self._pool_id, Filter=f'email = "{name}"', Limit=2)["Users"]
        if len(users) != 1:
            return None  # none, or several accounts share the address: the entry must name the username
        attributes = _attributes(users[0], "Attributes")
        return Account(username=users[0]["Username"].lower(), sub=attributes["sub"], email=name)

    def invite(self, email: str) -> Account:
        """Create an account for this email and have Cognito mail its invitation (a temporary password)."""
        with throttling_as_refusal():
            try:
                user = self._client.admin_create_user(
                    UserPoolId=self._pool_id, Username=email, DesiredDeliveryMediums=["EMAIL"],
                    UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                )["User"]
            except ClientError as error:
                if error_code(error) == "UsernameExistsException":  # made a moment ago by another request
                    return self.account(email)
                raise
        return Account(username=user["Username"].lower(), sub=_attributes(user, "Attributes")["sub"], email=email)
