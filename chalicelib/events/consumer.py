"""The tally consumer: one batch of ballots-stream records in, partial batch failures out.

Imported lazily by the handler: Powertools' batch utility costs ~110 ms of import that the API functions,
which share this package, should not pay at cold start.
"""
import time
from typing import Optional

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import runtime
from ..observability import count, logger, tracer
from .ballot_records import read_ballot

# Each record is only read here; counting happens once per batch, below, so that a batch costs one counter
# write per poll and one index request. Only records that are not ballots fail, and they fail every time.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


class NoShard(RuntimeError):
    pass


def _unindexed(error: Exception, ballots: int) -> None:
    # Counted but not indexed: results answer from the counters until a repair fills the index.
    count("BallotsNotIndexed", ballots)
    logger.warning("batch counted, not indexed", extra={"ballots": ballots, "reason": str(error)})


def handle(event: dict, context: Optional[LambdaContext] = None) -> dict:
    shard_id = event.get("shardId")
    if not shard_id:
        # Exactly-once counting is per (poll, shard); Lambda names the shard only in tumbling-window events.
        raise NoShard("the event has no shardId: give the event source mapping TumblingWindowInSeconds >= 1")
    records = event.get("Records", [])
    with processor(records=records, handler=read_ballot, lambda_context=context):
        outcomes = processor.process()
    ballots = [result for status, result, _ in outcomes if status == "success" and result is not None]
    # The accepted-vote count, exactly: every 201 writes one ballot, whose record the counters take once (a
    # redelivered record adds 0). One EMF line per batch instead of one per vote; flushed even if the index write
    # then fails, since the counters stand.
    applied = runtime.get().tallying.apply(shard_id, ballots,
                                           counted=lambda new: count("BallotsCounted", new) if records else None,
                                           unindexed=lambda error: _unindexed(error, len(ballots)))
    tracer.put_annotation(key="shard_id", value=shard_id)
    if records:
        oldest = min(r["dynamodb"].get("ApproximateCreationDateTime", time.time()) for r in records)
        count("TallyLagSeconds", max(0.0, time.time() - oldest), MetricUnit.Seconds)
        count("BatchSize", len(records))
        logger.info("batch tallied", extra={"records": len(records), "ballots": len(ballots), "new": applied,
                                            "failed": len(processor.fail_messages)})
    # A window's closing invocation carries no records: no metric, no line (one per shard per second otherwise).
    # A tumbling-window invocation must answer with a state, or Lambda counts it as failed.
    return {**processor.response(), "state": {}}
