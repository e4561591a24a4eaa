"""The moto server's write-ahead journal: each request that may change moto's state, on disk before it is answered.

An answer of 201 is a promise (docs/local.md), and moto keeps its state in memory. So the moto
server (devstack/moto_server.py) appends every state-changing request here while it holds its request lock, in
the order moto runs them, and lets the answer go only once the record is on disk (fsync). A snapshot
(devstack/moto_state.py) names the last record it holds; a start restores the snapshot and replays the records
after it, in order, through moto again; the records a snapshot holds are then dropped.

Group commit: the records are written (to the page cache) inside the request lock; outside it, each request
waits until its own record is on disk, and one fdatasync covers however many were written meanwhile. At one
client a vote waits for one fdatasync (~0.2 ms on an idle disk here); under load many votes share one.

On disk, in the state directory: segments `moto-journal-<first sequence number, 20 digits>.log`, a new one at
each snapshot, so that what a snapshot covers is dropped by deleting files. A record is a length and a CRC-32
(4 bytes each, little-endian), then its payload: a pickle of (seq, at, seed, environ, body), where `at` and
`seed` are the time and the random seed moto ran the request with (replay gives it the same ones) and environ
the request's CGI and HTTP variables.

What a crash leaves: only the last record can be cut short (a write the crash interrupted). It was never
answered (its fsync did not finish), so reading stops there and the start drops it. Records are durable in
order, one fdatasync covering every record written before it, so anything after a bad record was never answered
either. A record missing from the middle (a gap in the sequence numbers, a bad record with whole ones after it, a
damaged segment followed by others) cannot come from a crash: that is damage, and reading refuses it
(JournalDamaged) rather than replay a history with a hole in it.
"""
import os
import pickle
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

PREFIX = "moto-journal-"
SUFFIX = ".log"
HEADER = struct.Struct("<II")  # payload length, CRC-32 of the payload
LARGEST_RECORD = 64 * 1024 * 1024  # a length beyond this is a damaged header, not a request
EXIT_JOURNAL_FAILED = 75  # the journal cannot be written: nothing more may be answered (the supervisor restarts)


class JournalDamaged(Exception):
    """A record is missing or damaged where a crash cannot have cut it: the history cannot be replayed whole.
    `path` and `offset` say where the readable journal ends (offset None: before that file)."""

    def __init__(self, why: str, path: Path, offset: Optional[int] = None):
        super().__init__(why)
        self.why = why
        self.path = path
        self.offset = offset

    def __str__(self) -> str:
        return (f"{self.why}, so moto cannot replay the answered requests recorded after it: put the missing or "
                "damaged file back, or run `python -m devstack.state salvage` to start from what comes before "
                "it (what comes after is lost, and `make reconcile` shows it), or `make reset` to start empty, "
                "which loses every poll, ballot, voter and result")


@dataclass(frozen=True)
class Record:
    seq: int
    at: float  # the wall-clock time moto ran the request at
    seed: int  # moto's random generator was seeded with this for the request
    environ: dict
    body: bytes


@dataclass
class Tail:
    """Where the journal ends in a record a crash cut short, and why it does not read; `empty_after`: empty
    segments made after it (a snapshot's rotation), dropped with it so that no gap is left behind."""
    path: Path
    offset: int
    why: str
    empty_after: List[Path] = field(default_factory=list)


def segment_name(first_seq: int) -> str:
    return f"{PREFIX}{first_seq:020d}{SUFFIX}"


