"""Lambda's DynamoDB event source mapping, played against moto's stream, calling the handler Chalice registers.

What it keeps of Lambda's behaviour: batch size and batching window; events in Lambda's shape (eventSourceARN
on every record, ApproximateCreationDateTime in epoch seconds, images as DynamoDB JSON, and the tumbling-window
fields shardId and state); ReportBatchItemFailures (retry from the first failed record, with the records after
it); BisectBatchOnFunctionError (a batch whose invocation raised is halved); bounded retries, after which the
record goes to a dead-letter file with the reason. Each shard's records go through in order, one batch at a time.

Run by the local stack as `python -m devstack.stream_runner --dead-letters FILE [--positions-table T]
[--status-file F]`:
- with --positions-table it keeps, per shard, the sequence number of the last record it finished, in a DynamoDB
  table of the local moto (one item per stream). A runner that starts again resumes after it instead of from the
  start of the stream. Kept in moto, the position is in the same snapshot as the stream and the tallies
  (devstack/moto_state.py), so a restore never leaves it ahead of the stream it points into (a restored stream
  gives the lost records' sequence numbers to new ones). What is redelivered after a position write was missed,
  the tallies' checkpoints skip and the index keeps once;
- with --status-file it writes, every STATUS_SECONDS, how far behind it is (the oldest waiting record's creation
  time, how many wait, when a batch last finished): `GET /health?deep=1` reads it.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional

from infra.event_source import deployed

# The deployed mapping's settings (infra/event_source.py): batch size, window, retries, bisection, record age.
DEPLOYED = deployed()
BATCH_SIZE = DEPLOYED.batch_size
WINDOW_SECONDS = DEPLOYED.batching_window_s
MAX_RETRIES = DEPLOYED.max_retries
STATUS_SECONDS = 0.5


def lambda_record(record: dict, stream_arn: str) -> dict:
    """A GetRecords record as Lambda hands it to a function."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # boto3 parses it; Lambda sends epoch seconds
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": stream, "eventSourceARN": stream_arn}


