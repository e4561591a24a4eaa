"""Counting on an at-least-once stream: whatever is redelivered, ledger == tallies == index afterwards.

Ballots are cast through the app into moto's ballots table; the stream runner turns moto's stream into
Lambda's events and calls the handler Chalice registers, exactly as the local stack does.
"""
import json
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import runtime
from chalicelib.domain.ballots import Ballot, bucket_of
from chalicelib.domain.times import utc_now
from chalicelib.events.tally import tally_ballots
from devstack.stream_runner import MAX_RETRIES, LocalContext, StreamRunner
from tests.integration.helpers import COLOURS, all_records, assert_reconciled, counts, create, deliver, runner_for, vote


class Recorder:
    """The registered handler, with every event it was given kept for redelivery."""

    def __init__(self):
        self.events = []

    def __call__(self, event, context):
        self.events.append(json.loads(json.dumps(event)))
        return tally_ballots(event, context)


def cast(client, stack, votes, poll="colours"):
    for i, candidate in enumerate(votes):
        assert vote(client, stack, candidate, poll, voter=f"{poll}-voter-{i}").status_code == 201


def test_ballots_reach_tallies_and_index(client, stack, stream, dead_letters):
    create(client, stack)
    cast(client, stack, ["red"] * 7 + ["blue"] * 4)
    runner_for(stream, dead_letters, tally_ballots).drain()
    assert_reconciled("colours", {"red": 7, "blue": 4})


def test_the_same_batch_delivered_twice_counts_once(client, stack, stream, dead_letters):
    create(client, stack)
    cast(client, stack, ["red", "blue", "red"])
    recorder = Recorder()
    runner_for(stream, dead_letters, recorder).drain()
    assert len(recorder.events) == 1
    assert tally_ballots(recorder.events[0], LocalContext()) == {"batchItemFailures": [], "state": {}}
    assert_reconciled("colours", {"red": 2, "blue": 1})


def test_retried_batches_with_other_boundaries_count_once(client, stack, stream):
    create(client, stack)
    cast(client, stack, ["red", "blue"] * 10)
    shard, records = all_records(stream)
    deliver(stream, shard, records[:7])
    deliver(stream, shard, records[3:12])   # a retry from inside the first batch, running further
    deliver(stream, shard, records[5:6])    # bisected halves
    deliver(stream, shard, records[6:9])
    deliver(stream, shard, records)         # everything again
    assert_reconciled("colours", {"red": 10, "blue": 10})


def test_a_crash_between_the_tally_write_and_the_index_write_is_mended_by_redelivery(client, stack, stream):
    create(client, stack)
    cast(client, stack, ["red", "red", "blue"])
    shard, records = all_records(stream)
    assert runtime.get().index is not None  # building the index creates its tables, where the fault goes
    fault = "CREATE TRIGGER disk_full BEFORE INSERT ON ballots BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    with sqlite3.connect(stack.settings.index_path) as db:
        db.execute(fault)
    # The real handler: the counters are written, then the index write fails and the invocation fails with it.
    with pytest.raises(sqlite3.DatabaseError, match="disk full"):
        deliver(stream, shard, records)
    found = counts("colours")
    assert found["tallies"] == {"red": 2, "blue": 1} and found["index"] == {}
    with sqlite3.connect(stack.settings.index_path) as db:
        db.execute("DROP TRIGGER disk_full")
    deliver(stream, shard, records)  # Lambda retries the batch
    deliver(stream, shard, records)  # and may deliver it once more
    assert_reconciled("colours", {"red": 2, "blue": 1})


def test_each_shard_keeps_its_own_checkpoint(client, stack, stream):
    # moto's stream has one shard; DynamoDB's have many, each with its own sequence numbers. Two shards whose
    # numbers interleave must not skip each other's ballots as already counted.
    create(client, stack)
    cast(client, stack, ["red", "blue", "red", "blue", "red", "blue"])
    _, records = all_records(stream)

    def renumbered(record, sequence):
        return {**record, "dynamodb": {**record["dynamodb"], "SequenceNumber": str(sequence)}}
    shard_a = [renumbered(r, 1000 + 200 * i) for i, r in enumerate(records[0::2])]  # 1000, 1200, 1400
    shard_b = [renumbered(r, 1100 + 200 * i) for i, r in enumerate(records[1::2])]  # 1100, 1300, 1500
    deliver(stream, "shardId-a", shard_a)
    deliver(stream, "shardId-b", shard_b[:1])
    deliver(stream, "shardId-b", shard_b)  # a retry running further
    deliver(stream, "shardId-a", shard_a)  # and a redelivery on the other shard
    assert_reconciled("colours", {"red": 3, "blue": 3})


