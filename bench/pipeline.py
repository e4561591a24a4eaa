"""The vote pipeline end to end: votes/s through the whole local stack, how soon a vote shows in the results,
what the tally handler costs per record, and how many results-index requests a stream batch makes.

One run, four measurements:
  1. throughput  C clients (default 8) vote for D seconds (default 10) through the API, every vote a new
                 (poll, voter) pair that must be answered 201; then it polls GET /polls/{id}/results (no fixed
                 sleeps, with a deadline) until every poll shows exactly the votes accepted: the drain time.
  2. visibility  a probe thread votes in a poll of its own and then asks GET /polls/{probe}/results (with
                 If-None-Match, so unchanged answers are bodiless 304s) as fast as it can until the total
                 goes up: the time from the 201 to the vote being visible. Once with the stack idle, once
                 during (1). Target: p95 <= 1.5 s.
  3. handler CPU in this process, after the stack is stopped: the tally consumer (chalicelib.events.consumer:
                 Powertools BatchProcessor, read_ballot, TallyService with the domain's grouping and counting)
                 over Lambda-shaped events (devstack.stream_runner's lambda_event/lambda_record), with no I/O:
                 the real DynamoTallyStore builds each UpdateItem for a stand-in client that takes it and
                 answers nothing, and the index is a stand-in that takes its writes (unittest.mock), timed
                 with process_time. Baselines,
                 interleaved with it in the same run: json.loads of the same events and a walk over their
                 records (what Lambda's runtime does before the handler runs), and Powertools' DynamoDBRecord
                 reading the same fields read_ballot reads. Target: >= 50,000 records/s per core. A cProfile
                 of the handler says where the time goes.
  4. index requests per batch: a StreamRunner in this process replays the ballots stream of (1) from
                 TRIM_HORIZON against the same moto server, through the handler the stack registers, with the
                 real DynamoTallyStore and the stack's SqliteIndex, their calls counted (unittest.mock's wraps).
                 A replay is what Lambda does after a failure, so it must change no total (checked). Target:
                 exactly one index request per invocation. The stack's own stream.log gives the batches it made
                 during (1).

Run:  .venv/bin/python -m bench.pipeline [--clients 8] [--seconds 10] [--stack DIR/stack.json]
Without --stack it starts its own stack (devstack/stack.py's LocalStack) on free ports in a temp dir and stops
it at the end, even on error. Any vote not answered 201, a vote that
never shows, or a total above what was accepted makes the exit status 1. The last line is JSON.
"""
import argparse
import cProfile
import gc
import http.client
import json
import math
import os
import pstats
import secrets
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, deque
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence
from unittest import mock

from bench.harness import Vote, api_connection, bench_stack, plan_votes
from bench.machine import machine, quiet_app_output
from devstack.floor import raw_put_phase
from devstack.processes import CpuMeter
from devstack.stack import LocalStack

TARGET_VISIBLE_P95_S = 1.5
TARGET_RECORDS_PER_S = 50_000
TARGET_INDEX_REQUESTS_PER_BATCH = 1
RAW_PUTS = 1000  # the baseline phase: about 4-6 s on this machine
VOTERS = 200  # plan_votes makes at most this many voters; polls are added for more pairs
PAIRS_PER_SECOND = 400  # load pairs planned per second of load: about twice what this stack takes
VISIBLE_DEADLINE_S = 15.0
DRAIN_DEADLINE_S = 60.0
TOP_PARTS = ("BatchProcessor, no-op record handler", "read_ballot", "TallyService.apply, no I/O behind it")
REST = "handler minus these parts (per-invocation log line, metrics, lag; GC; spread)"


class BenchFailed(Exception):
    pass


# --- HTTP, lean: keep-alive http.client, one connection per thread -------------------------------------------

def exchange(conn, method: str, path: str, body: Optional[bytes] = None, headers: Optional[dict] = None):
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, reply.getheader("ETag"), reply.read()
    except (OSError, http.client.HTTPException) as error:  # reconnect on the next request
        conn.close()
        return None, None, f"{type(error).__name__}: {error}".encode()


def poll_of(vote: Vote) -> str:
    return json.loads(vote.body)["poll_id"]