def lambda_event(records: List[dict], stream_arn: str, shard_id: str, window_start: datetime) -> dict:
    return {
        "Records": records,
        "eventSourceARN": stream_arn,
        "shardId": shard_id,
        "window": {"start": window_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "end": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "state": {},
        "isFinalInvokeForWindow": False,
        "isWindowTerminatedEarly": False,
    }


class LocalContext:
    function_name = "tally-local-tally_ballots"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:tally-local-tally_ballots"
    aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Shard:
    shard_id: str
    iterator: Optional[str] = None
    last_fetched: Optional[str] = None
    pending: List[dict] = field(default_factory=list)  # fetched, not yet done, in order
    waiting_since: Optional[float] = None
    batch_limit: int = BATCH_SIZE  # halved while bisecting a batch whose invocation raised
    attempts: Dict[str, int] = field(default_factory=dict)  # head record's sequence number -> failures
    retry_at: float = 0.0  # back off after a failure, as Lambda does
    done: Optional[str] = None  # sequence number of the last record finished (counted or dead-lettered)


class StreamRunner:
    def __init__(self, streams, stream_arn: str, handler: Callable, dead_letters: str,
                 batch_size: int = BATCH_SIZE, window_seconds: float = WINDOW_SECONDS, max_retries: int = MAX_RETRIES,
                 clock: Callable[[], float] = time.monotonic, start_after: Optional[Dict[str, str]] = None,
                 bisect: bool = DEPLOYED.bisect_on_error, max_record_age_s: float = DEPLOYED.max_record_age_s):
        self._streams = streams
        self._arn = stream_arn
        self._handler = handler
        self._dead_letters = dead_letters
        self._batch_size = batch_size
        self._window = window_seconds
        self._max_retries = max_retries
        self._bisect = bisect
        self._max_record_age_s = max_record_age_s
        self._clock = clock
        self._shards: Dict[str, Shard] = {}
        self._start_after = dict(start_after or {})  # shard -> last record finished by an earlier runner
        self.invocations = 0
        self.last_batch_at: Optional[float] = None  # wall clock, when a batch last finished records

    def step(self, flush: bool = False) -> int:
        """Fetch what each shard has and invoke for every batch that is due. Returns records finished."""
        self._discover_shards()
        done = 0
        for shard in self._shards.values():
            self._fetch(shard)
            while shard.pending and self._due(shard, flush):
                done += self._invoke(shard)
        return done

    def _due(self, shard: Shard, flush: bool) -> bool:
        now = self._clock()
        if now < shard.retry_at:
            return False
        return flush or len(shard.pending) >= self._batch_size or now - shard.waiting_since >= self._window

    def drain(self, deadline_seconds: float = 30) -> int:
        """Process until a fetch finds nothing new: the stream is drained (for tests and tools)."""
        deadline = self._clock() + deadline_seconds
        done = 0
        while True:
            finished = self.step(flush=True)
            done += finished
            if not finished and not any(s.pending for s in self._shards.values()):
                return done
            if self._clock() > deadline:
                raise TimeoutError("the stream did not drain in time")
            if not finished:
                time.sleep(0.01)  # a retry is backing off

    def _discover_shards(self) -> None:
        description = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]
        for shard in description["Shards"]:
            if shard["ShardId"] not in self._shards:
                done = self._start_after.get(shard["ShardId"])
                self._shards[shard["ShardId"]] = Shard(shard["ShardId"], last_fetched=done, done=done)

    def positions(self) -> Dict[str, str]:
        """Per shard, the sequence number of the last record finished: where a new runner would resume."""
        return {s.shard_id: s.done for s in self._shards.values() if s.done}

    def status(self) -> dict:
        """How far behind the runner is: records fetched and not yet finished, and the oldest one's creation time
        (epoch seconds, as Lambda gives it)."""
        waiting = [s.pending[0]["dynamodb"].get("ApproximateCreationDateTime") for s in self._shards.values()
                   if s.pending]
        known = [w for w in waiting if isinstance(w, (int, float))]
        return {"waiting": sum(len(s.pending) for s in self._shards.values()),
                "oldest_waiting_at": min(known) if known else None,
                "last_batch_at": self.last_batch_at}

    def _fetch(self, shard: Shard) -> None:
        room = self._batch_size * 2 - len(shard.pending)
        if room <= 0:
            return
        if shard.iterator is None:
            # Re-taken after the last record seen rather than kept: moto can serve a stale stream through an
            # iterator taken before a cancelled transaction.
            kwargs = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.last_fetched}
                      if shard.last_fetched else {"ShardIteratorType": "TRIM_HORIZON"})
            shard.iterator = self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard.shard_id, **kwargs)["ShardIterator"]
        reply = self._streams.get_records(ShardIterator=shard.iterator, Limit=min(room, 1000))
        records = reply.get("Records", [])
        shard.iterator = reply.get("NextShardIterator") if records else None
        if records:
            shard.last_fetched = records[-1]["dynamodb"]["SequenceNumber"]
            if not shard.pending:
                shard.waiting_since = self._clock()
            shard.pending.extend(lambda_record(r, self._arn) for r in records)

    def _invoke(self, shard: Shard) -> int:
        head_created = shard.pending[0]["dynamodb"].get("ApproximateCreationDateTime")
        if head_created is not None and time.time() - head_created > self._max_record_age_s:
            # MaximumRecordAgeInSeconds: Lambda stops retrying a record this old and sends it to the destination.
            return self._dead_letter(shard, shard.pending[0]["dynamodb"]["SequenceNumber"], 0,
                                     f"the record is older than {self._max_record_age_s} s (MaximumRecordAgeInSeconds)")
        batch = shard.pending[:min(self._batch_size, shard.batch_limit)]
        head = batch[0]["dynamodb"]["SequenceNumber"]
        event = lambda_event(batch, self._arn, shard.shard_id, datetime.now(timezone.utc))
        self.invocations += 1
        try:
            reply = self._handler(event, LocalContext()) or {}
            failures = [f["itemIdentifier"] for f in reply.get("batchItemFailures", [])]
        except Exception as error:  # the function raised: Lambda bisects the batch and retries
            if self._bisect and len(batch) > 1:
                shard.batch_limit = max(1, len(batch) // 2)
                return 0
            return self._failed(shard, head, f"the function raised {type(error).__name__}: {error}")
        if not failures:
            return self._finish(shard, len(batch))
        first_failed = min(failures, key=int)
        done = self._finish(shard, next(i for i, r in enumerate(batch)
                                         if r["dynamodb"]["SequenceNumber"] == first_failed))
        return done + self._failed(shard, first_failed, "the function reported the record as failed")

    def _finish(self, shard: Shard, count: int) -> int:
        if count:
            shard.done = shard.pending[count - 1]["dynamodb"]["SequenceNumber"]
            self.last_batch_at = time.time()
        del shard.pending[:count]
        if count:
            shard.attempts.clear()
            shard.batch_limit = self._batch_size
        shard.waiting_since = self._clock() if shard.pending else None
        return count

    def _failed(self, shard: Shard, sequence: str, reason: str) -> int:
        attempts = shard.attempts[sequence] = shard.attempts.get(sequence, 0) + 1
        if attempts <= self._max_retries:
            shard.retry_at = self._clock() + min(2.0, 0.05 * 2 ** attempts)
            return 0
        return self._dead_letter(shard, sequence, attempts, reason)

    def _dead_letter(self, shard: Shard, sequence: str, attempts: int, reason: str) -> int:
        record = shard.pending[0]
        with open(self._dead_letters, "a") as out:
            out.write(json.dumps({"shardId": shard.shard_id, "sequenceNumber": sequence, "attempts": attempts,
                                  "reason": reason, "record": record}, default=str) + "\n")
        return self._finish(shard, 1)


def stream_arn_of(dynamodb, table: str) -> str:
    return dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


class PositionStore:
    """The runner's position per shard, in one DynamoDB item per stream: {"stream_arn", "positions": {shard: seq}}.
    Key schema: stream_arn (S), hash key (devstack creates the table)."""

    def __init__(self, dynamodb, table: str, stream_arn: str):
        self._dynamodb = dynamodb
        self._table = table
        self._arn = stream_arn

    def load(self) -> Dict[str, str]:
        item = self._dynamodb.get_item(TableName=self._table, Key={"stream_arn": {"S": self._arn}},
                                       ConsistentRead=True).get("Item")
        return {shard: value["S"] for shard, value in item["positions"]["M"].items()} if item else {}

    def save(self, positions: Dict[str, str]) -> None:
        self._dynamodb.put_item(TableName=self._table, Item={
            "stream_arn": {"S": self._arn},
            "positions": {"M": {shard: {"S": seq} for shard, seq in positions.items()}},
            "saved_at": {"N": str(time.time())}})


def write_status(path: str, status: dict) -> None:
    """Atomically: the API may read it at any moment."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as out:
        json.dump({**status, "pid": os.getpid(), "reported_at": time.time()}, out)
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dead-letters", required=True)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--window", type=float, default=WINDOW_SECONDS)
    parser.add_argument("--positions-table", help="keep the position per shard in this DynamoDB table")
    parser.add_argument("--status-file", help="write how far behind the runner is to this file, for /health")
    args = parser.parse_args()

    import boto3

    from chalicelib import config
    from chalicelib.events.tally import tally_ballots

    settings = config.load()
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    arn = stream_arn_of(dynamodb, settings.ballots_table)
    store = PositionStore(dynamodb, args.positions_table, arn) if args.positions_table else None
    saved = store.load() if store else {}
    if saved:
        print(f"resuming after {saved}", file=sys.stderr, flush=True)
    runner = StreamRunner(session.client("dynamodbstreams"), arn, tally_ballots, args.dead_letters,
                          args.batch_size, args.window, start_after=saved)
    stopping = threading.Event()

    def stop(*_):
        # Finish the batch in hand; but a loop stuck on a moto that is gone (its supervisor was SIGKILLed, and the
        # kernel's SIGTERM is all this process hears) must not outlive it: SIGALRM's default action ends it.
        stopping.set()
        signal.alarm(10)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    reported = 0.0
    while not stopping.is_set():
        finished = runner.step()
        positions = runner.positions()
        if store and positions != saved:
            store.save(positions)  # after the batch's tallies and index writes: a crash before it redelivers
            saved = positions
        if args.status_file and time.monotonic() - reported >= STATUS_SECONDS:
            write_status(args.status_file, runner.status())
            reported = time.monotonic()
        if not finished:
            stopping.wait(0.02)  # idle: moto has no long polling
    return 0


if __name__ == "__main__":
    sys.exit(main())
