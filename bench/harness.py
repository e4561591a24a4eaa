"""What the benches share: the stack they measure (their own on free ports, or a running one) and its CPU meter,
signed-in voters and polls made before any timing, ready-to-send votes, the API's vote phase, and medians.

The timed phases themselves (run_phase) and the floor every vote rate is read against (raw_put_phase: moto's
conditional PutItem alone) are devstack/floor.py's, which the load test uses too.
"""
import contextlib
import http.client
import json
import math
import statistics
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from devstack.floor import Phase, run_phase
from devstack.processes import CpuMeter
from devstack.stack import LocalStack

CONCURRENCY = (1, 16)
CANDIDATES = ("red", "green", "blue")


# --- the stack ------------------------------------------------------------------------------------------------

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
            yield stack, CpuMeter.of_children(stack.children())


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


# --- the API's vote phase -------------------------------------------------------------------------------------

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


# --- medians --------------------------------------------------------------------------------------------------

def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_by_name(samples: List[Dict[str, float]]) -> Dict[str, float]:
    names = sorted({name for sample in samples for name in sample})
    return {name: round(median([s[name] for s in samples if name in s]), 2) for name in names}
