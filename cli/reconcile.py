"""`make reconcile POLL=<id> [STACK=<name>] [REPAIR=1]`: one poll's ledger, tallies and index, side by side.

    python -m cli.reconcile --poll demo                       # the local stack (`make run`)
    python -m cli.reconcile --poll final --stack tally-prod   # a deployed stage, with AWS credentials
    python -m cli.reconcile --poll final --stack tally-prod --repair

Exit status: 0 when the three agree (after the repair, with --repair), 1 when they differ, 2 when there is
nothing to check (no local stack, an unknown poll or stack).

--repair fills the index from the ledger (always safe, also while votes arrive) and, on a drained stream only,
rebases the tallies and drops index documents the ledger lacks (chalicelib/services/reconcile.py says why).
Against a stage the drained check also asks CloudWatch for the tally function's iterator age.
"""
import argparse
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Optional

from chalicelib import config
from chalicelib.domain.errors import NotFound
from chalicelib.runtime import Runtime
from infra.stage import NotAStage, deployed_stage

# Records older than this on the stream mean the consumer is behind: a rebase would race them.
MAX_ITERATOR_AGE_MS = 60_000


class NothingToCheck(Exception):
    """Exit status 2, with one line that says why."""


def local_settings(state_dir: Path) -> config.Settings:
    from devstack.stack import LocalStack  # the local stack only; never on a stage

    why = LocalStack.not_running(state_dir)
    if why:
        raise NothingToCheck(f"no local stack is running from {state_dir} ({why}); start one with `make run`")
    return LocalStack(state_dir).runtime_settings()


def iterator_age_check(cloudwatch, function_name: str,
                       now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Callable[[], Optional[str]]:
    """Why records may still be on the stream (the tally function's IteratorAge, last 10 minutes), or None."""
    def waiting() -> Optional[str]:
        end = now()
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="IteratorAge", Dimensions=[{"Name": "FunctionName",
                                                                           "Value": function_name}],
            StartTime=end - timedelta(minutes=10), EndTime=end, Period=60, Statistics=["Maximum"])["Datapoints"]
        worst = max((p["Maximum"] for p in points), default=0.0)
        if worst > MAX_ITERATOR_AGE_MS:
            return f"the tally function's iterator age reached {worst / 1000:.0f} s in the last 10 minutes"
        return None
    return waiting


def run(settings: config.Settings, poll_id: str, repair: bool,
        stream_waiting: Callable[[], Optional[str]] = lambda: None) -> int:
    reconciler = Runtime(settings).reconciler
    try:
        if repair:
            report = reconciler.repair(poll_id, stream_waiting)
            if report.index_recreated:
                print("repair: the index was damaged: replaced by a new one, every poll refilled from the ledger")
            if report.index_unavailable:
                print(f"repair: nothing done: {report.index_unavailable}")
            print(f"repair: {report.indexed} ballots added to the index"
                  + (", index rebuilt" if report.index_rebuilt else "")
                  + (", tallies rebased" if report.tallies_rebased else ""))
            if report.held_back:
                print(f"repair: held back what needs a drained stream: {report.held_back}")
        found = reconciler.compare(poll_id)
    except NotFound as error:
        raise NothingToCheck(str(error)) from None
    print(found.table())
    print("reconciled: ledger == tallies == index" if found.agrees else "MISMATCH: the counts differ")
    return 0 if found.agrees else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.reconcile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poll", required=True)
    parser.add_argument("--repair", action="store_true")
    parser.add_argument("--stack", help="a deployed stage's CloudFormation stack (AWS credentials from the "
                                        "environment); without it, the local stack")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--state-dir", default=os.environ.get("TALLY_STATE_DIR"),
                        help="the local stack's state directory (default: TALLY_STATE_DIR, else .devstack/)")
    args = parser.parse_args(argv)
    try:
        if not args.stack:
            from devstack.stack import default_state_dir  # the local stack only; never on a stage

            return run(local_settings(Path(args.state_dir or default_state_dir())), args.poll, args.repair)
        import boto3

        session = boto3.session.Session(region_name=args.region)
        stage = deployed_stage(session.client("cloudformation"), args.stack, session.region_name)
        waiting = iterator_age_check(session.client("cloudwatch"), stage.tally_function) if stage.tally_function \
            else (lambda: f"stack {args.stack!r} names no tally function whose iterator age could be read")
        return run(stage.settings, args.poll, args.repair, waiting)
    except (NothingToCheck, NotAStage) as error:
        print(f"reconcile: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
