"""The vote path against its floor: API votes/s as a share of moto's raw conditional PutItem/s.

A vote through the API is token verification plus one conditional PutItem, so the rate at which moto server
takes that PutItem alone is the ceiling the API can approach on this machine. Both are measured in one run, on
one stack, interleaved over R rounds (the order alternates each round) so that drift on a noisy 2-core machine
hits both sides alike; each figure is the median over rounds and each ratio the median of per-round ratios.

Phases, each at 1 and at 16 concurrent threads, N operations each:
  raw   boto3 `put_item` of a ballot-shaped item into the local ballots table, fresh keys,
        ConditionExpression attribute_not_exists(voter_id): exactly the call the ballot ledger makes.
  api   `POST /votes/{candidate}` with a real Cognito ID token, every request a new ballot (201 expected);
        one keep-alive http.client connection per thread, so the load generator stays cheap.
Before any timing it creates the voters (moto's Cognito admin API, each signed in once) and the polls (through
the API as the operator) so that every timed vote is a distinct (poll, voter) pair. Anything but a 201 (or a
failed PutItem) is an error: errors are reported and make the exit status 1. Target: API votes/s >= 60% of raw.
For a stack it started it also reports the CPU milliseconds each process (moto, api, stream runner, this one)
spends per operation, read from /proc: noise moves that far less than it moves the rates.

Run:  .venv/bin/python -m bench.vote_path [--votes N] [--rounds R] [--stack DIR/stack.json]
Without --stack it starts its own stack (devstack/stack.py's LocalStack: free ports, a temp dir) and stops it
at the end, even on error. With --stack it uses a running one and leaves bench voters, polls and
ballots behind in it. The last line printed is a JSON object with every figure.
"""
import argparse
import contextlib
import http.client
import json
import math
import os
import secrets
import signal
import statistics
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.dynamo_ballots import ballot_to_item
from chalicelib.domain.ballots import DEFAULT_PEAK_VOTES_PER_S, Ballot, bucket_of, buckets_for
from chalicelib.domain.times import utc_now
from devstack.stack import LocalStack

CONCURRENCY = (1, 16)
TARGET = 0.60
CANDIDATES = ("red", "green", "blue")


# --- the stack ------------------------------------------------------------------------------------------------

class CpuMeter:
    """CPU seconds used so far by each process of the stack and by this one, read from /proc.

    Wall-clock rates swing with whatever else the machine runs; CPU time per operation barely does, so it says
    where the work goes even when the rates are noisy. Only known for a stack this run started.
    """
    CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: Dict[str, int]):
        self.pids = {**pids, "bench": os.getpid()}

    @classmethod
    def for_stack(cls, stack: LocalStack) -> "CpuMeter":
        """The processes of a stack this run started: moto, api, stream, static."""
        return cls({module.rsplit(".", 1)[-1].replace("moto_server", "moto").replace("_runner", ""): pid
                    for module, pid in stack.children().items()})

    def sample(self) -> Dict[str, float]:
        used = {}
        for name, pid in self.pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / self.CLOCK_TICKS  # utime + stime
            except OSError:
                used[name] = float("nan")
        return used


@contextlib.contextmanager
def bench_stack(stack_json: Optional[str] = None) -> Iterator[Tuple[LocalStack, "CpuMeter"]]:
    """The stack to measure and its CPU meter: a running one (the stack.json given; its processes are not ours to
    find, so the meter reads this process only), or one of our own on free ports, stopped at the end."""
    if stack_json:
        stack = LocalStack.attach(Path(stack_json).parent, deadline_s=10)
        if stack is None:
            raise SystemExit(f"no stack answers at {stack_json}")
        yield stack, CpuMeter({})
    else:
        with LocalStack.start() as stack:
            yield stack, CpuMeter.for_stack(stack)


# --- preparation (untimed) ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Vote:
    path: str
    body: bytes
    headers: dict


