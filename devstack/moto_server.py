"""moto server, with one request handled at a time.

moto checks a ConditionExpression and then writes, with nothing in between to stop another thread: two
concurrent conditional PutItems on one key can both succeed (measured: 1 in 2,000 races in-process). DynamoDB
makes each conditional write atomic, and the one-ballot-per-voter rule depends on it, so the local stack
serialises requests. moto holds the GIL for its work anyway, so this costs no throughput.

With moto's differences from AWS that Tally meets patched (devstack/moto_patches.py): SRP names users as Cognito
does, and a transaction checks its conditions before it writes instead of copying whole tables to roll back; and
with what the vote page's account steps need that moto lacks (teach_moto: DeleteUser, the first-password
challenge's attributes).
With `--state-file`, the server keeps its state (devstack/moto_state.py): it restores the file before it
serves, saves a snapshot every SNAPSHOT_SECONDS while requests changed something, and saves a last one on SIGTERM
or SIGINT. A periodic snapshot is written by a forked child, so requests wait only for the fork, not for pickling.

Run as `python -m devstack.moto_server --host 127.0.0.1 --port 5000 [--state-file FILE]`.
"""
import argparse
import io
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server

from devstack import moto_patches

SNAPSHOT_SECONDS = 1.0
# Actions that change nothing worth keeping (GetShardIterator makes an iterator, which a snapshot leaves out).
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "TransactGet")
KEPT_ITERATORS = 1000  # moto keeps every shard iterator it ever made; readers only use their newest


def changes_state(environ) -> bool:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    action = (environ.get("HTTP_X_AMZ_TARGET") or "").rpartition(".")[2]
    return not action.startswith(READ_ONLY_PREFIXES) if action else True


class Serialised:
    """One request at a time; counts the requests that may change state, for the snapshots."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.writes = 0

    def __call__(self, environ, start_response):
        # Read the whole body before taking the lock: a client that stalls mid-request (a stopped process, a slow
        # network) must not hold every other request behind it.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            if changes_state(environ):
                self.writes += 1
            # Drain the response inside the lock: moto may build it lazily.
            return list(self.app(environ, start_response))


def serialised(app):
    return Serialised(app)


class Snapshots:
    """Saves moto's state to `path`: every `every` seconds while something changed, and a last time on stop."""

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
        from devstack import moto_state

        with self.app.lock:
            if self.stopped.is_set():
                return
            writes = self.app.writes
            _prune_shard_iterators()
            self.writing.acquire()
            pid = os.fork()
            if pid == 0:  # the child: a copy of the state as it is now; it pickles, writes and leaves
                code = 1
                try:
                    moto_state.write(self.path, final=False)
                    code = 0
                finally:
                    os._exit(code)
        try:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                self.saved = writes
            else:
                print(f"moto state: the snapshot child exited with {status}", file=sys.stderr, flush=True)
        finally:
            self.writing.release()

    def save_last(self) -> None:
        """The last snapshot, on stop: taken with the request lock held, which is never given back."""
        from devstack import moto_state

        self.stopped.set()
        self.app.lock.acquire()
        with self.writing:
            started = time.monotonic()
            size = moto_state.write(self.path, final=True)
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


class Stop(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state-file", help="keep moto's state in this file (restored on start)")
    args = parser.parse_args()
    moto_patches.name_srp_users_by_username()
    moto_patches.transactions_without_table_copies()
    moto_patches.teach_moto()
    snapshots: Optional[Snapshots] = None
    app = serialised(DomainDispatcherApplication(create_backend_app))
    if args.state_file:
        from devstack import moto_state

        moto_state.register_reducers()
        started = time.monotonic()
        head = moto_state.restore(Path(args.state_file))
        if head is not None:
            print(f"moto state: restored {args.state_file} ({'orderly stop' if head['final'] else 'snapshot'} of "
                  f"{time.ctime(head['taken_at'])}) in {time.monotonic() - started:.2f} s", file=sys.stderr, flush=True)
        snapshots = Snapshots(app, Path(args.state_file))
        threading.Thread(target=snapshots.run, name="snapshots", daemon=True).start()

    def stop(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
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
