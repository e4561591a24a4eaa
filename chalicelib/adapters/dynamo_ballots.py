"""BallotLedger on a DynamoDB table keyed by (poll_bucket, voter_id): one conditional write per vote.

The partition key is "<poll_id>#<bucket>", so a poll's ballots spread over as many partitions as the poll has
buckets, while a voter's second attempt meets the first under the same key: the condition on the one item still
allows one ballot per voter, and the refusal carries the standing ballot, so a resend costs no read.

In a roll poll, each voter on the roll has a blank under their key (adapters/dynamo_roll.py writes it): a vote
is then one conditional UpdateItem that fills the blank, and a refusal without an item means "not on the roll".
A blank has no candidate, so nothing that counts ballots ever counts one; filling it removes the blank mark, so
a filled blank is the same item an open poll's vote writes.
"""
import secrets
from typing import TYPE_CHECKING, List, Optional

from botocore.exceptions import ClientError

from ..domain.ballots import Ballot
from ..domain.roll import NotOnRoll
from .dynamo import error_code, refused_item, throttling_as_refusal

if TYPE_CHECKING:  # the typed client is the checker's (requirements-dev.txt), not in the Lambda package
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import GetItemInputTypeDef

BALLOT_FIELDS = {"poll_id", "voter_id", "candidate", "cast_at"}
BLANK = "blank"  # the mark of a roll voter's unfilled ballot


def partition_key(poll_id: str, bucket: int) -> str:
    return f"{poll_id}#{bucket}"  # '#' never appears in a poll id


def ballot_to_item(ballot: Ballot, bucket: int) -> dict:
    return {
        "poll_bucket": {"S": partition_key(ballot.poll_id, bucket)},
        "poll_id": {"S": ballot.poll_id},
        "voter_id": {"S": ballot.voter_id},
        "candidate": {"S": ballot.candidate},
        "cast_at": {"S": ballot.cast_at},
    }


def blank_item(poll_id: str, voter_id: str, bucket: int) -> dict:
    return {"poll_bucket": {"S": partition_key(poll_id, bucket)}, "poll_id": {"S": poll_id},
            "voter_id": {"S": voter_id}, BLANK: {"BOOL": True}}


def is_ballot(item: dict) -> bool:
    return BALLOT_FIELDS <= item.keys()


def item_to_ballot(item: dict) -> Ballot:
    return Ballot(
        poll_id=item["poll_id"]["S"],
        voter_id=item["voter_id"]["S"],
        candidate=item["candidate"]["S"],
        cast_at=item["cast_at"]["S"],
    )


class DynamoBallotLedger:
    def __init__(self, client: "DynamoDBClient", table: str):
        self._client = client
        self._table = table

    def cast(self, ballot: Ballot, bucket: int) -> Optional[Ballot]:
        """An open poll's vote: put the ballot unless the voter has one."""
        # The SDK resends a PutItem whose answer timed out, and the first send may have landed: the resend then
        # meets the ballot this very call wrote. A mark of this call tells that apart from a ballot of an earlier
        # request, so the voter still gets the 201 their first and only request earned.
        mark = secrets.token_hex(8)
        try:
            with throttling_as_refusal():
                self._client.put_item(
                    TableName=self._table,
                    Item={**ballot_to_item(ballot, bucket), "attempt": {"S": mark}},
                    ConditionExpression="attribute_not_exists(voter_id)",
                    # The standing ballot comes back with the refusal: a retry costs no extra read.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            standing = refused_item(error)
            if error_code(error) == "ConditionalCheckFailedException" and standing is not None:
                if standing.get("attempt", {}).get("S") == mark:
                    return None
                return item_to_ballot(standing)
            raise
        return None

    def fill(self, ballot: Ballot, bucket: int) -> Optional[Ballot]:
        """A roll poll's vote: fill the voter's blank. None if filled now, else the voter's standing ballot;
        NotOnRoll if the voter has no blank to fill."""
        mark = secrets.token_hex(8)  # as in cast(): tells this call's own landed write from an earlier ballot
        try:
            with throttling_as_refusal():
                self._client.update_item(
                    TableName=self._table,
                    Key={"poll_bucket": {"S": partition_key(ballot.poll_id, bucket)},
                         "voter_id": {"S": ballot.voter_id}},
                    UpdateExpression="SET candidate = :candidate, cast_at = :cast_at, attempt = :mark REMOVE #blank",
                    ConditionExpression="attribute_exists(voter_id) AND attribute_not_exists(candidate)",
                    ExpressionAttributeNames={"#blank": BLANK},
                    ExpressionAttributeValues={":candidate": {"S": ballot.candidate},
                                               ":cast_at": {"S": ballot.cast_at}, ":mark": {"S": mark}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            standing = refused_item(error)
            if standing is None:
                raise NotOnRoll(ballot.poll_id) from None
            if standing.get("attempt", {}).get("S") == mark:
                return None
            return item_to_ballot(standing)
        return None

    def _item(self, poll_id: str, bucket: int, voter_id: str, consistent: bool,
              projection: Optional[str] = None) -> Optional[dict]:
        request: "GetItemInputTypeDef" = {
            "TableName": self._table,
            "Key": {"poll_bucket": {"S": partition_key(poll_id, bucket)}, "voter_id": {"S": voter_id}},
            "ConsistentRead": consistent}
        if projection:
            request["ProjectionExpression"] = projection
        with throttling_as_refusal():
            reply = self._client.get_item(**request)
        return reply.get("Item")

    def find(self, poll_id: str, bucket: int, voter_id: str) -> Optional[Ballot]:
        item = self._item(poll_id, bucket, voter_id, consistent=True)
        return item_to_ballot(item) if item and is_ballot(item) else None

    def on_roll(self, poll_id: str, bucket: int, voter_id: str) -> bool:
        """Whether the voter has a ballot, blank or cast, in a roll poll (a key-only, eventually consistent read:
        a voter added a moment ago may see "not eligible" for a second)."""
        return self._item(poll_id, bucket, voter_id, consistent=False, projection="voter_id") is not None

    def bucket_sizes(self, poll_id: str, buckets: int) -> List[int]:
        """How many items each bucket of the poll holds (a count-only Query each: no ballot leaves the table)."""
        sizes = []
        for bucket in range(buckets):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table, KeyConditionExpression="poll_bucket = :b", Select="COUNT",
                ExpressionAttributeValues={":b": {"S": partition_key(poll_id, bucket)}}, ConsistentRead=True)
            sizes.append(sum(page["Count"] for page in pages))
        return sizes

    def ballots(self, poll_id: str, buckets: int) -> List[Ballot]:
        """Every ballot of a poll, bucket by bucket, for reconciliation and repair (never on the vote path). Blanks
        and items that are not ballots (no API writes those, but a hand can) are not counted, as the tally
        consumer does not count them."""
        found: List[Ballot] = []
        for bucket in range(buckets):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table, KeyConditionExpression="poll_bucket = :b",
                ExpressionAttributeValues={":b": {"S": partition_key(poll_id, bucket)}}, ConsistentRead=True)
            for page in pages:
                found.extend(item_to_ballot(item) for item in page["Items"]
                             if is_ballot(item) and item["poll_id"].get("S") == poll_id)
        return found