def test_replaying_the_whole_stream_from_trim_horizon_changes_nothing(client, stack, stream, dead_letters):
    create(client, stack)
    cast(client, stack, ["red", "blue", "blue"])
    runner_for(stream, dead_letters, tally_ballots, batch_size=2).drain()
    assert vote(client, stack, "red", voter="colours-voter-0").status_code == 200  # a retry: no new record
    replay = runner_for(stream, dead_letters, tally_ballots)  # fresh iterators start at TRIM_HORIZON
    assert replay.drain() == 3
    assert_reconciled("colours", {"red": 1, "blue": 2})


def test_one_batch_holding_several_polls_keeps_them_apart(client, stack, stream, dead_letters):
    create(client, stack)
    create(client, stack, {**COLOURS, "poll_id": "shapes", "candidates": ["circle", "square"]})
    cast(client, stack, ["red", "blue", "red"])
    cast(client, stack, ["circle", "square", "square", "square"], poll="shapes")
    recorder = Recorder()
    runner_for(stream, dead_letters, recorder).drain()
    assert len(recorder.events) == 1 and len(recorder.events[0]["Records"]) == 7
    tally_ballots(recorder.events[0], LocalContext())
    assert_reconciled("colours", {"red": 2, "blue": 1})
    assert_reconciled("shapes", {"circle": 1, "square": 3})


def test_a_poison_record_goes_to_the_dead_letters_and_holds_up_nothing(client, stack, stream, dead_letters):
    create(client, stack)
    cast(client, stack, ["red"])
    stack.dynamodb.put_item(TableName=stack.settings.ballots_table,
                            Item={"poll_bucket": {"S": "colours#0"}, "poll_id": {"S": "colours"},
                                  "voter_id": {"S": "intruder"}, "colour": {"S": "x"}})
    for i, candidate in enumerate(["blue", "blue"]):
        assert vote(client, stack, candidate, "colours", voter=f"after-{i}").status_code == 201
    runner = runner_for(stream, dead_letters, tally_ballots)
    runner.step(flush=True)
    found = counts("colours")
    assert found["tallies"] == {"red": 1, "blue": 2}, "the ballots behind the poison were counted at once"
    runner.drain()
    letters = [json.loads(line) for line in dead_letters.read_text().splitlines()]
    assert len(letters) == 1
    assert letters[0]["record"]["dynamodb"]["Keys"]["voter_id"] == {"S": "intruder"}
    assert "reported the record as failed" in letters[0]["reason"] and letters[0]["attempts"] == MAX_RETRIES + 1
    found = counts("colours")
    assert found["tallies"] == found["index"] == {"red": 1, "blue": 2}
    assert found["ledger"] == {"red": 1, "blue": 2}  # the ledger's own counts skip the intruder's item


def test_events_have_lambdas_shape(client, stack, stream, dead_letters):
    create(client, stack)
    cast(client, stack, ["red"])
    recorder = Recorder()
    runner_for(stream, dead_letters, recorder).drain()
    event = recorder.events[0]
    record = event["Records"][0]
    assert event["shardId"] and event["state"] == {} and event["eventSourceARN"] == stream[1]
    assert record["eventSourceARN"] == stream[1] and record["eventName"] == "INSERT"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["candidate"] == {"S": "red"}


def test_reconcile_sees_a_lost_index_document_and_repair_fills_it_from_the_ledger(client, stack, stream,
                                                                                  dead_letters):
    create(client, stack)
    cast(client, stack, ["red", "red", "blue"])
    runner_for(stream, dead_letters, tally_ballots).drain()
    with sqlite3.connect(stack.settings.index_path) as db:  # a document lost from the index
        db.execute("DELETE FROM ballots WHERE candidate = 'blue'")
    found = runtime.get().reconciler.compare("colours")
    assert found.counts["index"] == {"red": 2} and "<- differs" in found.table() and not found.agrees
    report = runtime.get().reconciler.repair("colours")
    assert report.indexed == 1 and not report.tallies_rebased
    assert_reconciled("colours", {"red": 2, "blue": 1})
    assert vote(client, stack, "blue", voter="late").status_code == 201
    runner_for(stream, dead_letters, tally_ballots).drain()  # a replay after the repair adds only the new one
    assert_reconciled("colours", {"red": 2, "blue": 2})


def deliver_like_lambda(stream, shard_id, records, rng):
    """One shard's records in order, as an at-least-once event source mapping may hand them over: batches of any
    size, some delivered twice, some retried from an earlier record with other boundaries, and all of it once
    more at the end."""
    done = 0
    while done < len(records):
        size = rng.randint(1, 40)
        deliver(stream, shard_id, records[done:done + size])
        if rng.random() < 0.3:
            deliver(stream, shard_id, records[done:done + size])
        if rng.random() < 0.2:
            back = rng.randint(0, done)
            deliver(stream, shard_id, records[back:done + size + rng.randint(0, 10)])
        done += size
    deliver(stream, shard_id, records)


