"""What the local stack keeps in its state directory between runs, and `make reset`, which drops it.

Kept (the platform's data):
- moto-state.pickle: moto's DynamoDB (polls, ballots, tallies, the stream runner's position), Streams, Cognito
  (the pool, the operator, voters) and Secrets Manager (the voter-key secret): devstack/moto_state.py;
- results.sqlite3: the results index;
- dead-letters.jsonl: records the stream runner gave up on.
Kept across a reset too (credentials a newcomer should not lose): operator.json, voters.json, voter-key.

After a hard crash moto comes back as its last periodic snapshot (at most SNAPSHOT_SECONDS old) while the index
file holds everything written until the crash: `mend_index` makes the index agree with the restored ledger again
(ballots the ledger lost are dropped, ballots it has are filled in). The tallies need nothing: they are in the
same snapshot as the ledger and the stream, and records not yet counted are redelivered from the runner's
position, which is in that snapshot too.

    python -m devstack.state reset [--state-dir DIR]   # `make reset`
"""
import argparse
import fcntl
import os
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional

from infra import project_root

DEFAULT_STATE_DIR = project_root() / ".devstack"
MOTO_STATE = "moto-state.pickle"
INDEX_FILES = ("results.sqlite3", "results.sqlite3-wal", "results.sqlite3-shm")
DATA_FILES = (MOTO_STATE, *INDEX_FILES, "dead-letters.jsonl", "stream-status.json")
LOCK_FILE = "devstack.lock"


class StateInUse(Exception):
    pass


def hold(state_dir: Path):
    """Lock the state directory for this process's life (released when it exits, however it exits). Raises
    StateInUse when a running stack holds it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = open(state_dir / LOCK_FILE, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StateInUse(f"a stack is running from {state_dir}: stop it first (Ctrl-C, or SIGTERM to "
                         "`python -m devstack`)") from None
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def reset(state_dir: Path) -> List[str]:
    """Delete the platform's data, so that the next start is empty. Refuses while a stack runs from it."""
    lock = hold(state_dir)
    try:
        removed = []
        for name in DATA_FILES:
            path = state_dir / name
            if path.exists():
                path.unlink()
                removed.append(name)
        for tmp in state_dir.glob(f"{MOTO_STATE}.*.tmp"):
            tmp.unlink()
        return removed
    finally:
        lock.close()


def mend_index(env: dict) -> Optional[str]:
    """Make the results index hold exactly the ledger's ballots, poll by poll. Returns what it changed, or None.
    Run while the stream runner is stopped."""
    import boto3

    from chalicelib import config
    from chalicelib.adapters.dynamo_ballots import DynamoBallotLedger
    from chalicelib.adapters.dynamo_polls import DynamoPollStore
    from chalicelib.adapters.sqlite_index import SqliteIndex
    from chalicelib.domain.times import utc_now
    from chalicelib.runtime import Runtime
    from chalicelib.services.reconcile import EVERYTHING

    settings = config.load(env)
    dynamodb = boto3.session.Session().client(
        "dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=settings.region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    index = Runtime(settings).index
    ledger = DynamoBallotLedger(dynamodb, settings.ballots_table)
    polls = DynamoPollStore(dynamodb, settings.polls_table).all()
    changes = []
    for poll in polls:
        ballots = ledger.ballots(poll.poll_id, poll.buckets)
        added = index.fill(ballots, utc_now())
        indexed = {c: n for c, n in index.counts(poll.poll_id, EVERYTHING).votes.items() if n}
        if indexed != dict(Counter(b.candidate for b in ballots)):
            index.replace_poll(poll.poll_id, ballots, utc_now())
            changes.append(f"{poll.poll_id}: rebuilt from the ledger")
        elif added:
            changes.append(f"{poll.poll_id}: {added} ballots added")
    if isinstance(index, SqliteIndex):
        known = {p.poll_id for p in polls}
        import sqlite3
        with sqlite3.connect(settings.index_path) as db:
            orphans = [row[0] for row in db.execute("SELECT DISTINCT poll_id FROM ballots")
                       if row[0] not in known]
            for poll_id in orphans:
                db.execute("DELETE FROM ballots WHERE poll_id = ?", (poll_id,))
                changes.append(f"{poll_id}: dropped (the poll is not in the restored polls table)")
    return "; ".join(changes) or None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.state", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["reset"])
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR))
    args = parser.parse_args(argv)
    state_dir = Path(args.state_dir)
    try:
        removed = reset(state_dir)
    except StateInUse as error:
        print(f"make reset: {error}", file=sys.stderr)
        return 1
    print(f"Removed {', '.join(removed) if removed else 'nothing (already empty)'} from {state_dir}: the next "
          "`make run` starts empty. Kept: operator.json, voters.json, voter-key.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
