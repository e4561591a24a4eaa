"""What the local stack keeps in its state directory between runs, the check of it before a start, and
`make reset`, which drops it.

Kept (the platform's data):
- moto-state.pickle and moto-journal-*.log: moto's DynamoDB (polls, ballots, tallies, the stream runner's
  position), Streams, Cognito (the pool, the operator, voters) and Secrets Manager (the voter-key secret): the
  last snapshot and the journal of every answered change since (devstack/moto_state.py, devstack/journal.py);
- results.sqlite3: the results index;
- dead-letters.jsonl: records the stream runner gave up on.
Kept across a reset too (credentials a newcomer should not lose): operator.json, voters.json, voter-key.

`check` reads them before a start and says in one sentence what is damaged and what to do, instead of a
traceback from deep inside a child process.

moto comes back after any crash with every change it answered (the journal); the index may lag behind it (the
stream runner had not indexed the last ballots yet) but is never ahead of it: moto answers no read that shows a
change not yet on disk, so nothing the stream runner indexed can be lost. `mend_index` fills in what the index
lacks after a crash. An index holding ballots the ledger lacks therefore means answered votes were lost (a
salvaged journal, a snapshot put back by hand): it is said, and left for `make reconcile` to show, never mended
away by shrinking the index to the ledger.

    python -m devstack.state reset [--state-dir DIR]     # `make reset`
    python -m devstack.state salvage [--state-dir DIR]   # start from a damaged journal's readable part
"""
import argparse
import fcntl
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import List, Optional

from devstack import journal, moto_state
from infra import project_root

DEFAULT_STATE_DIR = project_root() / ".devstack"
MOTO_STATE = moto_state.FILE_NAME
INDEX_FILES = ("results.sqlite3", "results.sqlite3-wal", "results.sqlite3-shm")
DATA_FILES = (MOTO_STATE, *INDEX_FILES, "dead-letters.jsonl", "stream-status.json")
LOCK_FILE = "devstack.lock"
HOLD_WAIT_SECONDS = 1.0  # `running` takes the lock for an instant: a start that meets it tries again
LOSES_DATA = "`make reset` would lose every poll, ballot, voter and result"


class StateInUse(Exception):
    pass


class StateDamaged(Exception):
    """A kept file cannot be used: the message is one sentence naming it and saying what to do."""


def hold(state_dir: Path):
    """Lock the state directory for this process's life (released when it exits, however it exits). Raises
    StateInUse when a running stack holds it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = open(state_dir / LOCK_FILE, "a")
    deadline = time.monotonic() + HOLD_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise StateInUse(f"a stack is running from {state_dir}: stop it first (Ctrl-C, or SIGTERM to "
                                 "`python -m devstack`)") from None
            time.sleep(0.05)
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def running(state_dir: Path) -> bool:
    """Whether a stack runs from state_dir now: it holds the directory's lock for its whole life, and the kernel
    lets go of it however the stack ends, so a stack.json left behind by a killed stack is told apart from a live
    one (its address may answer for something else by now)."""
    try:
        fd = os.open(Path(state_dir) / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the shared lock if it was taken
    return False


def journal_files(state_dir: Path) -> List[Path]:
    return [path for _, path in journal.segments(state_dir)]


def reset(state_dir: Path) -> List[str]:
    """Delete the platform's data, so that the next start is empty. Refuses while a stack runs from it."""
    lock = hold(state_dir)
    try:
        removed = []
        for path in [*(state_dir / name for name in DATA_FILES), *journal_files(state_dir)]:
            if path.exists():
                path.unlink()
                removed.append(path.name)
        for tmp in state_dir.glob(f"{MOTO_STATE}.*.tmp"):
            tmp.unlink()
        return removed
    finally:
        lock.close()


def has_moto_state(state_dir: Path) -> bool:
    """Whether moto has anything to come back to: a snapshot, or journal records (a crash before the first
    snapshot)."""
    return (state_dir / MOTO_STATE).exists() or any(p.stat().st_size for p in journal_files(state_dir))


def after_crash(state_dir: Path) -> bool:
    """Whether moto's state was left by a crash rather than an orderly stop: no final snapshot, or journal
    records after it. False for a state that does not read (moto says why when it starts)."""
    try:
        head = moto_state.header(state_dir / MOTO_STATE)
        if head is not None and not head["final"]:
            return True
        return journal.check(state_dir, head.get("journal_seq", 0) if head else 0).replayed > 0
    except (moto_state.StateDamaged, journal.JournalDamaged):
        return False


