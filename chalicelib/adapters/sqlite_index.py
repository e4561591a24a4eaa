"""The embedded results index: a SQLite file, the default when OPENSEARCH_URL is not set.

One writer process (the stream consumer) and any number of readers (the API's threads): WAL mode lets readers
read while the writer writes, and each thread keeps its own connection because sqlite3 connections are not
shared across threads. Ballots are keyed by ballot_key, so indexing a ballot twice counts it once.
"""
import sqlite3
import threading
from typing import Sequence

from ..domain.ballots import Ballot, ballot_key
from ..domain.results import MINUTE_MS, Counts, Windows, instant_ms
from ..domain.stream import REPAIRED_SEQUENCE, StreamBallot

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


class SqliteIndex:
    def __init__(self, path: str):
        self._path = path
        self._local = threading.local()
        with self._connection() as db:
            db.executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=10)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def write(self, ballots: Sequence[StreamBallot], written_at: str) -> None:
        if not ballots:
            return
        rows = [(b.ballot.poll_id, ballot_key(b.ballot), b.ballot.candidate, instant_ms(b.ballot.cast_at),
                 written_at, b.sequence) for b in ballots]
        with self._connection() as db:  # one transaction: the batch is indexed whole or not at all
            db.executemany(INSERT, rows)

    def counts(self, poll_id: str, windows: Windows) -> Counts:
        db = self._connection()
        votes = dict(db.execute("SELECT candidate, COUNT(*) FROM ballots WHERE poll_id = ? GROUP BY candidate",
                                (poll_id,)))

        def histogram(width, start, end):
            return dict(db.execute(
                "SELECT cast_at_ms - cast_at_ms % ?, COUNT(*) FROM ballots "
                "WHERE poll_id = ? AND cast_at_ms >= ? AND cast_at_ms < ? GROUP BY 1",
                (width, poll_id, start, end)))
        as_of = db.execute("SELECT MAX(written_at) FROM ballots WHERE poll_id = ?", (poll_id,)).fetchone()[0]
        return Counts(votes=votes, per_minute=histogram(MINUTE_MS, windows.coarse_from, windows.fine_from),
                      per_second=histogram(1000, windows.fine_from, windows.until), as_of=as_of, source="index")

    def fill(self, ballots: Sequence[Ballot], written_at: str) -> int:
        with self._connection() as db:
            before = db.total_changes
            db.executemany(INSERT, _repaired_rows(ballots, written_at))
            return db.total_changes - before

    def replace_poll(self, poll_id: str, ballots: Sequence[Ballot], written_at: str) -> None:
        with self._connection() as db:  # one transaction: readers see the old documents or the new, never none
            db.execute("DELETE FROM ballots WHERE poll_id = ?", (poll_id,))
            db.executemany(INSERT, _repaired_rows(ballots, written_at))


def _repaired_rows(ballots: Sequence[Ballot], written_at: str) -> list:
    return [(b.poll_id, ballot_key(b), b.candidate, instant_ms(b.cast_at), written_at, REPAIRED_SEQUENCE)
            for b in ballots]