def api_connection(api_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(api_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def create_polls(stack: LocalStack, poll_ids: Sequence[str]) -> None:
    with stack.client(stack.token(stack.operator["username"])) as operator:
        for poll_id in poll_ids:
            reply = operator.post("/polls", json={"poll_id": poll_id, "title": f"Bench poll {poll_id}",
                                                  "candidates": list(CANDIDATES)})
            if reply.status_code != 201:
                raise RuntimeError(f"POST /polls answered {reply.status_code}: {reply.text[:300]!r}")


def create_voters(stack: LocalStack, tag: str, count: int) -> List[str]:
    """`count` voters made and signed in: their ID tokens. moto takes one request at a time; a few threads only
    overlap the client side of each call."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda n: stack.new_voter(f"bench-{tag}-{n}"), range(count)))


def plan_votes(stack: LocalStack, needed: int, tag: str, raw_poll_ids: Sequence[str]) -> deque:
    """Voters and polls enough for `needed` distinct new ballots, as ready-to-send requests; and the polls the
    raw phases write into, so that their ballots are ones the stream consumer counts like any other."""
    # Many voters, few polls, as in a real election.
    voters = min(needed, 200)
    polls = math.ceil(needed / voters)
    started = time.perf_counter()
    poll_ids = [f"bench-{tag}-{n}" for n in range(polls)]
    create_polls(stack, [*poll_ids, *raw_poll_ids])
    tokens = create_voters(stack, tag, voters)
    print(f"prepared {voters} signed-in voters and {polls} polls (+{len(raw_poll_ids)} for the raw phases) "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    votes = deque()
    for p, poll_id in enumerate(poll_ids):
        body = json.dumps({"poll_id": poll_id}).encode()
        for v, token in enumerate(tokens):
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            votes.append(Vote(f"/votes/{CANDIDATES[(p + v) % len(CANDIDATES)]}", body, headers))
    return votes


# --- one timed phase ------------------------------------------------------------------------------------------

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


def api_vote_phase(api_url: str, votes: deque, count: int, concurrency: int, meter: CpuMeter) -> Phase:
    mine = [votes.popleft() for _ in range(count + concurrency)]

    def vote(conn: http.client.HTTPConnection, job: Vote) -> Optional[str]:
        try:
            conn.request("POST", job.path, body=job.body, headers=job.headers)
            reply = conn.getresponse()
            text = reply.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()  # the next request reconnects
            return f"{type(error).__name__}: {error}"
        if reply.status != 201:
            return f"{reply.status}: {text[:200]!r}"
        return None

    def open_connection():
        conn = api_connection(api_url)
        conn.connect()
        return conn

    return run_phase("api", concurrency, mine[concurrency:], mine[:concurrency],
                     open_connection, vote, lambda conn: conn.close(), meter)


# --- report ---------------------------------------------------------------------------------------------------

def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_by_name(samples: List[Dict[str, float]]) -> Dict[str, float]:
    names = sorted({name for sample in samples for name in sample})
    return {name: round(median([s[name] for s in samples if name in s]), 2) for name in names}


def summarise(rounds: List[dict], votes: int) -> dict:
    summary = {"rounds": len(rounds), "ops_per_phase": votes, "target_api_over_raw": TARGET, "by_concurrency": {}}
    for c in CONCURRENCY:
        raw = [r[("raw", c)] for r in rounds]
        api = [r[("api", c)] for r in rounds]
        ratios = [a.rate / r.rate if r.rate else float("nan") for a, r in zip(api, raw, strict=True)]
        summary["by_concurrency"][str(c)] = {
            "raw_putitem_per_s": round(median([p.rate for p in raw]), 1),
            "api_votes_per_s": round(median([p.rate for p in api]), 1),
            "api_over_raw": round(median(ratios), 3),
            "target_met": median(ratios) >= TARGET,
            "raw_p50_ms": round(median([p.percentile_ms(0.50) for p in raw]), 2),
            "raw_p95_ms": round(median([p.percentile_ms(0.95) for p in raw]), 2),
            "api_p50_ms": round(median([p.percentile_ms(0.50) for p in api]), 2),
            "api_p95_ms": round(median([p.percentile_ms(0.95) for p in api]), 2),
            "cpu_ms_per_op": {"raw": median_by_name([p.cpu_ms_per_op for p in raw]),
                              "api": median_by_name([p.cpu_ms_per_op for p in api])},
            "per_round": {
                "raw_putitem_per_s": [round(p.rate, 1) for p in raw],
                "api_votes_per_s": [round(p.rate, 1) for p in api],
                "api_over_raw": [round(x, 3) for x in ratios],
            },
        }
    summary["errors"] = sum(len(p.errors) for r in rounds for p in r.values())
    return summary


def print_table(summary: dict) -> None:
    by = summary["by_concurrency"]
    cols = [str(c) for c in CONCURRENCY]
    rows = [("", [f"{c} thread{'s' if c != '1' else ''}" for c in cols])]

    def row(label: str, cell: Callable[[dict], str]) -> None:
        rows.append((label, [cell(by[c]) for c in cols]))

    row("raw conditional PutItem/s", lambda f: f"{f['raw_putitem_per_s']:.1f}")
    row("API votes/s (201, token verified)", lambda f: f"{f['api_votes_per_s']:.1f}")
    row("API / raw (target >= 0.60)", lambda f: f"{f['api_over_raw']:.2f} {'met' if f['target_met'] else 'NOT met'}")
    row("raw PutItem p50 / p95 ms", lambda f: f"{f['raw_p50_ms']:.1f} / {f['raw_p95_ms']:.1f}")
    row("API vote p50 / p95 ms", lambda f: f"{f['api_p50_ms']:.1f} / {f['api_p95_ms']:.1f}")
    for kind, label in (("raw", "raw"), ("api", "API")):
        names = sorted({n for c in cols for n in by[c]["cpu_ms_per_op"][kind]},
                       key=lambda n: (n != "moto", n == "bench", n))
        shown = [n for n in names if any(by[c]["cpu_ms_per_op"][kind].get(n, 0) >= 0.05 for c in cols)]
        row(f"{label} CPU ms/op: {' + '.join(shown)}",
            lambda f, kind=kind, shown=shown: " + ".join(f"{f['cpu_ms_per_op'][kind].get(n, 0):.1f}" for n in shown))
    label_width = max(len(label) for label, _ in rows) + 2
    cell_width = max(len(cell) for _, cells in rows for cell in cells) + 4
    print(f"\nVote path: median of {summary['rounds']} interleaved rounds, {summary['ops_per_phase']} ops per phase")
    for label, cells in rows:
        print(f"{label:{label_width}}" + "".join(f"{cell:>{cell_width}}" for cell in cells))
    print("per round (raw/s, api/s, ratio):")
    for c in cols:
        pr = by[c]["per_round"]
        triples = zip(pr["raw_putitem_per_s"], pr["api_votes_per_s"], pr["api_over_raw"], strict=True)
        cells = ", ".join(f"{r:.0f}/{a:.0f}/{x:.2f}" for r, a, x in triples)
        print(f"  {c:>2} thread(s): {cells}")
    print(f"errors: {summary['errors']}")


# --- main -----------------------------------------------------------------------------------------------------

def measure(stack: LocalStack, meter: CpuMeter, votes: int, rounds: int) -> List[dict]:
    tag = secrets.token_hex(3)  # bench ids stay unique in a stack that is reused
    needed = rounds * sum(votes + c for c in CONCURRENCY)
    raw_polls = {(r, c): f"bench-{tag}-raw-{r}-{c}" for r in range(rounds) for c in CONCURRENCY}
    planned = plan_votes(stack, needed, tag, list(raw_polls.values()))
    ballots_table = stack.settings().ballots_table
    dynamodb = stack.aws_client("dynamodb", max_pool_connections=max(CONCURRENCY) + 4,
                                retries={"total_max_attempts": 1})  # a retried PutItem would hide an error
    results = []
    for r in range(rounds):
        measured = {}
        for c in CONCURRENCY:
            # Alternate who goes first, so a trend within a round favours neither side.
            for kind in (("api", "raw") if r % 2 else ("raw", "api")):
                if kind == "raw":
                    phase = raw_put_phase(dynamodb, ballots_table, raw_polls[(r, c)], votes, c, meter)
                else:
                    phase = api_vote_phase(stack.api_url, planned, votes, c, meter)
                measured[(kind, c)] = phase
                print(f"round {r + 1}/{rounds}  {kind:3} x{c:<2}  {phase.rate:7.1f}/s  "
                      f"p50 {phase.percentile_ms(0.5):6.1f} ms  p95 {phase.percentile_ms(0.95):6.1f} ms  "
                      f"errors {len(phase.errors)}", flush=True)
                for problem in phase.errors[:3]:
                    print(f"    {problem}", flush=True)
        results.append(measured)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=500, help="operations per timed phase (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--stack", help="stack.json of a running stack, instead of starting one")
    args = parser.parse_args()
    if args.votes < 1 or args.rounds < 1:
        parser.error("--votes and --rounds must be at least 1")

    # Turn SIGTERM into an exception so the stack this run started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with bench_stack(args.stack) as (stack, meter):
        rounds = measure(stack, meter, args.votes, args.rounds)
    summary = summarise(rounds, args.votes)
    print_table(summary)
    print(json.dumps(summary))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