def check(state_dir: Path) -> List[str]:
    """Read what the stack keeps before it starts: raises StateDamaged (one sentence) for what stops a start, and
    returns sentences worth saying for what does not (a journal record a crash cut short, a damaged voters.json)."""
    notes = []
    operator = state_dir / "operator.json"
    if operator.exists():
        try:
            account = json.loads(operator.read_text())
            if not (isinstance(account, dict) and account.get("username") and account.get("password")):
                raise ValueError("not the operator's username and password")
        except (ValueError, UnicodeDecodeError) as error:
            why = "empty" if not operator.stat().st_size else f"not what the stack wrote: {error}"
            raise StateDamaged(f"{operator} is {why}: delete it, and the next start gives the operator a new "
                               f"password (printed then); the data is safe ({LOSES_DATA}, so do not reset for "
                               "this)") from None
    snapshot = state_dir / MOTO_STATE
    try:
        head = moto_state.check(snapshot)
        reading = journal.check(state_dir, head.get("journal_seq", 0) if head else 0,
                                snapshot_missing=None if head else snapshot)
    except moto_state.StateDamaged as error:
        raise StateDamaged(str(error)) from None
    except journal.JournalDamaged as error:
        raise StateDamaged(f"{error}.") from None
    if reading.tail is not None:
        notes.append(f"{reading.tail.path} ends in a record cut short ({reading.tail.why}): a write the last "
                     f"crash interrupted, never answered; moto drops it and replays the {reading.replayed} "
                     "records before it")
    voters = state_dir / "voters.json"
    if voters.exists():
        try:
            json.loads(voters.read_text())
        except (ValueError, UnicodeDecodeError):
            notes.append(f"{voters} is empty or damaged: the CLI cannot sign its voters in; delete it and add "
                         "voters again under new names (their accounts and ballots are safe)")
    return notes


def salvage(state_dir: Path) -> List[str]:
    """Cut a damaged journal back to what reads before the damage, so that moto can start from it: the damaged
    part is kept beside it (`*.damaged`) and is lost to the platform. Refuses while a stack runs. Returns what
    it did."""
    lock = hold(state_dir)
    try:
        done = []
        while True:
            head = moto_state.check(state_dir / MOTO_STATE)
            try:
                journal.check(state_dir, head.get("journal_seq", 0) if head else 0)
                return done
            except journal.JournalDamaged as damage:
                found = journal_files(state_dir)
                later = found[found.index(damage.path) + (0 if damage.offset is None else 1):]
                if damage.offset is not None:
                    data = damage.path.read_bytes()
                    damage.path.with_name(damage.path.name + ".damaged").write_bytes(data[damage.offset:])
                    journal.drop_tail(journal.Tail(damage.path, damage.offset, damage.why))
                    done.append(f"{damage.path.name}: cut at byte {damage.offset}")
                for path in later:
                    path.rename(path.with_name(path.name + ".damaged"))
                    done.append(f"{path.name}: set aside")
                journal.fsync_directory(state_dir)
    finally:
        lock.close()


def mend_index(env: dict) -> Optional[str]:
    """Fill the results index with the ledger's ballots it lacks, poll by poll, and say where it holds more than
    the ledger (answered votes the ledger lost; left as they are, for reconcile to show). Returns what it found,
    or None. Run while the stream runner is stopped."""
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
    found = []
    for poll in polls:
        ballots = ledger.ballots(poll.poll_id, poll.buckets)
        added = index.fill(ballots, utc_now())
        indexed = Counter({c: n for c, n in index.counts(poll.poll_id, EVERYTHING).votes.items() if n})
        extra = sum((indexed - Counter(b.candidate for b in ballots)).values())
        if extra:
            found.append(f"{poll.poll_id}: the index holds {extra} ballots the ledger lacks (answered votes were "
                         f"lost; `make reconcile POLL={poll.poll_id}` shows them)")
        elif added:
            found.append(f"{poll.poll_id}: {added} ballots added")
    if isinstance(index, SqliteIndex):
        known = {p.poll_id for p in polls}
        import sqlite3
        with sqlite3.connect(settings.index_path) as db:
            for (poll_id,) in db.execute("SELECT DISTINCT poll_id FROM ballots"):
                if poll_id not in known:
                    found.append(f"{poll_id}: the index holds ballots of a poll the polls table lacks (it was lost)")
    return "; ".join(found) or None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.state", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["reset", "salvage"])
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR))
    args = parser.parse_args(argv)
    state_dir = Path(args.state_dir)
    try:
        if args.command == "salvage":
            done = salvage(state_dir)
            print(f"Salvaged {state_dir}: {'; '.join(done)}. What was set aside is lost to the platform; after "
                  "`make run`, `make reconcile POLL=<id>` shows any poll whose index holds more than its ledger."
                  if done else f"Nothing to salvage in {state_dir}: the journal reads whole.")
            return 0
        removed = reset(state_dir)
    except StateInUse as error:
        print(f"{'make reset' if args.command == 'reset' else 'salvage'}: {error}", file=sys.stderr)
        return 1
    except moto_state.StateDamaged as error:
        print(f"salvage: {error}", file=sys.stderr)
        return 1
    print(f"Removed {', '.join(removed) if removed else 'nothing (already empty)'} from {state_dir}: the next "
          "`make run` starts empty. Kept: operator.json, voters.json, voter-key.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