class ResultsReader:
    """GET /polls/{id}/results totals for one thread, conditional on the last ETag (a 304 is the same total)."""

    def __init__(self, api_url: str, token: str):
        self._conn = api_connection(api_url)
        self._auth = f"Bearer {token}"
        self._seen: Dict[str, tuple] = {}  # poll -> (etag, total)
        self.requests = 0

    def total(self, poll_id: str) -> int:
        headers = {"Authorization": self._auth}
        if poll_id in self._seen:
            headers["If-None-Match"] = self._seen[poll_id][0]
        self.requests += 1
        status, tag, data = exchange(self._conn, "GET", f"/polls/{poll_id}/results", headers=headers)
        if status == 304:
            return self._seen[poll_id][1]
        if status != 200:
            raise BenchFailed(f"GET /polls/{poll_id}/results answered {status}: {data[:200]!r}")
        total = json.loads(data)["total"]
        self._seen[poll_id] = (tag, total)
        return total

    def close(self) -> None:
        self._conn.close()


# --- 2. visibility: vote, then read until it shows ---------------------------------------------------------------

def probe(api_url: str, token: str, votes: Sequence[Vote], errors: List[str], samples: Optional[int] = None,
          stop: Optional[threading.Event] = None, warm_up: bool = False) -> List[float]:
    """Seconds from each probe vote's 201 to the first results answer that counts it."""
    conn = api_connection(api_url)
    reader = ResultsReader(api_url, token)
    seen: List[float] = []
    jobs = deque(votes)
    try:
        poll_id = poll_of(jobs[0])
        expected = reader.total(poll_id)
        taken = 0
        while jobs and (samples is None or taken < samples + warm_up) and not (stop and stop.is_set()):
            job = jobs.popleft()
            status, _, data = exchange(conn, "POST", job.path, job.body, job.headers)
            if status != 201:
                errors.append(f"probe vote in {poll_id}: {status} {data[:200]!r}")
                return seen
            voted = time.perf_counter()
            expected += 1
            while True:
                total = reader.total(poll_id)
                if total >= expected:
                    break
                if time.perf_counter() - voted > VISIBLE_DEADLINE_S:
                    errors.append(f"probe vote in {poll_id} not visible after {VISIBLE_DEADLINE_S} s")
                    return seen
            if total > expected:
                errors.append(f"{poll_id} shows {total} votes, {expected} were accepted")
                return seen
            taken += 1
            if taken > warm_up:  # the first one warms the poll cache and connections
                seen.append(time.perf_counter() - voted)
        if stop is None and samples is not None and len(seen) < samples:
            errors.append(f"probe ran out of voters after {len(seen)} samples")
    finally:
        conn.close()
        reader.close()
    return seen


# --- 1. throughput -------------------------------------------------------------------------------------------

class LoadClients:
    """C threads taking votes off one queue until the time is up, and what they saw: each poll's 201s, their
    latencies, every other answer (in `errors`) and the last 201."""

    def __init__(self, api_url: str, jobs: deque, clients: int, seconds: float, errors: List[str]):
        self.api_url, self.jobs, self.seconds, self.errors = api_url, jobs, seconds, errors
        self.ready, self.go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
        self.lock = threading.Lock()
        self.accepted: Counter = Counter()
        self.latencies: List[float] = []
        self.last_ok = 0.0
        self.exhausted = False
        self.started = 0.0  # set between the barriers, once every client is connected
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(clients)]

    def client(self) -> None:
        conn = api_connection(self.api_url)
        bad: List[str] = []
        try:
            conn.connect()
        except OSError as error:  # the request will reconnect; the error shows if it fails again
            bad.append(f"connect: {error}")
        self.ready.wait()
        self.go.wait()
        mine, lat, last = self.vote_until_the_deadline(conn, bad)
        conn.close()
        with self.lock:
            self.accepted.update(mine)
            self.latencies.extend(lat)
            self.errors.extend(bad)
            self.last_ok = max(self.last_ok, last)

    def vote_until_the_deadline(self, conn, bad: List[str]) -> tuple:
        clock = time.perf_counter
        mine, lat, last = Counter(), [], 0.0
        deadline = self.started + self.seconds
        while clock() < deadline:
            try:
                job = self.jobs.popleft()
            except IndexError:
                self.exhausted = True
                break
            sent = clock()
            status, _, data = exchange(conn, "POST", job.path, job.body, job.headers)
            done = clock()
            if status == 201:
                mine[poll_of(job)] += 1
                lat.append(done - sent)
                last = done
            else:
                bad.append(f"POST {job.path} {poll_of(job)}: {status} {data[:200]!r}")
        return mine, lat, last


