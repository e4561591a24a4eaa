"""PollStore on a DynamoDB table keyed by poll_id."""
from typing import TYPE_CHECKING, List, Optional

from botocore.exceptions import ClientError

from ..domain.errors import Conflict
from ..domain.polls import Candidate, Poll
from .dynamo import error_code, throttling_as_refusal

if TYPE_CHECKING:  # the typed client is the checker's (requirements-dev.txt), not in the Lambda package
    from mypy_boto3_dynamodb import DynamoDBClient

_OPTIONAL_TIMES = ("opens_at", "closes_at")


def poll_to_item(poll: Poll) -> dict:
    item = {
        "poll_id": {"S": poll.poll_id},
        "title": {"S": poll.title},
        "candidates": {"L": [{"M": {"id": {"S": c.id}, "label": {"S": c.label}}} for c in poll.candidates]},
        "created_at": {"S": poll.created_at},
        "results": {"S": poll.results},
        "expected_peak_votes_per_s": {"N": str(poll.expected_peak_votes_per_s)},
        "buckets": {"N": str(poll.buckets)},
        "electorate": {"S": poll.electorate},
    }
    for name in _OPTIONAL_TIMES:
        value = getattr(poll, name)
        if value is not None:
            item[name] = {"S": value}
    return item


def item_to_poll(item: dict) -> Poll:
    return Poll(
        poll_id=item["poll_id"]["S"],
        title=item["title"]["S"],
        candidates=tuple(
            Candidate(id=c["M"]["id"]["S"], label=c["M"]["label"]["S"]) for c in item["candidates"]["L"]
        ),
        created_at=item["created_at"]["S"],
        opens_at=item.get("opens_at", {}).get("S"),
        closes_at=item.get("closes_at", {}).get("S"),
        results=item["results"]["S"],
        expected_peak_votes_per_s=int(item["expected_peak_votes_per_s"]["N"]),
        buckets=int(item["buckets"]["N"]),
        electorate=item.get("electorate", {}).get("S", "open"),  # polls made before rolls existed are open
    )


class DynamoPollStore:
    def __init__(self, client: "DynamoDBClient", table: str):
        self._client = client
        self._table = table

    def add(self, poll: Poll) -> None:
        try:
            with throttling_as_refusal():
                self._client.put_item(
                    TableName=self._table,
                    Item=poll_to_item(poll),
                    ConditionExpression="attribute_not_exists(poll_id)",
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise Conflict(f"A poll with id {poll.poll_id} exists already.") from None
            raise

    def get(self, poll_id: str) -> Optional[Poll]:
        with throttling_as_refusal():
            reply = self._client.get_item(TableName=self._table, Key={"poll_id": {"S": poll_id}}, ConsistentRead=True)
        item = reply.get("Item")
        return item_to_poll(item) if item else None

    def all(self) -> List[Poll]:
        polls: List[Poll] = []
        with throttling_as_refusal():
            for page in self._client.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
                polls.extend(item_to_poll(item) for item in page["Items"])
        return polls

    def replace_times(self, poll: Poll, previous: Poll) -> bool:
        sets, removes, conditions = [], [], ["attribute_exists(poll_id)"]
        values, names = {}, {}
        for name in _OPTIONAL_TIMES:
            names[f"#{name}"] = name
            new, old = getattr(poll, name), getattr(previous, name)
            if new is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :new_{name}")
                values[f":new_{name}"] = {"S": new}
            if old is None:
                conditions.append(f"attribute_not_exists(#{name})")
            else:
                conditions.append(f"#{name} = :old_{name}")
                values[f":old_{name}"] = {"S": old}
        update = " ".join(part for part in (
            "SET " + ", ".join(sets) if sets else "",
            "REMOVE " + ", ".join(removes) if removes else "",
        ) if part)
        try:
            with throttling_as_refusal():
                self._client.update_item(
                    TableName=self._table,
                    Key={"poll_id": {"S": poll.poll_id}},
                    UpdateExpression=update,
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True
