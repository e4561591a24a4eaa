"""`make reconcile POLL=<id>`: the ledger, the tallies and the index of one poll, side by side.

Local stack only: it reads <state-dir>/stack.json and talks to that stack's moto, never to AWS. Exits 1 on any
difference, 2 when no local stack is running or the poll is unknown. `--repair` rebuilds the index and the
tallies from the ledger (the ballots table, which is the truth); run it when the stream is drained, or records
still in flight are counted twice.
"""
import argparse
import json
import os
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parent.parent


def ledger_ballots(runtime_, poll_id: str):
    """Every ballot of the poll, from each of its buckets."""
    return runtime_.ledger.ballots(poll_id, runtime_.poll_store.get(poll_id).buckets)


def counts(runtime_, poll_id: str) -> Dict[str, Dict[str, int]]:
    """Per source, votes per candidate."""
    from chalicelib.domain.results import Windows

    ledger = Counter(b.candidate for b in ledger_ballots(runtime_, poll_id))
    everything = Windows(coarse_from=0, fine_from=0, until=0)
    return {
        "ledger": dict(ledger),
        "tallies": {c: n for c, n in runtime_.tallies.counts(poll_id).votes.items() if n},
        "index": runtime_.index.counts(poll_id, everything).votes,
    }


def repair(runtime_, poll_id: str) -> None:
    from chalicelib.domain.times import utc_now

    ballots = ledger_ballots(runtime_, poll_id)
    runtime_.index.replace_poll(poll_id, ballots, utc_now())
    runtime_.tallies.rebase(poll_id, dict(Counter(b.candidate for b in ballots)))


def report(poll_id: str, found: Dict[str, Dict[str, int]]) -> str:
    candidates = sorted(set().union(*found.values()))
    lines = [f"poll {poll_id}", f"{'candidate':<24}{'ledger':>10}{'tallies':>10}{'index':>10}"]
    for c in candidates:
        row = [found[source].get(c, 0) for source in ("ledger", "tallies", "index")]
        mark = "" if len(set(row)) == 1 else "   <- differs"
        lines.append(f"{c:<24}{row[0]:>10}{row[1]:>10}{row[2]:>10}{mark}")
    totals = [sum(found[source].values()) for source in ("ledger", "tallies", "index")]
    lines.append(f"{'total':<24}{totals[0]:>10}{totals[1]:>10}{totals[2]:>10}")
    return "\n".join(lines)


def _stack_running(state_dir: Path) -> bool:
    """stack.json is there and the moto server it names answers (a killed stack can leave the file behind)."""
    try:
        moto_url = json.loads((state_dir / "stack.json").read_text())["moto_url"]
        with urllib.request.urlopen(f"{moto_url}/moto-api/", timeout=2):
            return True
    except (OSError, ValueError, KeyError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--poll", required=True)
    parser.add_argument("--repair", action="store_true")
    parser.add_argument("--state-dir", default=str(ROOT / ".devstack"))
    args = parser.parse_args()

    state_dir = Path(args.state_dir)
    if not _stack_running(state_dir):
        print(f"reconcile: no local stack is running ({state_dir / 'stack.json'} missing or its moto does not "
              "answer); start one with `make run`", file=sys.stderr)
        return 2

    from devstack.environment import stack_environment
    os.environ.update(stack_environment(state_dir))
    from chalicelib import runtime

    rt = runtime.get()
    if rt.poll_store.get(args.poll) is None:
        print(f"reconcile: unknown poll {args.poll!r}: it is not in the polls table", file=sys.stderr)
        return 2
    if args.repair:
        repair(rt, args.poll)
    found = counts(rt, args.poll)
    print(report(args.poll, found))
    same = found["ledger"] == found["tallies"] == found["index"]
    print("reconciled: ledger == tallies == index" if same else "MISMATCH: the three counts differ")
    return 0 if same else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