def run_load(api_url: str, jobs: deque, clients: int, seconds: float, errors: List[str],
             during=None) -> dict:
    """C threads take votes off one queue until the time is up; `during(stop)` runs beside them."""
    clock = time.perf_counter
    load = LoadClients(api_url, jobs, clients, seconds, errors)
    for thread in load.threads:
        thread.start()
    stop = threading.Event()
    side = None
    load.ready.wait()  # every client is connected
    load.started = clock()
    wall_start = time.time()
    if during is not None:
        side = threading.Thread(target=during, args=(stop,), daemon=True)
        side.start()
    load.go.wait()
    for thread in load.threads:
        thread.join()
    ended = clock()
    stop.set()
    if side is not None:
        side.join()
    votes = sum(load.accepted.values())
    return {"accepted": load.accepted, "votes": votes, "seconds": ended - load.started,
            "last_ok": load.last_ok or ended, "latencies": load.latencies, "exhausted": load.exhausted,
            "wall_start": wall_start, "wall_end": time.time()}


def wait_drained(reader: ResultsReader, accepted: Dict[str, int], since: float) -> float:
    """Seconds from `since` (the last 201) until every poll's results show exactly what was accepted."""
    pending = dict(accepted)
    while pending:
        for poll_id, want in list(pending.items()):
            got = reader.total(poll_id)
            if got > want:
                raise BenchFailed(f"{poll_id} shows {got} votes but {want} were accepted")
            if got == want:
                del pending[poll_id]
        if pending and time.perf_counter() - since > DRAIN_DEADLINE_S:
            raise BenchFailed(f"not drained after {DRAIN_DEADLINE_S} s: {pending} accepted, still short")
    return time.perf_counter() - since


# --- 4. index requests per batch ---------------------------------------------------------------------------------

def index_requests_per_batch(stack: LocalStack) -> dict:
    from chalicelib import runtime
    from chalicelib.adapters.dynamo_tallies import DynamoTallyStore
    from chalicelib.adapters.sqlite_index import SqliteIndex
    from chalicelib.domain.times import utc_now
    from chalicelib.events.tally import tally_ballots
    from chalicelib.services.tallying import TallyService
    from devstack.stream_runner import BATCH_SIZE, WINDOW_SECONDS, StreamRunner, stream_arn_of

    settings = stack.settings()
    dynamodb = stack.aws_client("dynamodb")
    # The real adapters, their calls counted: an index write with ballots is one request (one transaction).
    index = mock.Mock(wraps=SqliteIndex(settings.index_path))
    tallies = mock.Mock(wraps=DynamoTallyStore(dynamodb, settings.tallies_table, utc_now))
    runtime.get().tallying = TallyService(tallies, index, utc_now)  # cached_property: this instance wins
    per_invocation = []

    def index_requests() -> int:
        return sum(1 for call in index.write.call_args_list if call.args[0])

    def handler(event, context):
        before = (index_requests(), tallies.apply.call_count)
        try:
            return tally_ballots(event, context)
        finally:
            per_invocation.append({"records": len(event["Records"]), "index": index_requests() - before[0],
                                   "tallies": tallies.apply.call_count - before[1]})

    dead_letters = stack.state_dir / "bench-replay-dead-letters.jsonl"
    runner = StreamRunner(stack.aws_client("dynamodbstreams"), stream_arn_of(dynamodb, settings.ballots_table),
                          handler, str(dead_letters), BATCH_SIZE, WINDOW_SECONDS)
    started = time.perf_counter()
    with quiet_app_output():
        records = runner.drain(deadline_seconds=60)
    seconds = time.perf_counter() - started
    runtime.reset()
    with_records = [p for p in per_invocation if p["records"]]
    per_batch = [p["index"] for p in with_records]
    return {
        "replayed_records": records,
        "invocations": runner.invocations,
        "index_requests": index_requests(),
        "index_requests_per_invocation": {"min": min(per_batch, default=0), "max": max(per_batch, default=0),
                                          "mean": round(statistics.fmean(per_batch), 3) if per_batch else None},
        "tally_writes_per_invocation": round(statistics.fmean([p["tallies"] for p in with_records]), 2)
        if with_records else None,
        "records_per_invocation": round(records / max(1, runner.invocations), 1),
        "dead_letters": dead_letters.read_text().count("\n") if dead_letters.exists() else 0,
        "seconds": round(seconds, 2),
        "target_met": bool(per_batch) and all(n == TARGET_INDEX_REQUESTS_PER_BATCH for n in per_batch),
    }


