"""RollStore on DynamoDB: the roll's entries (rolls table), its voters' blanks (ballots table) and its size (the
tallies table's roll lane), always changed together.

Each voter's blank and roll entry, and the size's change, go in one TransactWriteItems, conditional on the voter
having no ballot yet: so the size is exactly the number of blanks and ballots the roll made, and a failure at any
point leaves every voter either wholly on the roll or not at all. A transaction takes 100 items: 49 voters of
2 items each, and the size. A voter already on the roll fails their condition and cancels the transaction; the
cancellation names them, and the rest go again without them.

Nothing here may let a reader of the roll table and of the ballots stream match a name to a blank, and so to the
ballot that fills it (docs/security.md): an entry carries the day it was added, never a finer time, and a
request's blanks are written in the order of their own voter ids (keyed pseudonyms), which says nothing the
stored ids do not already say, rather than in the order the operator sent the names.
"""
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple

from botocore.exceptions import ClientError

from ..domain.roll import Enrolment
from .dynamo import error_code, throttling_as_refusal
from .dynamo_ballots import BLANK, blank_item, partition_key
from .dynamo_tallies import ROLL_LANE, ROLL_SIZE

if TYPE_CHECKING:  # the typed client is the checker's (requirements-dev.txt), not in the Lambda package
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef, TransactWriteItemTypeDef

VOTERS_PER_TRANSACTION = 49
MAX_ATTEMPTS = 5


class DynamoRollStore:
    def __init__(self, client: "DynamoDBClient", rolls_table: str, ballots_table: str, tallies_table: str,
                 clock: Callable[[], str]):
        self._client = client
        self._rolls = rolls_table
        self._ballots = ballots_table
        self._tallies = tallies_table
        self._clock = clock

    def _size_change(self, poll_id: str, change: int) -> "TransactWriteItemTypeDef":
        return {"Update": {
            "TableName": self._tallies,
            "Key": {"poll_id": {"S": poll_id}, "shard_id": {"S": ROLL_LANE}},
            "UpdateExpression": "ADD #size :change",
            "ExpressionAttributeNames": {"#size": ROLL_SIZE},
            "ExpressionAttributeValues": {":change": {"N": str(change)}},
        }}

    def enrol(self, poll_id: str, voters: Sequence[Enrolment]) -> List[str]:
        """Put the voters on the roll; return the usernames of those that were on it already."""
        already: List[str] = []
        voters = sorted(voters, key=lambda voter: voter.voter_id)
        for start in range(0, len(voters), VOTERS_PER_TRANSACTION):
            already += self._enrol_some(poll_id, voters[start:start + VOTERS_PER_TRANSACTION])
        return already

    def _enrol_some(self, poll_id: str, pending: List[Enrolment]) -> List[str]:
        already: List[str] = []
        added_on = self._clock()[:len("2026-12-01")]
        for _ in range(MAX_ATTEMPTS):
            if not pending:
                return already
            items: List["TransactWriteItemTypeDef"] = []
            for voter in pending:
                items.append({"Put": {
                    "TableName": self._ballots, "Item": blank_item(poll_id, voter.voter_id, voter.bucket),
                    "ConditionExpression": "attribute_not_exists(voter_id)"}})
                entry: Dict[str, "AttributeValueTypeDef"] = {
                    "poll_id": {"S": poll_id}, "username": {"S": voter.username}, "added_on": {"S": added_on}}
                if voter.email:
                    entry["email"] = {"S": voter.email}
                items.append({"Put": {"TableName": self._rolls, "Item": entry}})
            items.append(self._size_change(poll_id, len(pending)))
            try:
                with throttling_as_refusal():
                    self._client.transact_write_items(TransactItems=items)
                return already
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or []
                # The blank of pending[i] is item 2i: its condition failing means the voter has a ballot already.
                on_roll = {i for i, voter in enumerate(pending)
                           if 2 * i < len(reasons) and reasons[2 * i].get("Code") == "ConditionalCheckFailed"}
                already += [pending[i].username for i in sorted(on_roll)]
                pending = [voter for i, voter in enumerate(pending) if i not in on_roll]
                # Cancelled for another reason (a concurrent change of the same items): go again as is.
        raise RuntimeError(f"the roll of {poll_id} kept changing under this request; send it again")

    def remove(self, poll_id: str, voter: Enrolment) -> str:
        """Take a voter off the roll: "removed"; "voted" if their blank is filled (they stay); "absent" if they
        were not on it. The roll service asks only before the poll opens, when no blank can be filled."""
        try:
            with throttling_as_refusal():
                self._client.transact_write_items(TransactItems=[
                    {"Delete": {
                        "TableName": self._ballots,
                        "Key": {"poll_bucket": {"S": partition_key(poll_id, voter.bucket)},
                                "voter_id": {"S": voter.voter_id}},
                        "ConditionExpression": "attribute_exists(#blank)",
                        "ExpressionAttributeNames": {"#blank": BLANK},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
                    {"Delete": {"TableName": self._rolls,
                                "Key": {"poll_id": {"S": poll_id}, "username": {"S": voter.username}}}},
                    self._size_change(poll_id, -1),
                ])
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or [{}]
            if reasons[0].get("Code") != "ConditionalCheckFailed":
                raise
            return "voted" if "Item" in reasons[0] else "absent"
        return "removed"

    def size(self, poll_id: str) -> int:
        with throttling_as_refusal():
            item = self._client.get_item(TableName=self._tallies, ConsistentRead=True,
                                         Key={"poll_id": {"S": poll_id}, "shard_id": {"S": ROLL_LANE}}).get("Item")
        return int(item[ROLL_SIZE]["N"]) if item and ROLL_SIZE in item else 0

    def page(self, poll_id: str, after: Optional[str], limit: int) -> Tuple[List[dict], Optional[str]]:
        """Up to `limit` entries in username order after the page token `after`; and the next page's token."""
        query: "QueryInputTypeDef" = {"TableName": self._rolls, "KeyConditionExpression": "poll_id = :p",
                                      "Limit": limit, "ExpressionAttributeValues": {":p": {"S": poll_id}}}
        if after:
            query["ExclusiveStartKey"] = {"poll_id": {"S": poll_id}, "username": {"S": after}}
        with throttling_as_refusal():
            reply = self._client.query(**query)
        entries = [{"username": item["username"]["S"], "email": item.get("email", {}).get("S"),
                    "added_on": item["added_on"]["S"]} for item in reply["Items"]]
        last = reply.get("LastEvaluatedKey")
        return entries, (last["username"]["S"] if last else None)
