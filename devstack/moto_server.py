"""moto server, with one request handled at a time, every answered change on disk, and no web origin but the
stack's own pages.

moto checks a ConditionExpression and then writes, with nothing in between to stop another thread: two
concurrent conditional PutItems on one key can both succeed (measured: 1 in 2,000 races in-process). DynamoDB
makes each conditional write atomic, and the one-ballot-per-voter rule depends on it, so the local stack
serialises requests. moto holds the GIL for its work anyway, so this costs no throughput.

With moto's differences from AWS that Tally meets patched (devstack/moto_patches.py): SRP names users as Cognito
does, and a transaction checks its conditions before it writes instead of copying whole tables to roll back; and
with what the vote page's account steps need that moto lacks (teach_moto: DeleteUser, the first-password
challenge's attributes).

With `--state-file`, the server keeps its state (devstack/moto_state.py, devstack/journal.py):
- before it serves, it restores the last snapshot and replays the journal's records after it;
- every request that may change state is journaled inside the request lock, in the order moto runs it, and its
  answer waits (outside the lock) until its record is on disk: an answered write survives SIGKILL of moto, of
  the whole stack, and power loss within what fsync promises. A read's answer likewise waits for the records
  written before it, so no answer shows a state that a crash could take back (the stream runner never indexes a
  ballot the ledger could lose);
- it saves a snapshot every SNAPSHOT_SECONDS while requests changed something, and a last one on SIGTERM or
  SIGINT; a snapshot starts a new journal segment, and the segments it covers are deleted once it is on disk.
  A periodic snapshot is written by a forked child, so requests wait only for the fork, not for pickling.
  TALLY_MOTO_JOURNAL=off leaves the journal out (a bench's baseline only: a crash then loses up to a snapshot's
  worth of answered writes).

Browsers: moto's own CORS (flask-cors, every origin) is off. A request whose Origin is not one of the stack's
pages (--allow-origin) or moto's own is refused, preflight or not, so a page on another site open in the
developer's browser can neither read nor change the local data; on a loopback address a Host header that names
another host (DNS rebinding) is refused too.

Run as `python -m devstack.moto_server --host 127.0.0.1 --port 5000 [--state-file FILE]
[--allow-origin http://127.0.0.1:8080 ...]`.
"""
import argparse
import fcntl
import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, List, Optional

from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server

from devstack import journal, moto_patches, moto_state, processes

SNAPSHOT_SECONDS = 1.0
JOURNAL_SETTING = "TALLY_MOTO_JOURNAL"
LOCK_FILE = "moto.lock"  # one moto per state directory, a snapshot child included
LOCK_WAIT_SECONDS = 30.0
EXIT_DAMAGED = 3  # the kept state cannot be read: restarting will not mend it
# Actions that change nothing worth keeping (GetShardIterator makes an iterator, which a snapshot leaves out).
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "TransactGet")
KEPT_ITERATORS = 1000  # moto keeps every shard iterator it ever made; readers only use their newest
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
# What Cognito's own CORS lets a page read of an answer besides its body.
EXPOSED_HEADERS = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"


def changes_state(environ) -> bool:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    action = (environ.get("HTTP_X_AMZ_TARGET") or "").rpartition(".")[2]
    return not action.startswith(READ_ONLY_PREFIXES) if action else True


class Serialised:
    """One request at a time; with a journal, each state-changing request journaled before it runs and every
    answer held until what it may show is on disk. Counts the requests that may change state, for the
    snapshots."""

    def __init__(self, app, journal_: Optional[journal.Journal] = None):
        self.app = app
        self.journal = journal_
        self.lock = threading.Lock()
        self.writes = 0

    def __call__(self, environ, start_response):
        # Read the whole body before taking the lock: a client that stalls mid-request (a stopped process, a slow
        # network) must not hold every other request behind it.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        horizon = 0  # the last record this answer may reflect
        with self.lock:
            kept = self.journal
            if changes_state(environ):
                self.writes += 1
                if kept is not None:
                    # Journaled before it runs: a request that ran is never missing from the journal, and one
                    # whose record could not be written never ran (the journal stops moto).
                    record = kept.append(environ, body)
                    with moto_state.as_of(record):
                        response = list(self.app(environ, start_response))  # drained inside: moto may be lazy
                    horizon = record.seq
                else:
                    response = list(self.app(environ, start_response))
            else:
                response = list(self.app(environ, start_response))
                horizon = kept.written if kept is not None else 0
        if kept is not None:
            kept.wait(horizon)
        return response