def test_a_hot_poll_on_many_shards_with_a_split_counts_every_ballot_once(client, stack, stream):
    """At 10,000 votes/s one poll's buckets live in many partitions, so its ballots arrive on many stream shards
    at once, and shards split: a parent ends and two children carry on with sequence numbers of their own. Each
    (poll, shard) lane keeps its own checkpoint, so whatever each shard redelivers, every ballot counts once."""
    create(client, stack, {**COLOURS, "expected_peak_votes_per_s": 1_600})
    poll = runtime.get().poll_store.get("colours")
    assert poll.buckets == 16
    for i in range(480):
        voter = f"hot-voter-{i}"
        ballot = Ballot(poll_id="colours", voter_id=voter, candidate="blue" if i % 3 else "red", cast_at=utc_now())
        assert runtime.get().ledger.cast(ballot, bucket_of(voter, poll.buckets)) is None
    _, records = all_records(stream)
    assert len(records) == 480

    def renumbered(record, sequence):
        return {**record, "dynamodb": {**record["dynamodb"], "SequenceNumber": str(sequence)}}

    # Buckets map to partitions, partitions to shards: eight shards, two buckets each.
    shards = {f"shardId-{n}": [] for n in range(8)}
    for record in records:
        bucket = int(record["dynamodb"]["Keys"]["poll_bucket"]["S"].rsplit("#", 1)[1])
        shards[f"shardId-{bucket % 8}"].append(record)
    shards = {shard: [renumbered(r, 10**20 + 1000 * i) for i, r in enumerate(rs)] for shard, rs in shards.items()}
    # shardId-0 splits halfway: the parent's last record is its half, then two children take the rest.
    parent = shards.pop("shardId-0")
    half = len(parent) // 2
    children = {"shardId-0-a": parent[half::2], "shardId-0-b": parent[half + 1::2]}
    children = {shard: [renumbered(r, 2 * 10**20 + 1000 * i) for i, r in enumerate(rs)]
                for shard, rs in children.items()}
    parent = parent[:half]

    def lineage(seed):
        # Lambda finishes a parent shard before it reads its children, which then run side by side.
        deliver_like_lambda(stream, "shardId-0", parent, random.Random(seed))
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda item: deliver_like_lambda(stream, item[0], item[1], random.Random(item[0])),
                          children.items()))

    with ThreadPoolExecutor(max_workers=8) as pool:
        running = [pool.submit(lineage, 0)]
        running += [pool.submit(deliver_like_lambda, stream, shard, rs, random.Random(shard))
                    for shard, rs in shards.items()]
        for future in running:
            future.result()

    assert_reconciled("colours", {"red": 160, "blue": 320})
    lanes = stack.dynamodb.query(TableName=stack.settings.tallies_table, KeyConditionExpression="poll_id = :p",
                                 ExpressionAttributeValues={":p": {"S": "colours"}})["Items"]
    assert {lane["shard_id"]["S"] for lane in lanes} == {"shardId-0", "shardId-0-a", "shardId-0-b",
                                                         *(f"shardId-{n}" for n in range(1, 8))}


def test_the_local_stream_runner_plays_the_deployed_mapping():
    """One source for both: the runner's batch size, window, retries, bisection and record age are the ones the
    template gives the tally function's event source mapping."""
    from app import app
    from devstack import stream_runner
    from infra import piece

    (source,) = [s for s in app.event_sources if s.name == "tally_ballots"]  # as chalice package reads it
    mapping = piece("stream")["Resources"]["TallyBallots"]["Properties"]["Events"][
        "TallyBallotsDynamodbEventSource"]["Properties"]
    runner = StreamRunner(None, "arn", None, "/dev/null")
    assert (runner._batch_size, runner._window) == (source.batch_size, source.maximum_batching_window_in_seconds)
    assert (runner._max_retries, runner._bisect, runner._max_record_age_s) == (
        mapping["MaximumRetryAttempts"], mapping["BisectBatchOnFunctionError"], mapping["MaximumRecordAgeInSeconds"])
    assert stream_runner.DEPLOYED.tumbling_window_s == mapping["TumblingWindowInSeconds"] >= 1


def test_a_record_older_than_the_mappings_record_age_goes_to_the_dead_letters(client, stack, stream, dead_letters):
    create(client, stack)
    cast(client, stack, ["red", "blue"])
    streams, arn = stream
    StreamRunner(streams, arn, tally_ballots, str(dead_letters), window_seconds=0, max_record_age_s=-1).drain()
    letters = [json.loads(line) for line in dead_letters.read_text().splitlines()]
    assert len(letters) == 2 and all("MaximumRecordAgeInSeconds" in letter["reason"] for letter in letters)
    assert counts("colours")["tallies"] == {}