def stream_log_batches(path: Path, wall_start: float, wall_end: float) -> dict:
    """The stack's own stream runner during (1): its "batch tallied" lines, one per handler invocation."""
    batches = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") != "batch tallied":
                continue
            at = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
            if wall_start <= at <= wall_end:
                batches.append(entry)
    records = [b["records"] for b in batches]
    return {"batches": len(batches), "records": sum(records), "new": sum(b.get("new", 0) for b in batches),
            "failed": sum(b.get("failed", 0) for b in batches),
            "records_per_batch_mean": round(statistics.fmean(records), 1) if records else None,
            "records_per_batch_max": max(records, default=0)}


# --- 3. the handler's CPU per record --------------------------------------------------------------------------

def offline_tallying():
    """The consumer's use case with no I/O: the real DynamoTallyStore (order, checkpoint, counts, the UpdateItem
    it builds) over a stand-in DynamoDB client that takes each UpdateItem and answers nothing, and a stand-in
    index that takes each write. Returns the service, the client and the index, whose calls are recorded."""
    from chalicelib.adapters.dynamo_tallies import DynamoTallyStore
    from chalicelib.adapters.sqlite_index import SqliteIndex
    from chalicelib.domain.times import utc_now
    from chalicelib.services.tallying import TallyService

    dynamodb, index = mock.Mock(spec=["update_item"]), mock.Mock(spec=SqliteIndex)
    return TallyService(DynamoTallyStore(dynamodb, "tallies", utc_now), index, utc_now), dynamodb, index


def votes_added(dynamodb) -> int:
    """The votes the UpdateItems sent to the stand-in client ADD to the counters."""
    return sum(int(value["N"]) for call in dynamodb.update_item.call_args_list
               for name, value in call.kwargs["ExpressionAttributeValues"].items() if name.startswith(":c"))


def lambda_events(batches: int, size: int, polls: int = 8) -> List[str]:
    """Lambda-shaped events as the JSON text Lambda's runtime parses: ballots of `polls` polls, 3 candidates."""
    from chalicelib.domain.ballots import bucket_of
    from chalicelib.domain.times import format_instant
    from devstack.stream_runner import lambda_event, lambda_record

    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tally-local-ballots/stream/2026-11-23T10:00:00.000"
    shard = "shardId-00000001541626099285-f35f62ef"
    start = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    candidates = ("red", "green", "blue")
    sequence = 1_100_000_000_017_454_423_009
    texts = []
    n = 0
    for _ in range(batches):
        records = []
        for _ in range(size):
            moment = start + timedelta(milliseconds=7 * n)
            poll_id, voter_id = f"bench-poll-{n % polls}", str(uuid.uuid4())
            keys = {"poll_bucket": {"S": f"{poll_id}#{bucket_of(voter_id, 20)}"}, "voter_id": {"S": voter_id}}
            record = {"eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventVersion": "1.1",
                      "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                      "dynamodb": {"ApproximateCreationDateTime": moment, "Keys": keys,
                                   "NewImage": {**keys, "poll_id": {"S": poll_id},
                                                "candidate": {"S": candidates[n % 3]},
                                                "cast_at": {"S": format_instant(moment)}},
                                   "SequenceNumber": str(sequence + 100 * n), "SizeBytes": 411,
                                   "StreamViewType": "NEW_IMAGE"}}
            records.append(lambda_record(record, arn))
            n += 1
        texts.append(json.dumps(lambda_event(records, arn, shard, start)))
    return texts


def handler_pass(texts: List[str], profiler: Optional[cProfile.Profile] = None) -> tuple:
    """The consumer over every event, no I/O behind it (offline_tallying); CPU seconds of the handle() calls."""
    from chalicelib import runtime
    from chalicelib.events import consumer

    runtime.get().tallying, dynamodb, index = offline_tallying()
    context = _context()
    cpu = 0.0
    for text in texts:
        event = json.loads(text)  # Lambda's runtime does this before the handler: not the handler's cost
        if profiler is not None:
            profiler.enable()
        before = time.process_time()
        reply = consumer.handle(event, context)
        cpu += time.process_time() - before
        if profiler is not None:
            profiler.disable()
        if reply.get("batchItemFailures"):
            raise BenchFailed(f"the consumer failed records of a well-formed batch: {reply}")
    return cpu, votes_added(dynamodb), index.write.call_count