def serialised(app):
    return Serialised(app)


class WebOrigins:
    """Only the stack's own pages (and moto's) may call moto from a browser; see the module's docstring."""

    def __init__(self, app, origins: Iterable[str], hosts: Optional[Iterable[str]] = None):
        self.app = app
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.hosts = None if hosts is None else {h.lower() for h in hosts}

    def __call__(self, environ, start_response):
        origin = environ.get("HTTP_ORIGIN")
        if self.hosts is not None and (environ.get("HTTP_HOST") or "").lower() not in self.hosts:
            return _refuse(start_response, f"moto answers requests to {', '.join(sorted(self.hosts))} only")
        if origin is None:  # not a browser's cross-origin request: a tool, a test, the stack itself
            return self.app(environ, _without_cors(start_response))
        if origin.rstrip("/").lower() not in self.origins:
            return _refuse(start_response, "moto answers the local stack's own pages only, not this web origin")
        allowed = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            start_response("204 No Content", allowed + [
                ("Access-Control-Allow-Methods", "GET, POST"),
                ("Access-Control-Allow-Headers", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")),
                ("Access-Control-Max-Age", "600"), ("Content-Length", "0")])
            return [b""]
        return self.app(environ, _without_cors(start_response, allowed + [
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]))


def _without_cors(start_response, extra: Optional[list] = None):
    """start_response with any CORS header of moto's own replaced by `extra`."""
    def start(status, headers, exc_info=None):
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        return start_response(status, kept + (extra or []), exc_info)
    return start


def _refuse(start_response, message: str):
    body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def web_origins(app, host: str, port: int, allowed: List[str]) -> WebOrigins:
    """moto's guard for its address: the pages' origins, moto's own, and on loopback the Host names that reach
    it there."""
    names = LOOPBACK if host in LOOPBACK else (host,)
    own = [f"http://{name}:{port}" for name in names if name != "::1"]
    hosts = [f"{name}:{port}" for name in names if name != "::1"] if host in LOOPBACK else None
    return WebOrigins(app, [*allowed, *own], hosts)


class Snapshots:
    """Saves moto's state to `path`: every `every` seconds while something changed, and a last time on stop.
    With a journal, each snapshot starts a new segment and, once on disk, drops the segments it covers."""

    def __init__(self, app: Serialised, path: Path, every: float = SNAPSHOT_SECONDS):
        self.app = app
        self.path = path
        self.every = every
        self.saved = app.writes
        self.writing = threading.Lock()  # taken inside app.lock only: one writer of the file at a time
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            if self.app.writes != self.saved:
                self.save_in_child()

    def save_in_child(self) -> None:
        with self.app.lock:
            if self.stopped.is_set():
                return
            writes = self.app.writes
            covered = self.app.journal.rotate() if self.app.journal else 0
            _prune_shard_iterators()
            self.writing.acquire()
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # the child: a copy of the state as it is now; it pickles, writes and leaves
                code = 1
                try:
                    # A child that outlived a killed server could replace a newer snapshot with this one after
                    # the next server dropped the journal it needs: it dies with the server (and holds the
                    # server's lock until then, so the next one waits for it).
                    processes.die_with_parent(signal.SIGKILL, parent)
                    moto_state.write(self.path, final=False, journal_seq=covered)
                    code = 0
                finally:
                    os._exit(code)
        try:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                self.saved = writes
                if self.app.journal:
                    self.app.journal.drop_through(covered)
            else:
                print(f"moto state: the snapshot child exited with {status}", file=sys.stderr, flush=True)
        finally:
            self.writing.release()

    def save_last(self) -> None:
        """The last snapshot, on stop: taken with the request lock held, which is never given back."""
        self.stopped.set()
        self.app.lock.acquire()
        with self.writing:
            started = time.monotonic()
            covered = self.app.journal.rotate() if self.app.journal else 0
            size = moto_state.write(self.path, final=True, journal_seq=covered)
            if self.app.journal:
                self.app.journal.drop_through(covered)
        print(f"moto state: saved {size} bytes to {self.path} in {time.monotonic() - started:.2f} s",
              file=sys.stderr, flush=True)


def _prune_shard_iterators() -> None:
    from moto.backends import get_backend

    for regions in get_backend("dynamodbstreams").values():
        for backend in dict.values(regions):
            iterators = backend.shard_iterators
            if len(iterators) > KEPT_ITERATORS:
                for arn in list(iterators)[:-KEPT_ITERATORS]:
                    del iterators[arn]


def hold_state_lock(directory: Path, wait_s: float = LOCK_WAIT_SECONDS):
    """The state directory's moto lock, for this process's life (a snapshot child shares it until it exits)."""
    handle = open(directory / LOCK_FILE, "a")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                print(f"moto state: another moto server keeps its state in {directory} ({LOCK_FILE} is held); "
                      "stop it first", file=sys.stderr, flush=True)
                os._exit(EXIT_DAMAGED)
            time.sleep(0.05)


def restore(app: Serialised, path: Path) -> int:
    """The snapshot, then the journal's records after it, through moto; opens the journal for what comes next.
    Returns how many records were replayed. A damaged snapshot or journal is said in one sentence, and moto
    exits: a restart would not mend it."""
    directory = path.parent
    moto_state.register_reducers()
    moto_state.install_request_clock()
    started = time.monotonic()
    try:
        head = moto_state.restore(path)
        reading = journal.Reading(directory, head.get("journal_seq", 0) if head else 0,
                                  snapshot_missing=None if head else path)
        replayed, failed = moto_state.replay(app.app, reading)
    except moto_state.StateDamaged as error:
        print(f"moto state: {error}", file=sys.stderr, flush=True)
        os._exit(EXIT_DAMAGED)
    except journal.JournalDamaged as error:
        print(f"moto journal: {error}.", file=sys.stderr, flush=True)
        os._exit(EXIT_DAMAGED)
    if reading.tail is not None:
        journal.drop_tail(reading.tail)
        print(f"moto journal: {reading.tail.path} ended in a record cut short at byte {reading.tail.offset} "
              f"({reading.tail.why}): a write the crash interrupted, never answered, so it is dropped",
              file=sys.stderr, flush=True)
    for covered in reading.covered:
        covered.unlink(missing_ok=True)
    if head is not None or replayed:
        restored = (f"restored {path.name} ({'orderly stop' if head['final'] else 'snapshot'} of "
                    f"{time.ctime(head['taken_at'])}) and " if head else "no snapshot yet; ")
        print(f"moto state: {restored}replayed {replayed} journal records"
              + (f" ({failed} failed, as they did live)" if failed else "")
              + f" in {time.monotonic() - started:.2f} s", file=sys.stderr, flush=True)
    if os.environ.get(JOURNAL_SETTING, "on") != "off":
        app.journal = journal.Journal(directory, reading.last_seq + 1)
    elif journal.segments(directory):
        # Unjournaled, later snapshots name no journal record: what was replayed goes into one now, and the
        # journal it came from goes, so that a later journaled start does not replay it a second time.
        moto_state.write(path, final=False, journal_seq=0)
        for _, segment in journal.segments(directory):
            segment.unlink()
        journal.fsync_directory(directory)
    return replayed


class Stop(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state-file", help="keep moto's state in this file and a journal beside it (restored on "
                                             "start)")
    parser.add_argument("--snapshot-seconds", type=float, default=SNAPSHOT_SECONDS,
                        help="how often a snapshot is taken while something changes")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                        help="a web origin whose pages may call moto (the stack's dashboard); repeatable")
    args = parser.parse_args()
    moto_patches.name_srp_users_by_username()
    moto_patches.transactions_without_table_copies()
    moto_patches.teach_moto()
    werkzeug_app.DISABLE_GLOBAL_CORS = True  # WebOrigins decides who may call from a browser
    snapshots: Optional[Snapshots] = None
    app = serialised(DomainDispatcherApplication(create_backend_app))
    if args.state_file:
        path = Path(args.state_file)
        app.state_lock = hold_state_lock(path.parent)  # held until the process exits
        replayed = restore(app, path)
        snapshots = Snapshots(app, path, args.snapshot_seconds)
        if replayed:
            snapshots.saved = -1  # a snapshot soon, so that the next start replays less
        threading.Thread(target=snapshots.run, name="snapshots", daemon=True).start()

    def stop(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = make_server(args.host, args.port, web_origins(app, args.host, args.port, args.allow_origin),
                         threaded=True, request_handler=MotoRequestHandler)
    try:
        server.serve_forever()
    except Stop:
        pass
    finally:
        if snapshots is not None:
            snapshots.save_last()
    os._exit(0)  # request threads may be waiting for the lock the last snapshot keeps


if __name__ == "__main__":
    main()
