"""TallyStore on DynamoDB: per (poll, shard) one item of counters (c_<candidate>) and a checkpoint.

A batch's ballots for one lane land in ONE conditional UpdateItem: ADD the counts, SET the checkpoint, on
condition that the checkpoint is still below the batch. A redelivered batch fails the condition, and the
refusal carries the stored checkpoint, so the retry adds only what is past it, on condition that it is
unchanged. Nothing is counted twice, and the common case costs one write per poll per batch and no read.
"""
from typing import TYPE_CHECKING, Callable, Dict, Optional, Sequence

from botocore.exceptions import ClientError

from ..domain.results import Counts
from ..domain.stream import StreamBallot, after_checkpoint, counts
from .dynamo import error_code, refused_item, throttling_as_refusal

if TYPE_CHECKING:  # the typed client is the checker's (requirements-dev.txt), not in the Lambda package
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

COUNT_PREFIX = "c_"
REPAIR_LANE = "repair"
# A roll poll's roll size lives beside its counts, in a lane of its own that adapters/dynamo_roll.py moves in the
# same transaction as the blanks: so the results' one Query reads the turnout's both halves.
ROLL_LANE = "roll"
ROLL_SIZE = "roll_size"
MAX_ATTEMPTS = 5


class DynamoTallyStore:
    def __init__(self, client: "DynamoDBClient", table: str, clock: Callable[[], str]):
        self._client = client
        self._table = table
        self._clock = clock

    def apply(self, poll_id: str, shard_id: str, ballots: Sequence[StreamBallot]) -> int:
        pending = sorted(ballots, key=lambda b: b.sequence)
        condition = "attribute_not_exists(#checkpoint) OR #checkpoint < :first"
        values: Dict[str, "AttributeValueTypeDef"] = {":first": {"S": pending[0].sequence}} if pending else {}
        for _ in range(MAX_ATTEMPTS):
            if not pending:
                return 0
            try:
                self._add(poll_id, shard_id, pending, condition, values)
                return len(pending)
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                stored = (refused_item(error) or {}).get("checkpoint", {}).get("S", "")
                pending = after_checkpoint(pending, stored)
                condition, values = "#checkpoint = :stored", {":stored": {"S": stored}}
        raise RuntimeError(f"tally lane {poll_id}/{shard_id} kept moving; the batch will be retried")

    def _add(self, poll_id: str, shard_id: str, pending: Sequence[StreamBallot], condition: str,
             values: Dict[str, "AttributeValueTypeDef"]) -> None:
        names = {"#checkpoint": "checkpoint", "#updated_at": "updated_at"}
        values = {**values, ":last": {"S": pending[-1].sequence}, ":now": {"S": self._clock()}}
        adds = []
        for i, (candidate, n) in enumerate(sorted(counts(pending).items())):
            names[f"#c{i}"] = COUNT_PREFIX + candidate
            values[f":c{i}"] = {"N": str(n)}
            adds.append(f"#c{i} :c{i}")
        with throttling_as_refusal():
            self._client.update_item(
                TableName=self._table,
                Key={"poll_id": {"S": poll_id}, "shard_id": {"S": shard_id}},
                UpdateExpression=f"SET #checkpoint = :last, #updated_at = :now ADD {', '.join(adds)}",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )

    def counts(self, poll_id: str) -> Counts:
        votes: Dict[str, int] = {}
        as_of: Optional[str] = None
        roll: Optional[int] = None
        with throttling_as_refusal():
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="poll_id = :p",
                ExpressionAttributeValues={":p": {"S": poll_id}},
                ConsistentRead=True,
            )
            for page in pages:
                for item in page["Items"]:
                    if item["shard_id"]["S"] == ROLL_LANE:
                        roll = int(item.get(ROLL_SIZE, {}).get("N", "0"))
                        continue
                    for name, value in item.items():
                        if name.startswith(COUNT_PREFIX):
                            candidate = name[len(COUNT_PREFIX):]
                            votes[candidate] = votes.get(candidate, 0) + int(value["N"])
                    updated = item.get("updated_at", {}).get("S")
                    as_of = max(as_of or updated, updated) if updated else as_of
        return Counts(votes=votes, per_minute=None, per_second=None, as_of=as_of, source="tallies", roll=roll)

    def rebase(self, poll_id: str, ledger_counts: Dict[str, int]) -> None:
        """Repair: the ledger's counts go into one "repair" lane; the shard lanes keep their checkpoints and
        lose their counts, so records the stream delivers later still add once. Run on a drained stream."""
        lanes = []
        for page in self._client.get_paginator("query").paginate(
                TableName=self._table, KeyConditionExpression="poll_id = :p",
                ExpressionAttributeValues={":p": {"S": poll_id}}, ConsistentRead=True):
            lanes.extend(page["Items"])
        for lane in lanes:
            stale = [name for name in lane if name.startswith(COUNT_PREFIX)]
            if stale and lane["shard_id"]["S"] != REPAIR_LANE:
                self._client.update_item(
                    TableName=self._table, Key={"poll_id": lane["poll_id"], "shard_id": lane["shard_id"]},
                    UpdateExpression="REMOVE " + ", ".join(f"#c{i}" for i in range(len(stale))),
                    ExpressionAttributeNames={f"#c{i}": name for i, name in enumerate(stale)})
        item = {"poll_id": {"S": poll_id}, "shard_id": {"S": REPAIR_LANE}, "updated_at": {"S": self._clock()}}
        item.update({COUNT_PREFIX + c: {"N": str(n)} for c, n in ledger_counts.items()})
        self._client.put_item(TableName=self._table, Item=item)