def json_pass(texts: List[str]) -> float:
    """Baseline: parse the event and walk its records to the four fields of a ballot."""
    cpu = 0.0
    for text in texts:
        before = time.process_time()
        event = json.loads(text)
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            (image["poll_id"]["S"], image["voter_id"]["S"], image["candidate"]["S"], image["cast_at"]["S"],
             record["dynamodb"]["SequenceNumber"])
        cpu += time.process_time() - before
    return cpu


def records_pass(texts: List[str]) -> float:
    """Baseline: Powertools' DynamoDBRecord over each record, reading what read_ballot reads, nothing checked."""
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    cpu = 0.0
    for text in texts:
        event = json.loads(text)
        before = time.process_time()
        for raw in event["Records"]:
            record = DynamoDBRecord(raw)
            image = record.dynamodb.new_image
            (record.event_name, image.get("poll_id"), image.get("voter_id"), image.get("candidate"),
             image.get("cast_at"), record.dynamodb.sequence_number)
        cpu += time.process_time() - before
    return cpu


def _context():
    from devstack.stream_runner import LocalContext
    return LocalContext()


def handler_cpu(batches: int, size: int, rounds: int, profile_batches: int) -> dict:
    texts = lambda_events(batches, size)
    records = batches * size
    runs = {"handler": [], "json": [], "records": []}
    with quiet_app_output():
        handler_pass(texts[:5])  # warm-up: imports, regex and class caches
        for r in range(rounds):
            order = ("handler", "json", "records") if r % 2 == 0 else ("records", "json", "handler")
            for kind in order:
                if kind == "handler":
                    cpu, counted, writes = handler_pass(texts)
                    if counted != records or writes != batches:
                        raise BenchFailed(f"handler counted {counted} of {records} records in {writes} writes")
                else:
                    cpu = json_pass(texts) if kind == "json" else records_pass(texts)
                runs[kind].append(cpu)
        profiler = cProfile.Profile()
        handler_pass(texts[:profile_batches], profiler)
        parts = breakdown(texts[:profile_batches])
    us = {kind: [1e6 * cpu / records for cpu in values] for kind, values in runs.items()}
    handler_us = statistics.median(us["handler"])
    per_s = 1e6 / handler_us
    ratio_json = statistics.median([h / j for h, j in zip(us["handler"], us["json"], strict=True)])
    ratio_records = statistics.median([h / j for h, j in zip(us["handler"], us["records"], strict=True)])
    return {
        "batches": batches, "records_per_batch": size, "rounds": rounds,
        "handler_us_per_record": round(handler_us, 2),
        "handler_records_per_s_per_core": round(per_s),
        "handler_us_per_record_by_round": [round(x, 2) for x in us["handler"]],
        "baseline_json_us_per_record": round(statistics.median(us["json"]), 2),
        "baseline_dynamodbrecord_us_per_record": round(statistics.median(us["records"]), 2),
        "handler_over_json": round(ratio_json, 2),
        "handler_over_dynamodbrecord": round(ratio_records, 2),
        "target_records_per_s": TARGET_RECORDS_PER_S,
        "target_met": per_s >= TARGET_RECORDS_PER_S,
        "parts_us_per_record": {**parts, REST: round(handler_us - sum(parts[name] for name in TOP_PARTS), 2)},
        "profile": profile_summary(profiler, min(profile_batches, batches) * size),
    }