def segments(directory: Path) -> List[Tuple[int, Path]]:
    """(first sequence number, path) of every segment, oldest first."""
    found = []
    for path in Path(directory).glob(f"{PREFIX}*{SUFFIX}"):
        number = path.name[len(PREFIX):-len(SUFFIX)]
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def encode(record: Record) -> bytes:
    payload = pickle.dumps((record.seq, record.at, record.seed, record.environ, record.body),
                           protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _decode(data: bytes, offset: int):
    """(record, end offset) for a whole, valid record at `offset`, or (None, why it is not one)."""
    if len(data) - offset < HEADER.size:
        return None, f"{len(data) - offset} bytes, less than a record's header"
    length, crc = HEADER.unpack_from(data, offset)
    start = offset + HEADER.size
    if length > LARGEST_RECORD:
        return None, f"a header that gives {length} bytes"
    payload = data[start:start + length]
    if len(payload) < length:
        return None, f"{len(payload)} of the record's {length} bytes"
    if zlib.crc32(payload) != crc:
        return None, "a record whose checksum does not match"
    try:
        seq, at, seed, environ, body = pickle.loads(payload)
    except Exception as error:  # a checksum that matches garbage (zeros do): as damaged as a bad checksum
        return None, f"a record that does not unpickle ({type(error).__name__})"
    return Record(seq, at, seed, environ, body), start + length


def _a_record_follows(data: bytes, offset: int) -> bool:
    """Whether a whole record starts anywhere after `offset`: a crash cuts only the last record short, so a bad
    record with a good one after it is damage."""
    for start in range(offset + 1, len(data) - HEADER.size):
        length, _ = HEADER.unpack_from(data, start)
        if 0 < length <= len(data) - start - HEADER.size and _decode(data, start)[0] is not None:
            return True
    return False


def _records_in(path: Path) -> Iterator[Tuple[int, Optional[Record], Optional[str], bool]]:
    """(offset, record, None, False) for each good record of one segment; at the first bad one (offset, None,
    why, whether a whole record follows it), and nothing after it."""
    with open(path, "rb") as source:
        data = source.read()
    offset = 0
    while offset < len(data):
        record, end = _decode(data, offset)
        if record is None:
            yield offset, None, end, _a_record_follows(data, offset)
            return
        yield offset, record, None, False
        offset = end


class Reading:
    """The records after `after` (a snapshot's last), in order. Iterate it once; then `tail` says where a record
    a crash cut short was found (None when the journal ends cleanly), `last_seq` the last record read, and
    `covered` the segments whose every record is at or below `after` (left behind by a crash between a snapshot
    and the deletion that follows it). Raises JournalDamaged on a gap or on damage followed by more records."""

    def __init__(self, directory: Path, after: int, snapshot_missing: Optional[Path] = None):
        self.directory = Path(directory)
        self.after = after
        self.snapshot_missing = snapshot_missing  # the snapshot's path, when there is none to start from
        self.tail: Optional[Tail] = None
        self.last_seq = after
        self.replayed = 0
        self.covered: List[Path] = []

    def __iter__(self) -> Iterator[Record]:
        found = segments(self.directory)
        expected = None  # the next sequence number; the first segment may start at or below after + 1
        for index, (first_seq, path) in enumerate(found):
            later = found[index + 1:]
            if expected is not None and first_seq != expected:
                raise JournalDamaged(self._gap(path, expected, first_seq), path)
            if expected is None and first_seq > self.after + 1:
                if self.snapshot_missing is not None:
                    raise JournalDamaged(f"{self.snapshot_missing} is missing, and the journal holds only what "
                                         f"came after it (from record {first_seq})", path)
                raise JournalDamaged(self._gap(path, self.after + 1, first_seq), path)
            seq = first_seq - 1
            for offset, record, why, followed in _records_in(path):
                if record is None:
                    if followed:
                        raise JournalDamaged(f"{path} is damaged at byte {offset} ({why}), and whole records "
                                             "follow it: not what a crash leaves", path, offset)
                    if any(p.stat().st_size for _, p in later):
                        raise JournalDamaged(
                            f"{path} is damaged at byte {offset} ({why}), and later segments hold records that "
                            "cannot be replayed over it", path, offset)
                    self.tail = Tail(path, offset, why, [p for _, p in later])
                    return
                if record.seq != seq + 1:
                    raise JournalDamaged(f"{path} holds record {record.seq} where {seq + 1} belongs, at byte "
                                         f"{offset}", path, offset)
                seq = record.seq
                if seq > self.after:
                    self.last_seq = seq
                    self.replayed += 1
                    yield record
            if seq <= self.after and later:
                self.covered.append(path)
            expected = seq + 1

    @staticmethod
    def _gap(path: Path, expected: int, found: int) -> str:
        return (f"the journal lacks records {expected} to {found - 1}: {path.name} starts at {found} (a segment "
                "was deleted or moved)")


def check(directory: Path, after: int, snapshot_missing: Optional[Path] = None) -> Reading:
    """Read the journal through without replaying it (the start's check before moto runs). Raises JournalDamaged."""
    reading = Reading(directory, after, snapshot_missing)
    for _ in reading:
        pass
    return reading


def drop_tail(tail: Tail) -> None:
    """Cut a crash's half-written record off the journal, durably, before anything is appended after it."""
    with open(tail.path, "r+b") as out:
        out.truncate(tail.offset)
        out.flush()
        os.fsync(out.fileno())
    for path in tail.empty_after:
        path.unlink(missing_ok=True)
    fsync_directory(tail.path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a file's creation, rename or deletion in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_segment(directory: Path, first_seq: int) -> int:
    fd = os.open(Path(directory) / segment_name(first_seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    fsync_directory(directory)  # the segment must be findable before a record in it is answered
    return fd


def _kept_environ(environ: dict) -> dict:
    """What moto reads of a request besides its body: the CGI and HTTP variables (strings), and the header
    names moto preserves. The sockets, streams and server objects stay behind."""
    kept = {key: value for key, value in environ.items() if isinstance(value, str)}
    preserved = environ.get("moto.preserved_header_names")
    if isinstance(preserved, dict):
        kept["moto.preserved_header_names"] = dict(preserved)
    return kept


def _fail(why: str) -> None:
    import sys

    print(f"moto journal: {why}; moto stops so that nothing it cannot keep is answered (the stack starts it "
          "again from what is on disk)", file=sys.stderr, flush=True)
    os._exit(EXIT_JOURNAL_FAILED)


class Journal:
    """Appends records to the newest segment and makes them durable in groups. `append` and `rotate` are called
    with the moto server's request lock held (so records are in execution order); `wait` without it.

    Group commit without a thread of its own: a waiter whose record is not on disk yet and finds no sync under
    way runs one itself, for everything written so far; the others wait for it and start the next if theirs came
    too late. At one client a vote's own thread syncs, with no hand-over to another thread (which costs a
    scheduler's wake-up, milliseconds on a busy machine)."""

    def __init__(self, directory: Path, next_seq: int, fsync: Callable[[int], None] = os.fdatasync,
                 on_failure: Callable[[str], None] = _fail):
        self.directory = Path(directory)
        self._fsync = fsync
        self._on_failure = on_failure
        self._fd = _open_segment(self.directory, next_seq)
        self._retired: List[int] = []  # earlier segments' descriptors, closed once a sync has covered them
        self.written = next_seq - 1  # the last record handed to the kernel
        self.durable = next_seq - 1  # the last record on disk
        self.syncs = 0
        self._syncing = False
        self._changed = threading.Condition(threading.Lock())

    def append(self, environ: dict, body: bytes) -> Record:
        """Write one request's record and return it (its seq, and the time and seed to run it with)."""
        record = Record(self.written + 1, time.time(), int.from_bytes(os.urandom(8), "little"),
                        _kept_environ(environ), body)
        data = encode(record)
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except OSError as error:
            self._on_failure(f"cannot write to {self.directory}: {error.strerror or error}")
            raise
        with self._changed:
            self.written = record.seq
        return record

    def wait(self, seq: int) -> None:
        """Return once record `seq` (and so every record before it) is on disk."""
        if self.durable >= seq:
            return
        with self._changed:
            while self.durable < seq:
                if self._syncing:
                    self._changed.wait()
                    continue
                self._syncing = True
                target, fds = self.written, [*self._retired, self._fd]
                self._changed.release()
                try:
                    for fd in fds:
                        self._fsync(fd)
                except OSError as error:
                    # After a failed fsync the kernel may have dropped the pages: nothing written since the last
                    # good sync can be promised, so nothing more is answered.
                    self._on_failure(f"cannot sync {self.directory}: {error.strerror or error}")
                    raise
                finally:
                    self._changed.acquire()
                    self._syncing = False
                    self._changed.notify_all()
                for fd in fds[:-1]:
                    self._retired.remove(fd)
                    os.close(fd)
                self.durable = max(self.durable, target)
                self.syncs += 1

    def rotate(self) -> int:
        """Start a new segment for the records to come; returns the last record the earlier segments hold
        (what a snapshot taken now covers)."""
        last = self.written
        fd = _open_segment(self.directory, last + 1)
        with self._changed:
            self._retired.append(self._fd)
            self._fd = fd
        return last

    def drop_through(self, seq: int) -> List[Path]:
        """Delete the segments whose every record is at or below `seq` (a durable snapshot holds them)."""
        found = segments(self.directory)
        dropped = []
        for (_, path), (next_first, _) in zip(found, found[1:], strict=False):
            if next_first - 1 <= seq:
                path.unlink(missing_ok=True)
                dropped.append(path)
        if dropped:
            fsync_directory(self.directory)
        return dropped
