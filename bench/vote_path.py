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

The stack, the voters and polls, and the API phase are the benches' shared harness (bench/harness.py); the raw
phase is devstack/floor.py's.

Run:  .venv/bin/python -m bench.vote_path [--votes N] [--rounds R] [--stack DIR/stack.json]
Without --stack it starts its own stack (devstack/stack.py's LocalStack: free ports, a temp dir) and stops it
at the end, even on error. With --stack it uses a running one and leaves bench voters, polls and
ballots behind in it. The last line printed is a JSON object with every figure.
"""
import argparse
import json
import secrets
import signal
import sys
from typing import Callable, List

from bench.harness import CONCURRENCY, api_vote_phase, bench_stack, median, median_by_name, plan_votes
from devstack.floor import raw_put_phase
from devstack.processes import CpuMeter
from devstack.stack import LocalStack

TARGET = 0.60


# --- report ---------------------------------------------------------------------------------------------------

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