def breakdown(texts: List[str], repeats: int = 3) -> Dict[str, float]:
    """The handler's parts, each timed alone over the same records (best of `repeats`), in us per record."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from chalicelib.domain.times import parse_instant
    from chalicelib.events.ballot_records import read_ballot

    events = [json.loads(text) for text in texts]
    records = [DynamoDBRecord(raw) for event in events for raw in event["Records"]]
    batches = [[read_ballot(DynamoDBRecord(raw)) for raw in event["Records"]] for event in events]
    cast_ats = [b.ballot.cast_at for batch in batches for b in batch]
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

    def batch_processor():
        for event in events:
            with processor(records=event["Records"], handler=lambda record: None):
                processor.process()

    def apply():
        service = offline_tallying()[0]
        for batch in batches:
            service.apply("shardId-1", batch)

    parts = {
        "BatchProcessor, no-op record handler": batch_processor,
        "read_ballot": lambda: [read_ballot(r) for r in records],
        "  of which DynamoDBRecord .dynamodb.new_image": lambda: [r.dynamodb.new_image for r in records],
        "  of which parse_instant(cast_at)": lambda: [parse_instant(c, "cast_at") for c in cast_ats],
        "  of which .event_name (Enum by name)": lambda: [r.event_name for r in records],
        "TallyService.apply, no I/O behind it": apply,
    }
    timed = {}
    for name, work in parts.items():
        best = math.inf
        for _ in range(repeats):
            before = time.process_time()
            work()
            best = min(best, time.process_time() - before)
        timed[name] = round(1e6 * best / len(records), 2)
    return timed


def profile_summary(profiler: cProfile.Profile, records: int, top: int = 14) -> dict:
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():
        where = _short(filename)
        rows.append({"function": f"{where}:{line}({name})", "calls_per_record": round(calls / records, 2),
                     "self_share": round(tottime / total, 3), "cum_share": round(cumtime / total, 3)})
    by_self = sorted(rows, key=lambda r: -r["self_share"])[:top]
    by_cum = sorted((r for r in rows if r["cum_share"] < 0.95), key=lambda r: -r["cum_share"])[:top]
    packages = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        packages[_package(filename)] += tottime
    return {"profiled_records": records, "by_self_time": by_self, "by_cumulative": by_cum,
            "self_share_by_package": {k: round(v / total, 3) for k, v in packages.most_common(8)}}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _package(filename: str) -> str:
    short = _short(filename)
    if short.startswith("<string>"):
        return "generated (dataclass __init__)"
    if short.startswith("~") or short.startswith("<"):
        return "builtins (C)"
    parts = short.split("/")
    if parts[0] == "aws_lambda_powertools":
        return "/".join(parts[:3])
    if parts[0] == "chalicelib":
        return "/".join(parts[:2])
    return parts[0].removesuffix(".py")


# --- the run --------------------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def latency_summary(values: Sequence[float]) -> dict:
    return {"samples": len(values), "p50_s": round(percentile(values, 0.50), 3),
            "p95_s": round(percentile(values, 0.95), 3), "max_s": round(max(values), 3) if values else None,
            "target_met": bool(values) and percentile(values, 0.95) <= TARGET_VISIBLE_P95_S}


def planned_votes(stack: LocalStack, args, tag: str, raw_poll: str) -> tuple:
    """The load's votes (as many polls of VOTERS as PAIRS_PER_SECOND asks for), and the idle and busy probes'."""
    load_polls = math.ceil(args.seconds * PAIRS_PER_SECOND / VOTERS)
    planned = list(plan_votes(stack, (load_polls + 2) * VOTERS, tag, [raw_poll]))
    load_jobs = deque(planned[:load_polls * VOTERS])
    idle_votes = planned[load_polls * VOTERS:(load_polls + 1) * VOTERS]
    busy_votes = planned[(load_polls + 1) * VOTERS:]
    return load_jobs, idle_votes, busy_votes


def load_with_a_probe(stack: LocalStack, token: str, jobs: deque, busy_votes: List[Vote], meter: CpuMeter, args,
                      errors: List[str]) -> tuple:
    """(1) with (2) beside it: the load's figures, the probe's samples under load, and each process's CPU."""
    busy: List[float] = []

    def probe_during_load(stop: threading.Event) -> None:
        try:
            busy.extend(probe(stack.api_url, token, busy_votes, errors, stop=stop))
        except BenchFailed as failure:
            errors.append(f"probe under load: {failure}")

    cpu_before = meter.sample()
    load = run_load(stack.api_url, jobs, args.clients, args.seconds, errors, during=probe_during_load)
    cpu_after = meter.sample()
    return load, busy, {name: cpu_after[name] - cpu_before[name] for name in cpu_before}


def raw_baseline(stack: LocalStack, raw_poll: str, meter: CpuMeter, args, errors: List[str]):
    """The baseline of the same run: moto's raw conditional PutItem of a ballot, as many clients, no API."""
    dynamodb = stack.aws_client("dynamodb", max_pool_connections=args.clients + 4, retries={"total_max_attempts": 1})
    raw = raw_put_phase(dynamodb, stack.settings().ballots_table, raw_poll, RAW_PUTS, args.clients, meter)
    if raw.errors:
        errors.extend(raw.errors[:5])
        raise BenchFailed("; ".join(raw.errors[:5]))
    return raw


