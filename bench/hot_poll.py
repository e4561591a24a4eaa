"""One hot poll: thousands of distinct voters voting into ONE poll through the API, against raw conditional
PutItem into the same ballots table in the same run, and how evenly that poll's ballots spread over its buckets.

A broadcast vote peaks on one poll. Its ballots go to `buckets` partition keys ("<poll_id>#<bucket>", the bucket
derived from the voter), so no single DynamoDB partition takes the whole poll. This bench checks, on the local
stack, that the spread is even (largest bucket <= 1.25 x the mean) and that voting into one poll costs no more
than the write it makes.

Steps: start the stack (devstack/stack.py's LocalStack, free ports); create the hot poll and one raw poll per round
through the API (default expected peak, so both have the same bucket count); create --votes voters (each signed
in once). Then R rounds, the order alternating each round (as in bench/vote_path.py):
  api   `POST /votes/{candidate}` into the hot poll, --clients keep-alive connections, every voter once;
        anything but 201 is an error. The first vote of each client is its untimed warm-up (still a ballot).
  raw   raw_put_phase (devstack/floor.py): boto3 conditional PutItem of the same item shape (ballot_to_item, with
        its bucket) into the same table, on the round's raw poll, as many clients, as many timed operations.
Figures are medians over rounds, the ratio the median of per-round ratios. Afterwards the hot poll's ledger is
counted bucket by bucket (DynamoBallotLedger.bucket_sizes): the total must equal --votes, the spread <= 1.25.

Run:  .venv/bin/python -m bench.hot_poll [--votes 5000] [--clients 16] [--rounds 3]
Exit status 1 on any error, an uneven spread or a ledger count that differs. The last line is a JSON object.
"""
import argparse
import json
import secrets
import signal
import sys
import time
from collections import deque
from typing import List

from bench.harness import (
    CANDIDATES,
    Vote,
    api_vote_phase,
    bench_stack,
    create_polls,
    create_voters,
    median,
    median_by_name,
)
from chalicelib.adapters.dynamo_ballots import DynamoBallotLedger
from chalicelib.domain.ballots import buckets_for
from devstack.floor import RAW_POLL_BUCKETS, Phase, raw_put_phase
from devstack.processes import CpuMeter
from devstack.stack import LocalStack

MAX_OVER_MEAN = 1.25


def poll_buckets(stack: LocalStack, poll_id: str) -> int:
    with stack.client(stack.token(stack.operator["username"])) as operator:
        poll = operator.get(f"/polls/{poll_id}").json()
    return buckets_for(poll["expected_peak_votes_per_s"])


