"""What moto's journal (devstack/journal.py) costs the vote path: P1, bench/vote_path.py's 1-client ratio of API
votes/s to raw conditional PutItem/s, with the journal, and the same figures without it, measured in one run.

Two stacks run side by side: one as `make run` starts it (every state-changing request fsync'd before moto
answers it) and one with TALLY_MOTO_JOURNAL=off (moto as it was before the journal: a snapshot a second, a
crash loses what came after it). bench/vote_path.py's phases (raw PutItem, API vote) run on both, at 1 and 16
clients, interleaved within each round, the order reversed every other round; each figure is the median over
rounds, each ratio the median of per-round ratios. Ratios:
  P1                    API/raw on the journaled stack: both sides pay the journal (vote_path's own figure);
  API / raw unjournaled the journaled vote against the floor without the journal: the strictest baseline;
  API, raw with/without the journal's cost on each side.
Target: P1 >= 0.75 (issue 18).

Run:  .venv/bin/python -m bench.journal_cost [--votes N] [--rounds R]
The last line printed is a JSON object with every figure.
"""
import argparse
import json
import secrets
import signal
import sys
from pathlib import Path
from typing import Dict, List

from bench.harness import CONCURRENCY, api_vote_phase, median, median_by_name, plan_votes
from devstack import journal
from devstack.floor import raw_put_phase
from devstack.processes import CpuMeter
from devstack.stack import LocalStack

TARGET_P1 = 0.75
SIDES = ("journal", "plain")


class Side:
    """One stack, with what its phases need."""

    def __init__(self, name: str, stack: LocalStack, votes: int, rounds: int):
        self.name = name
        self.stack = stack
        self.meter = CpuMeter.of_children(stack.children())
        tag = secrets.token_hex(3)
        self.raw_polls = {(r, c): f"bench-{tag}-raw-{r}-{c}" for r in range(rounds) for c in CONCURRENCY}
        self.planned = plan_votes(stack, rounds * sum(votes + c for c in CONCURRENCY), tag,
                                  list(self.raw_polls.values()))
        self.table = stack.settings().ballots_table
        self.dynamodb = stack.aws_client("dynamodb", max_pool_connections=max(CONCURRENCY) + 4,
                                         retries={"total_max_attempts": 1})

    def phase(self, kind: str, r: int, c: int, votes: int):
        if kind == "raw":
            return raw_put_phase(self.dynamodb, self.table, self.raw_polls[(r, c)], votes, c, self.meter)
        return api_vote_phase(self.stack.api_url, self.planned, votes, c, self.meter)


def measure(sides: Dict[str, Side], votes: int, rounds: int) -> List[dict]:
    order = [(kind, side) for side in SIDES for kind in ("raw", "api")]
    results = []
    for r in range(rounds):
        measured = {}
        for c in CONCURRENCY:
            for kind, side in (reversed(order) if r % 2 else order):
                phase = sides[side].phase(kind, r, c, votes)
                measured[(kind, side, c)] = phase
                print(f"round {r + 1}/{rounds}  {side:7} {kind:3} x{c:<2}  {phase.rate:7.1f}/s  "
                      f"p50 {phase.percentile_ms(0.5):6.1f} ms  errors {len(phase.errors)}", flush=True)
                for problem in phase.errors[:3]:
                    print(f"    {problem}", flush=True)
        results.append(measured)
    return results


def summarise(rounds: List[dict], votes: int) -> dict:
    def rates(kind, side, c):
        return [r[(kind, side, c)].rate for r in rounds]

    def ratio(top, bottom):
        return round(median([a / b if b else float("nan") for a, b in zip(top, bottom, strict=True)]), 3)

    summary = {"rounds": len(rounds), "ops_per_phase": votes, "target_p1": TARGET_P1, "by_concurrency": {}}
    for c in CONCURRENCY:
        api_j, raw_j, api_p, raw_p = (rates(k, s, c) for k, s in
                                      (("api", "journal"), ("raw", "journal"), ("api", "plain"), ("raw", "plain")))
        summary["by_concurrency"][str(c)] = {
            "api_votes_per_s": {"journal": round(median(api_j), 1), "plain": round(median(api_p), 1)},
            "raw_putitem_per_s": {"journal": round(median(raw_j), 1), "plain": round(median(raw_p), 1)},
            "p1_api_over_raw_journaled": ratio(api_j, raw_j),
            "api_journaled_over_raw_plain": ratio(api_j, raw_p),
            "api_over_raw_plain": ratio(api_p, raw_p),
            "api_journal_over_plain": ratio(api_j, api_p),
            "raw_journal_over_plain": ratio(raw_j, raw_p),
            "api_p50_ms": {s: round(median([r[("api", s, c)].percentile_ms(0.5) for r in rounds]), 2) for s in SIDES},
            "raw_p50_ms": {s: round(median([r[("raw", s, c)].percentile_ms(0.5) for r in rounds]), 2) for s in SIDES},
            "cpu_ms_per_op": {f"{k}_{s}": median_by_name([r[(k, s, c)].cpu_ms_per_op for r in rounds])
                              for k in ("raw", "api") for s in SIDES},
            "per_round_p1": [round(a / b, 3) for a, b in zip(api_j, raw_j, strict=True)],
        }
    summary["p1_target_met"] = summary["by_concurrency"]["1"]["p1_api_over_raw_journaled"] >= TARGET_P1
    summary["errors"] = sum(len(p.errors) for r in rounds for p in r.values())
    return summary


def print_table(summary: dict) -> None:
    print(f"\nThe journal on the vote path: median of {summary['rounds']} interleaved rounds, "
          f"{summary['ops_per_phase']} ops per phase")
    for c, f in summary["by_concurrency"].items():
        print(f"  {c:>2} client(s): API {f['api_votes_per_s']['journal']}/s with the journal, "
              f"{f['api_votes_per_s']['plain']}/s without; raw PutItem {f['raw_putitem_per_s']['journal']}/s with, "
              f"{f['raw_putitem_per_s']['plain']}/s without")
        print(f"      P1 (API/raw, journaled) {f['p1_api_over_raw_journaled']:.2f}; API journaled / raw unjournaled "
              f"{f['api_journaled_over_raw_plain']:.2f}; API/raw unjournaled {f['api_over_raw_plain']:.2f}; "
              f"API with/without {f['api_journal_over_plain']:.2f}; raw with/without "
              f"{f['raw_journal_over_plain']:.2f}")
    print(f"P1 >= {summary['target_p1']}: {'met' if summary['p1_target_met'] else 'NOT met'}; "
          f"errors: {summary['errors']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=500, help="operations per timed phase (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()
    if args.votes < 1 or args.rounds < 1:
        parser.error("--votes and --rounds must be at least 1")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with LocalStack.start() as journaled, LocalStack.start(environment={"TALLY_MOTO_JOURNAL": "off"}) as plain:
        sides = {"journal": Side("journal", journaled, args.votes, args.rounds),
                 "plain": Side("plain", plain, args.votes, args.rounds)}
        rounds = measure(sides, args.votes, args.rounds)
        # Each side is what it says: the plain stack wrote no journal record, the journaled one did.
        kept = {name: sum(p.stat().st_size for _, p in journal.segments(Path(side.stack.state_dir)))
                for name, side in sides.items()}
    summary = summarise(rounds, args.votes)
    summary["journal_bytes_at_end"] = kept
    print_table(summary)
    print(json.dumps(summary))
    if kept["plain"]:
        print("the unjournaled stack wrote a journal: the baseline is not what it says", file=sys.stderr)
        return 1
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