def replay_changes_nothing(stack: LocalStack, reader: ResultsReader, accepted: Dict[str, int],
                           errors: List[str]) -> tuple:
    """(4): the stream replayed through the handler, and the polls whose totals the replay changed (none)."""
    index = index_requests_per_batch(stack)
    after = {poll_id: reader.total(poll_id) for poll_id in accepted}
    changed = {p: (after[p], n) for p, n in accepted.items() if after[p] != n}
    if changed:
        errors.append(f"the replay changed totals (shown, accepted): {changed}")
    print(f"index: replayed {index['replayed_records']} records in {index['invocations']} invocations; "
          f"index requests per invocation {index['index_requests_per_invocation']}", flush=True)
    return index, changed


def through_the_stack(stack: LocalStack, meter: CpuMeter, args, errors: List[str]) -> dict:
    tag = secrets.token_hex(3)
    raw_poll = f"bench-{tag}-raw"
    load_jobs, idle_votes, busy_votes = planned_votes(stack, args, tag, raw_poll)
    token = stack.token(stack.operator["username"])

    idle = probe(stack.api_url, token, idle_votes, errors, samples=args.idle_samples, warm_up=True)
    print(f"visibility, idle: {len(idle)} samples  p50 {percentile(idle, .5):.3f} s  "
          f"p95 {percentile(idle, .95):.3f} s", flush=True)
    if errors:
        raise BenchFailed("; ".join(errors[:5]))

    load, busy, cpu = load_with_a_probe(stack, token, load_jobs, busy_votes, meter, args, errors)
    rate = load["votes"] / load["seconds"]
    print(f"load: {load['votes']} votes accepted in {load['seconds']:.1f} s by {args.clients} clients = "
          f"{rate:.1f} votes/s; errors {len(errors)}", flush=True)
    print(f"visibility, under load: {len(busy)} samples  p50 {percentile(busy, .5):.3f} s  "
          f"p95 {percentile(busy, .95):.3f} s", flush=True)
    if errors:
        raise BenchFailed("; ".join(errors[:5]))

    reader = ResultsReader(stack.api_url, token)
    drain = wait_drained(reader, load["accepted"], load["last_ok"])
    print(f"drained: every poll shows exactly its accepted votes {drain:.2f} s after the last 201", flush=True)
    stream_during_load = stream_log_batches(stack.state_dir / "stream.log", load["wall_start"], time.time())
    raw = raw_baseline(stack, raw_poll, meter, args, errors)
    print(f"baseline: raw conditional PutItem {raw.rate:.1f}/s with {args.clients} clients; "
          f"stack / raw = {rate / raw.rate:.2f}", flush=True)
    index, changed = replay_changes_nothing(stack, reader, load["accepted"], errors)
    reader.close()
    return {
        "throughput": {
            "clients": args.clients, "seconds": round(load["seconds"], 2), "votes_accepted": load["votes"],
            "votes_per_s": round(rate, 1), "polls": len(load["accepted"]), "pairs_exhausted": load["exhausted"],
            "vote_latency_p50_ms": round(1000 * percentile(load["latencies"], .5), 1),
            "vote_latency_p95_ms": round(1000 * percentile(load["latencies"], .95), 1),
            "drain_s": round(drain, 3),
            "raw_put_per_s": round(raw.rate, 1),
            "stack_over_raw": round(rate / raw.rate, 3),
            "cpu_ms_per_vote": {name: round(1000 * spent / max(1, load["votes"]), 2) for name, spent in cpu.items()},
            "stream_runner_batches": stream_during_load,
        },
        "visibility": {"idle": latency_summary(idle), "under_load": latency_summary(busy),
                       "target_p95_s": TARGET_VISIBLE_P95_S},
        "index": {**index, "totals_unchanged_by_replay": not changed},
    }


