"""OperatorDirectory and AccountDirectory on the Cognito user pool's admin API (IAM-signed: the API role may
read users, and create them for a roll's invitations)."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Dict, Iterator, Mapping, Optional

from botocore.exceptions import ClientError

from ..domain.errors import Conflict, Throttled
from ..domain.roll import Account, is_email
from ..services.ports import Standing
from .dynamo import error_code

if TYPE_CHECKING:  # the typed client is the checker's (requirements-dev.txt), not in the Lambda package
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

SOFTWARE_TOKEN = "SOFTWARE_TOKEN_MFA"


@contextmanager
def throttling_as_refusal() -> Iterator[None]:
    # Cognito's admin calls have per-second quotas (AdminGetUser 120/s, ListUsers 30/s, AdminCreateUser 50/s by
    # default): a roll request beyond them gets a 429, and its resend finds the entries done so far "already".
    try:
        yield
    except ClientError as error:
        if error_code(error) == "LimitExceededException" and "daily email limit" in str(error).lower():
            # Cognito's own mail sends 50 messages a day for the account: no resend succeeds before tomorrow.
            raise Throttled("The user pool has sent all the email it may today (Cognito's own mail: 50 a day): the "
                            "rest of the invitations can go out tomorrow (UTC), or at once from a stage that mails "
                            "through SES (SesIdentityArn, docs/deploying.md).", retry_after_s=_until_tomorrow_s()
                            ) from error
        if error_code(error) in ("TooManyRequestsException", "LimitExceededException"):
            raise Throttled("The user pool is busy; send the rest of the roll again in a moment.") from error
        raise


def _until_tomorrow_s() -> int:
    now = datetime.now(timezone.utc)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), timezone.utc)
    return max(1, int((midnight - now).total_seconds()))


def _attributes(user: Mapping[str, Any], key: str) -> Dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.get(key) or []}


def _proves(attributes: dict, status: Optional[str], email: str) -> bool:
    """Whether an account has shown it owns `email`: the address is its own, verified, and the account confirmed
    (an invitation's FORCE_CHANGE_PASSWORD counts: the invitation went to that address)."""
    return (attributes.get("email", "").lower() == email and attributes.get("email_verified") == "true"
            and status not in ("UNCONFIRMED", None))


class CognitoDirectory:
    def __init__(self, client: "CognitoIdentityProviderClient", pool_id: str):
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
        """The account a roll entry names: its username, else (for an email) the one account with that email.

        An entry that is an email address binds only to an account that proved it owns that address (the address
        verified, the account confirmed): anyone can sign up with someone else's address and never confirm it, and
        a roll entry must not hand the owner's vote to them."""
        with throttling_as_refusal():
            user = self._user(name)
            if user is not None:
                attributes = _attributes(user, "UserAttributes")
                if not is_email(name) or _proves(attributes, user.get("UserStatus"), name):
                    return Account(username=user["Username"].lower(), sub=attributes["sub"],
                                   email=attributes.get("email", ""))
            if not is_email(name):
                return None
            users = self._client.list_users(UserPoolId=self._pool_id, Filter=f'email = "{name}"', Limit=60)["Users"]
        owners = [u for u in users if _proves(_attributes(u, "Attributes"), u.get("UserStatus"), name)]
        if len(owners) != 1:
            return None  # none, or several accounts share the address: the entry must name the username
        return Account(username=owners[0]["Username"].lower(), sub=_attributes(owners[0], "Attributes")["sub"],
                       email=name)

    def invite(self, email: str) -> Account:
        """Create an account for this email and have Cognito mail its invitation (a temporary password). An
        unconfirmed account that holds the address as its username never proved it owned it: it is deleted so
        that the owner can be invited."""
        with throttling_as_refusal():
            holder = self._user(email)
            if holder is not None and holder.get("UserStatus") == "UNCONFIRMED":
                self._client.admin_delete_user(UserPoolId=self._pool_id, Username=holder["Username"])
            try:
                user = self._client.admin_create_user(
                    UserPoolId=self._pool_id, Username=email, DesiredDeliveryMediums=["EMAIL"],
                    UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                )["User"]
            except ClientError as error:
                if error_code(error) != "UsernameExistsException":
                    raise
                made = self.account(email)  # made a moment ago by another request
                if made is None:
                    raise Conflict(f"An account for {email} is being made by another request at this moment; "
                                   "send the roll again.") from None
                return made
        return Account(username=user["Username"].lower(), sub=_attributes(user, "Attributes")["sub"], email=email)

    def _user(self, username: str) -> Optional[Mapping[str, Any]]:
        try:
            return self._client.admin_get_user(UserPoolId=self._pool_id, Username=username)
        except ClientError as error:
            if error_code(error) == "UserNotFoundException":
                return None
            raise
