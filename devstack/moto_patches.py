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