def print_report(summary: dict) -> None:
    t, v, i, h = (summary.get(k) for k in ("throughput", "visibility", "index", "handler"))

    def met(ok):
        return "met" if ok else "NOT met"
    print("\nPipeline")
    if t:
        print(f"  votes/s through the stack      {t['votes_per_s']:.1f}  ({t['votes_accepted']} votes, {t['clients']} "
              f"clients, {t['seconds']:.1f} s; vote p50/p95 {t['vote_latency_p50_ms']}/{t['vote_latency_p95_ms']} ms)")
        print(f"  baseline, same run             raw conditional PutItem {t['raw_put_per_s']:.1f}/s, {t['clients']} "
              f"clients; stack / raw = {t['stack_over_raw']:.2f}")
        print(f"  drain after the last 201       {t['drain_s']:.2f} s")
        cpu = t["cpu_ms_per_vote"]
        print("  CPU ms per vote                " + ", ".join(f"{k} {x:.2f}" for k, x in cpu.items()))
        s = t["stream_runner_batches"]
        print(f"  stack's batches during load    {s['batches']} invocations, {s['records']} records, "
              f"mean {s['records_per_batch_mean']} / max {s['records_per_batch_max']} records per batch")
    if v:
        for kind in ("idle", "under_load"):
            x = v[kind]
            print(f"  201 -> visible, {kind:<10}     p50 {x['p50_s']:.3f} s  p95 {x['p95_s']:.3f} s  "
                  f"({x['samples']} samples)  target p95 <= {TARGET_VISIBLE_P95_S} s: {met(x['target_met'])}")
    if i:
        per = i["index_requests_per_invocation"]
        print(f"  index requests per invocation  min {per['min']} max {per['max']} mean {per['mean']} "
              f"over {i['invocations']} invocations ({i['replayed_records']} records replayed); "
              f"target exactly 1: {met(i['target_met'])}")
        print(f"  tally UpdateItems per invocation {i['tally_writes_per_invocation']} (one per poll in the batch); "
              f"replay changed no total: {i['totals_unchanged_by_replay']}")
    if h:
        print(f"  tally handler CPU              {h['handler_us_per_record']:.2f} us/record = "
              f"{h['handler_records_per_s_per_core']:,} records/s per core  "
              f"target >= {TARGET_RECORDS_PER_S:,}: {met(h['target_met'])}")
        print(f"  baselines (same run)           json.loads + walk {h['baseline_json_us_per_record']:.2f} us/record "
              f"(handler / json = {h['handler_over_json']:.2f}); DynamoDBRecord reads "
              f"{h['baseline_dynamodbrecord_us_per_record']:.2f} us/record "
              f"(handler / DynamoDBRecord = {h['handler_over_dynamodbrecord']:.2f})")
        print("  handler parts, each timed alone (us/record):")
        for name, value in h["parts_us_per_record"].items():
            print(f"      {value:6.2f}  {name}")
        p = h["profile"]
        print(f"  handler profile ({p['profiled_records']} records, cProfile), self time by package:")
        for name, share in p["self_share_by_package"].items():
            print(f"      {share:6.1%}  {name}")
        print("    by self time:")
        for row in p["by_self_time"]:
            print(f"      {row['self_share']:6.1%}  {row['calls_per_record']:6.2f}/record  {row['function']}")
        print("    by cumulative time:")
        for row in p["by_cumulative"]:
            print(f"      {row['cum_share']:6.1%}  {row['calls_per_record']:6.2f}/record  {row['function']}")
    print(f"  errors: {len(summary['errors'])}")
    for problem in summary["errors"][:10]:
        print(f"    {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent voting clients (default 8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load (default 10)")
    parser.add_argument("--idle-samples", type=int, default=20, help="visibility samples while idle (default 20)")
    parser.add_argument("--batches", type=int, default=200, help="handler CPU: events per pass (default 200)")
    parser.add_argument("--batch-size", type=int, default=500, help="handler CPU: records per event (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="handler CPU: interleaved passes (default 3)")
    parser.add_argument("--stack", help="stack.json of a running stack, instead of starting one")
    args = parser.parse_args()
    if min(args.clients, args.idle_samples, args.batches, args.batch_size, args.rounds) < 1 or args.seconds <= 0:
        parser.error("every count must be at least 1")

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    summary = {"date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
               "command": " ".join([".venv/bin/python", "-m", "bench.pipeline", *sys.argv[1:]])}
    errors: List[str] = []
    try:
        with bench_stack(args.stack) as (stack, meter):
            summary.update(through_the_stack(stack, meter, args, errors))
            if errors:
                raise BenchFailed("; ".join(errors[:5]))  # keeps the stack's logs
    except BenchFailed as failure:
        if not errors:
            errors.append(str(failure))
    gc.collect()
    summary["handler"] = handler_cpu(args.batches, args.batch_size, args.rounds, profile_batches=40)
    summary["errors"] = errors
    summary["run_seconds"] = round(time.perf_counter() - started, 1)
    summary["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(summary)
    print(json.dumps(summary))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
