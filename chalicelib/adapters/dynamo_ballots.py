"""BallotLedger on a DynamoDB table keyed by (poll_id, voter_id): one conditional PutItem per vote."""
from typing import List, Optional

from botocore.exceptions import ClientError

from ..domain.ballots import Ballot
from .dynamo import error_code, throttling_as_refusal

BALLOT_FIELDS = {"poll_id", "voter_id", "candidate", "cast_at"}


def ballot_to_item(ballot: Ballot) -> dict:
    return {
        "poll_id": {"S": ballot.poll_id},
        "voter_id": {"S": ballot.voter_id},
        "candidate": {"S": ballot.candidate},
        "cast_at": {"S": ballot.cast_at},
    }


def item_to_ballot(item: dict) -> Ballot:
    return Ballot(
        poll_id=item["poll_id"]["S"],
        voter_id=item["voter_id"]["S"],
        candidate=item["candidate"]["S"],
        cast_at=item["cast_at"]["S"],
    )


class DynamoBallotLedger:
    def __init__(self, client, table: str):
        self._client = client
        self._table = table

    def cast(self, ballot: Ballot) -> Optional[Ballot]:
        try:
            with throttling_as_refusal():
                self._client.put_item(
                    TableName=self._table,
                    Item=ballot_to_item(ballot),
                    ConditionExpression="attribute_not_exists(voter_id)",
                    # The standing ballot comes back with the refusal: a retry costs no extra read.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException" and "Item" in error.response:
                return item_to_ballot(error.response["Item"])
            raise
        return None

    def find(self, poll_id: str, voter_id: str) -> Optional[Ballot]:
        with throttling_as_refusal():
            reply = self._client.get_item(
                TableName=self._table,
                Key={"poll_id": {"S": poll_id}, "voter_id": {"S": voter_id}},
                ConsistentRead=True,
            )
        item = reply.get("Item")
        return item_to_ballot(item) if item else None

    def ballots(self, poll_id: str) -> List[Ballot]:
        """Every ballot of a poll, for reconciliation and repair (never on the vote path). Items that are not
        ballots (no API writes them, but a hand can) are not counted, as the tally consumer does not count them."""
        found = []
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table, KeyConditionExpression="poll_id = :p",
            ExpressionAttributeValues={":p": {"S": poll_id}}, ConsistentRead=True)
        for page in pages:
            found.extend(item_to_ballot(item) for item in page["Items"] if BALLOT_FIELDS <= item.keys())
        return found
