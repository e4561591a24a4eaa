"""The floor a vote through the local stack's API is read against: moto's own rate for the conditional PutItem the
ballot ledger makes, with nothing of the API, tokens or HTTP in the way. Measured in a timed phase of concurrent
calls (run_phase), the same harness the benches time their API phases with, so the two sides differ only in what
they call. The load test reads its votes/s against this floor, as bench/vote_path.py does.
"""
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.dynamo_ballots import ballot_to_item
from chalicelib.domain.ballots import DEFAULT_PEAK_VOTES_PER_S, Ballot, bucket_of, buckets_for
from chalicelib.domain.times import utc_now
from devstack.processes import CpuMeter


@dataclass
class Phase:
    kind: str
    concurrency: int
    ok: int = 0
    seconds: float = 0.0
    latencies: List[float] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    cpu_ms_per_op: Dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def run_phase(kind: str, concurrency: int, jobs: Sequence, warmups: Sequence,
              open_client: Callable, call: Callable, close_client: Callable, meter: CpuMeter) -> Phase:
    """`call(client, job)` returns None or an error text. Each thread first makes one untimed call, so that
    connections are open and caches warm before the clock starts; all start together at a barrier."""
    phase = Phase(kind, concurrency)
    queue = deque(jobs)
    barrier = threading.Barrier(concurrency + 1)
    lock = threading.Lock()

    def worker(warmup) -> None:
        latencies, errors = [], []
        client = None
        try:
            client = open_client()
            problem = call(client, warmup)
            if problem:
                errors.append(f"warm-up: {problem}")
        except Exception as error:  # a thread that cannot start must still count, not hang the barrier
            errors.append(f"warm-up: {type(error).__name__}: {error}")
        barrier.wait()
        if client is not None:
            clock = time.perf_counter
            while True:
                try:
                    job = queue.popleft()
                except IndexError:
                    break
                start = clock()
                problem = call(client, job)
                latencies.append(clock() - start)
                if problem:
                    errors.append(problem)
            close_client(client)
        with lock:
            phase.latencies.extend(latencies)
            phase.errors.extend(errors)

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in warmups[:concurrency]]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    cpu_before = meter.sample()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    cpu_after = meter.sample()
    if phase.latencies:
        phase.cpu_ms_per_op = {name: 1000 * (cpu_after[name] - cpu_before[name]) / len(phase.latencies)
                               for name in cpu_before}
    timed_errors = sum(1 for e in phase.errors if not e.startswith("warm-up"))
    phase.ok = len(phase.latencies) - timed_errors
    if queue:
        phase.errors.append(f"{len(queue)} jobs never ran")
    return phase


RAW_POLL_BUCKETS = buckets_for(DEFAULT_PEAK_VOTES_PER_S)  # the raw phases' polls are made with the default


def raw_put_phase(dynamodb, table: str, poll_id: str, count: int, concurrency: int, meter: CpuMeter) -> Phase:
    # A ballot in every respect (real poll and candidate, cast_at in the stored form): anything less is a record
    # the stream consumer retries and dead-letters, which would load the stack during the raw phases only.
    cast_at = utc_now()
    keys = [f"raw-voter-{n:06d}" for n in range(count + concurrency)]

    def put(client, voter_id: str) -> Optional[str]:
        try:
            client.put_item(
                TableName=table,
                Item=ballot_to_item(Ballot(poll_id=poll_id, voter_id=voter_id, candidate="red", cast_at=cast_at),
                                    bucket_of(voter_id, RAW_POLL_BUCKETS)),
                ConditionExpression="attribute_not_exists(voter_id)",
                # As the ballot ledger sends it, so the two sides differ only by what the API adds.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except (BotoCoreError, ClientError) as error:
            return f"{type(error).__name__}: {error}"
        return None

    return run_phase("raw", concurrency, keys[concurrency:], keys[:concurrency],
                     lambda: dynamodb, put, lambda client: None, meter)
