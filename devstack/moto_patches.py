"""Where moto's emulation differs from AWS in a way Tally meets, the smallest patch that makes it behave as AWS
does. The local moto server installs them all; the in-process tests install the ones they meet."""
import copy


def name_srp_users_by_username(patch=setattr) -> None:
    """SRP: moto names the user by sub in USER_ID_FOR_SRP where Cognito names them by username (in a pool without
    username attributes), and amazon-cognito-identity-js then signs the wrong name."""
    from moto.cognitoidp.models import CognitoIdpBackend

    initiate_auth = CognitoIdpBackend.initiate_auth

    def patched(self, client_id, auth_flow, auth_parameters):
        reply = initiate_auth(self, client_id, auth_flow, auth_parameters)
        if reply.get("ChallengeName") == "PASSWORD_VERIFIER":
            _, pool = self.sessions[reply["Session"]]
            if not pool.extended_config.get("UsernameAttributes"):
                reply["ChallengeParameters"]["USER_ID_FOR_SRP"] = reply["ChallengeParameters"]["USERNAME"]
        return reply

    patch(CognitoIdpBackend, "initiate_auth", patched)


def transactions_without_table_copies(patch=setattr) -> None:
    """TransactWriteItems: moto backs up every table a transaction touches, once per item, by deep copy, to roll
    back if a condition fails (measured: 74 s to add a 1,000-voter roll to an empty poll, and it grows with the
    tables). Checking every condition before writing anything needs no backup: the transaction is then cancelled
    with the same reasons, or applied whole. Tally's transactions (adapters/dynamo_roll.py) cannot fail once their
    conditions hold, so no rollback is ever needed."""
    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models.table import Table

    class TablesKept:
        """The models module's `copy`, except that a table is "copied" as itself."""

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    apply = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        reasons = []
        for entry in transact_items:
            kind, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            key = op.get("Key") or {name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr)
                                    if name is not None}
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is None or get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                                          op.get("ExpressionAttributeValues")).expr(current):
                reasons.append((None, None, None))
                continue
            old = current.to_json()["Attributes"] if current is not None and \
                op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        return apply(self, transact_items)

    patch(models, "copy", TablesKept)
    patch(models.DynamoDBBackend, "transact_write_items", transact_write_items)


def teach_moto(patch=setattr) -> None:
    """What the vote page's account steps need of Cognito that moto 5 lacks or gets wrong (the local moto server
    installs it; tests that use mock_aws pass monkeypatch.setattr as `patch`, so that it is undone). Idempotent."""
    teach_moto_delete_user(patch)
    teach_moto_new_password_attributes(patch)
    teach_moto_confirmation_verifies_email(patch)


def teach_moto_confirmation_verifies_email(patch=setattr) -> None:
    """Cognito's ConfirmSignUp, in a pool that verifies email by a code (AutoVerifiedAttributes), marks the email
    verified (`email_verified` true): the code reached that address. moto only confirms the account. A roll entry
    by email binds only to a verified address (adapters/cognito_directory.py), so without this no self-signed-up
    voter could be put on a roll by email locally."""
    from moto.cognitoidp.models import CognitoIdpBackend

    if getattr(CognitoIdpBackend, "tally_confirmation_verifies_email", False):
        return
    confirm_sign_up = CognitoIdpBackend.confirm_sign_up

    def patched(self, client_id, username):
        reply = confirm_sign_up(self, client_id, username)
        pool = next(p for p in self.user_pools.values() if client_id in p.clients)
        user = pool._get_user(username)
        if "email" in pool.extended_config.get("AutoVerifiedAttributes", []) and "email" in user.attribute_lookup:
            user.attributes = [a for a in user.attributes if a["Name"] != "email_verified"]
            user.attributes.append({"Name": "email_verified", "Value": "true"})
        return reply

    patch(CognitoIdpBackend, "confirm_sign_up", patched)
    patch(CognitoIdpBackend, "tally_confirmation_verifies_email", True)


def teach_moto_delete_user(patch=setattr) -> None:
    """Give moto Cognito's DeleteUser, which moto 5 lacks ("not implemented"): a signed-in user deletes their own
    account with their access token, as the vote page's "Delete my account" does. As on Cognito, a token that is
    unknown or signed out is refused (NotAuthorizedException), and the user's tokens stop working with the user."""
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import EmptyResult

    if getattr(CognitoIdpResponse, "delete_user", None) is not None:
        return

    def delete_user(self):
        token = self._get_param("AccessToken")
        backend = self._get_region_agnostic_backend()._find_backend_by_access_token(token)
        user = backend.get_user(token)  # refuses a token it does not know, or of a disabled or unconfirmed user
        pool = backend.user_pools[user.user_pool_id]
        pool.sign_out(user.username)
        backend.admin_delete_user(pool.id, user.username)
        return EmptyResult()

    patch(CognitoIdpResponse, "delete_user", delete_user)


def teach_moto_new_password_attributes(patch=setattr) -> None:
    """Cognito's NEW_PASSWORD_REQUIRED challenge (an invited account's first sign-in) names the account's
    attributes and those it must still give, as JSON strings `userAttributes` and `requiredAttributes`; moto sends
    neither, and amazon-cognito-identity-js cannot read the challenge without them ("undefined" is not valid JSON).
    Adds them: the user's attributes, and none required (Tally's pool requires none)."""
    import json

    from moto.cognitoidp.models import CognitoIdpBackend

    if getattr(CognitoIdpBackend, "tally_new_password_attributes", False):
        return

    def with_attributes(method):
        def patched(self, *args, **kwargs):
            reply = method(self, *args, **kwargs)
            if reply.get("ChallengeName") == "NEW_PASSWORD_REQUIRED" and reply.get("Session") in self.sessions:
                username, pool = self.sessions[reply["Session"]]
                parameters = reply.setdefault("ChallengeParameters", {})
                user = pool._get_user(parameters.get("USERNAME") or username)
                attributes = {a["Name"]: a["Value"] for a in (user.attributes if user else []) if a["Name"] != "sub"}
                parameters.setdefault("userAttributes", json.dumps(attributes))
                parameters.setdefault("requiredAttributes", "[]")
            return reply
        return patched

    for name in ("initiate_auth", "admin_initiate_auth", "respond_to_auth_challenge"):
        patch(CognitoIdpBackend, name, with_attributes(getattr(CognitoIdpBackend, name)))
    patch(CognitoIdpBackend, "tally_new_password_attributes", True)