def measure(stack: LocalStack, meter: CpuMeter, votes: int, clients: int, rounds: int) -> dict:
    tag = secrets.token_hex(3)
    hot_poll = f"hot-{tag}"
    raw_polls = [f"hot-{tag}-raw-{r}" for r in range(rounds)]
    started = time.perf_counter()
    create_polls(stack, [hot_poll, *raw_polls])
    buckets = poll_buckets(stack, hot_poll)
    if buckets != RAW_POLL_BUCKETS:
        raise RuntimeError(f"the hot poll has {buckets} buckets, the raw polls {RAW_POLL_BUCKETS}")
    tokens = create_voters(stack, tag, votes)
    print(f"prepared {votes} signed-in voters, 1 hot poll ({buckets} buckets) and {rounds} raw polls "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    body = json.dumps({"poll_id": hot_poll}).encode()
    planned = deque(Vote(f"/votes/{CANDIDATES[v % len(CANDIDATES)]}", body,
                         {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                    for v, token in enumerate(tokens))

    table = stack.settings().ballots_table
    dynamodb = stack.aws_client("dynamodb", max_pool_connections=clients + 4,
                                retries={"total_max_attempts": 1})  # a retried PutItem would hide an error
    # Every voter votes once: round r takes its share of the voters, `clients` of them as the warm-ups.
    shares = [votes // rounds + (1 if r < votes % rounds else 0) for r in range(rounds)]
    measured: List[dict] = []
    for r in range(rounds):
        timed = shares[r] - clients
        phases = {}
        for kind in (("api", "raw") if r % 2 else ("raw", "api")):
            if kind == "raw":
                phase = raw_put_phase(dynamodb, table, raw_polls[r], timed, clients, meter)
            else:
                phase = api_vote_phase(stack.api_url, planned, timed, clients, meter)
            phases[kind] = phase
            print(f"round {r + 1}/{rounds}  {kind:3} x{clients}  {phase.rate:7.1f}/s  "
                  f"p50 {phase.percentile_ms(0.5):6.1f} ms  p95 {phase.percentile_ms(0.95):6.1f} ms  "
                  f"errors {len(phase.errors)}", flush=True)
            for problem in phase.errors[:3]:
                print(f"    {problem}", flush=True)
        measured.append(phases)

    sizes = DynamoBallotLedger(dynamodb, table).bucket_sizes(hot_poll, buckets)
    return summarise(measured, sizes, votes, clients, hot_poll)


def summarise(rounds: List[dict], sizes: List[int], votes: int, clients: int, poll_id: str) -> dict:
    api: List[Phase] = [r["api"] for r in rounds]
    raw: List[Phase] = [r["raw"] for r in rounds]
    ratios = [a.rate / w.rate if w.rate else float("nan") for a, w in zip(api, raw, strict=True)]
    mean = sum(sizes) / len(sizes)
    return {
        "poll_id": poll_id, "votes": votes, "clients": clients, "rounds": len(rounds),
        "api_votes_per_s": round(median([p.rate for p in api]), 1),
        "raw_putitem_per_s": round(median([p.rate for p in raw]), 1),
        "api_over_raw": round(median(ratios), 3),
        "per_round": {"api_votes_per_s": [round(p.rate, 1) for p in api],
                      "raw_putitem_per_s": [round(p.rate, 1) for p in raw],
                      "api_over_raw": [round(x, 3) for x in ratios]},
        "api_p50_ms": round(median([p.percentile_ms(0.5) for p in api]), 1),
        "api_p95_ms": round(median([p.percentile_ms(0.95) for p in api]), 1),
        "raw_p50_ms": round(median([p.percentile_ms(0.5) for p in raw]), 1),
        "raw_p95_ms": round(median([p.percentile_ms(0.95) for p in raw]), 1),
        "cpu_ms_per_op": {"api": median_by_name([p.cpu_ms_per_op for p in api]),
                          "raw": median_by_name([p.cpu_ms_per_op for p in raw])},
        "vote_errors": sum(len(p.errors) for p in api),  # every answer but a 201, warm-ups included
        "raw_errors": sum(len(p.errors) for p in raw),
        "buckets": len(sizes), "bucket_sizes": sizes,
        "bucket_min": min(sizes), "bucket_max": max(sizes), "bucket_mean": round(mean, 1),
        "bucket_max_over_mean": round(max(sizes) / mean, 3) if mean else float("inf"),
        "spread_ok": bool(mean) and max(sizes) <= MAX_OVER_MEAN * mean,
        "ledger_count": sum(sizes), "ledger_ok": sum(sizes) == votes,
    }


def print_table(s: dict) -> None:
    rows = [
        ("API votes/s (201, token verified)", f"{s['api_votes_per_s']:.1f}"),
        ("raw conditional PutItem/s", f"{s['raw_putitem_per_s']:.1f}"),
        ("API / raw", f"{s['api_over_raw']:.2f}  (per round "
                      f"{', '.join(f'{x:.2f}' for x in s['per_round']['api_over_raw'])})"),
        ("API vote p50 / p95", f"{s['api_p50_ms']:.1f} / {s['api_p95_ms']:.1f} ms"),
        ("raw PutItem p50 / p95", f"{s['raw_p50_ms']:.1f} / {s['raw_p95_ms']:.1f} ms"),
        ("answers other than 201", str(s["vote_errors"])),
        ("raw PutItem errors", str(s["raw_errors"])),
        (f"ballots per bucket ({s['buckets']} buckets)",
         f"min {s['bucket_min']}, max {s['bucket_max']}, mean {s['bucket_mean']:.1f}"),
        (f"largest bucket / mean (<= {MAX_OVER_MEAN})",
         f"{s['bucket_max_over_mean']:.3f}  {'met' if s['spread_ok'] else 'NOT met'}"),
        (f"ledger count (== {s['votes']})", f"{s['ledger_count']}  {'yes' if s['ledger_ok'] else 'NO'}"),
    ]
    width = max(len(label) for label, _ in rows) + 2
    print(f"\nHot poll {s['poll_id']}: {s['votes']} voters, one vote each, {s['clients']} clients, "
          f"median of {s['rounds']} interleaved rounds")
    for label, value in rows:
        print(f"{label:{width}}{value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=5000, help="distinct voters, one vote each (default 5000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients on each side (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()
    if args.clients < 1 or args.rounds < 1 or args.votes < args.rounds * (args.clients + 1):
        parser.error("need --clients >= 1, --rounds >= 1 and --votes >= rounds x (clients + 1)")

    # Turn SIGTERM into an exception so the stack this run started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with bench_stack() as (stack, meter):
        summary = measure(stack, meter, args.votes, args.clients, args.rounds)
    print_table(summary)
    print(json.dumps(summary))
    ok = not summary["vote_errors"] and not summary["raw_errors"] and summary["spread_ok"] and summary["ledger_ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
