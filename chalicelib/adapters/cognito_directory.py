"""OperatorDirectory on the Cognito user pool's admin API (IAM-signed: the API role may read users only)."""
from typing import Optional

from botocore.exceptions import ClientError

from ..services.ports import Standing
from .dynamo import error_code

SOFTWARE_TOKEN = "SOFTWARE_TOKEN_MFA"


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
