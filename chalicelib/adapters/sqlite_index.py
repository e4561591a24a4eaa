"""The embedded results index: a SQLite file, the default when OPENSEARCH_URL is not set.

One writer process (the stream consumer) and any number of readers (the API's threads): WAL mode lets readers
read while the writer writes, and each thread keeps its own connection because sqlite3 connections are not
shared across threads. Ballots are keyed by ballot_key, so indexing a ballot twice counts it once.

A file that cannot answer (locked past the timeout, unreadable) raises IndexUnavailable, and a damaged one (cut
short, corrupt, not a database) IndexDamaged: results then come from the counters, the stream consumer counts on
without the index, and only `recreate` (a repair) mends it. A connection that failed is dropped, so the next use
opens the path again and finds the file a repair put there.
"""
import contextlib
import os
import sqlite3
import threading
from typing import Dict, Iterator, Sequence

from ..domain.ballots import Ballot, ballot_key
from ..domain.results import MINUTE_MS, Counts, Windows, instant_ms
from ..domain.stream import REPAIRED_SEQUENCE, StreamBallot
from ..services.ports import IndexDamaged, IndexUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS ballots (
    poll_id TEXT NOT NULL,
    ballot_id TEXT NOT NULL,
    candidate TEXT NOT NULL,
    cast_at_ms INTEGER NOT NULL,
    written_at TEXT NOT NULL,
    sequence TEXT NOT NULL,
    PRIMARY KEY (poll_id, ballot_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ballots_by_time ON ballots (poll_id, cast_at_ms);
"""
INSERT = ("INSERT INTO ballots (poll_id, ballot_id, candidate, cast_at_ms, written_at, sequence) "
          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")


# What SQLite says of a file that is not (or no longer) a whole database: a retry finds it the same.
DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class SqliteIndex:
    def __init__(self, path: str):
        self._path = path
        self._local = threading.local()
        with contextlib.suppress(IndexUnavailable):  # a damaged file is said by the first read or write
            with self._guarded():
                pass

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[sqlite3.Connection]:
        """The thread's connection, its errors as the port's; one that failed is closed and forgotten."""
        try:
            yield self._connection()
        except sqlite3.DatabaseError as error:
            damaged = getattr(error, "sqlite_errorname", None) in DAMAGED
            if not damaged and not isinstance(error, sqlite3.OperationalError):
                raise  # the index refused these rows (a constraint): not the file's fault
            self._forget_connection()
            name = os.path.basename(self._path)
            if damaged:
                raise IndexDamaged(f"the results index {name} is damaged ({error}): `make reconcile "
                                   f"POLL=<id> REPAIR=1` replaces it and refills it from the ledger") from error
            raise IndexUnavailable(f"the results index {name} cannot answer: {error}") from error

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=10)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                # Each new connection, not once: the file may be new since (deleted, or replaced by a repair).
                db.executescript(SCHEMA)
            except sqlite3.Error:
                db.close()
                raise
            self._local.db = db
        return db

    def _forget_connection(self) -> None:
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def write(self, ballots: Sequence[StreamBallot], written_at: str) -> None:
        if not ballots:
            return
        rows = [(b.ballot.poll_id, ballot_key(b.ballot), b.ballot.candidate, instant_ms(b.ballot.cast_at),
                 written_at, b.sequence) for b in ballots]
        with self._guarded() as db, db:  # one transaction: the batch is indexed whole or not at all
            db.executemany(INSERT, rows)

    def counts(self, poll_id: str, windows: Windows) -> Counts:
        with self._guarded() as db:
            votes = dict(db.execute(
                "SELECT candidate, COUNT(*) FROM ballots WHERE poll_id = ? GROUP BY candidate", (poll_id,)))

            def histogram(width: int, start: int, end: int) -> Dict[int, int]:
                return dict(db.execute(
                    "SELECT cast_at_ms - cast_at_ms % ?, COUNT(*) FROM ballots "
                    "WHERE poll_id = ? AND cast_at_ms >= ? AND cast_at_ms < ? GROUP BY 1",
                    (width, poll_id, start, end)))
            as_of = db.execute("SELECT MAX(written_at) FROM ballots WHERE poll_id = ?", (poll_id,)).fetchone()[0]
            return Counts(votes=votes, per_minute=histogram(MINUTE_MS, windows.coarse_from, windows.fine_from),
                          per_second=histogram(1000, windows.fine_from, windows.until), as_of=as_of, source="index")

    def fill(self, ballots: Sequence[Ballot], written_at: str) -> int:
        with self._guarded() as db, db:
            before = db.total_changes
            db.executemany(INSERT, _repaired_rows(ballots, written_at))
            return db.total_changes - before

    def replace_poll(self, poll_id: str, ballots: Sequence[Ballot], written_at: str) -> None:
        with self._guarded() as db, db:  # one transaction: readers see the old documents or the new, never none
            db.execute("DELETE FROM ballots WHERE poll_id = ?", (poll_id,))
            db.executemany(INSERT, _repaired_rows(ballots, written_at))

    def recreate(self) -> None:
        """Put a new empty index where the damaged file is. Not written into: a damaged file's pages cannot be
        trusted. The new file is made whole beside it and renamed over it, so a process that opens the path
        finds the old file or the new one, never half of either; processes that still hold the old file fail
        on it, drop it and open the new one."""
        self._forget_connection()
        fresh = f"{self._path}.new-{os.getpid()}"
        for stale in (fresh, f"{fresh}-wal", f"{fresh}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(stale)
        db = sqlite3.connect(fresh)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # kept in the file: every opener gets WAL
            db.executescript(SCHEMA)
        finally:
            db.close()  # the last connection: its WAL is checkpointed into the file and removed
        # The damaged file's WAL and shared memory must not be read as the new file's.
        for stale in (f"{self._path}-wal", f"{self._path}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(stale)
        os.replace(fresh, self._path)


def _repaired_rows(ballots: Sequence[Ballot], written_at: str) -> list:
    return [(b.poll_id, ballot_key(b), b.candidate, instant_ms(b.cast_at), written_at, REPAIRED_SEQUENCE)
            for b in ballots]
