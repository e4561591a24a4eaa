"""moto's state on disk: a snapshot of the backends the stack uses, and the journal replayed over it at start.

moto keeps everything in memory. The moto server (devstack/moto_server.py) journals every state-changing request
before it answers it (devstack/journal.py), and saves a snapshot of its DynamoDB, DynamoDB Streams, Cognito IdP
and Secrets Manager backends every SNAPSHOT_SECONDS while something changed, and once more when it is stopped.
The next start restores the snapshot and replays the journal's records after it, so polls, ballots, the stream,
tallies, voters, the operator and the voter-key secret survive a stop, and every answered request survives a
crash. Each snapshot is one consistent cut: it is taken while the server's request lock is held, so no request
is half applied in it, and its header names the last journal record it holds (`journal_seq`).

The file holds two pickles: a small header first (`final`: written on an orderly stop, `taken_at`,
`journal_seq`, and the second pickle's `size` and `crc32`), then the backends. A reader that needs the header
only (the start deciding whether the index needs mending) stops after the first. A file cut short or damaged is
StateDamaged, said in one sentence, never a traceback.

Replay must give what the live request gave. moto draws its ids (a Cognito user's sub, which a ballot key is an
HMAC of; tokens; stream event ids) from one random generator, moto.moto_api._internal.mock_random, and reads
the clock for creation dates, token times and the stream's ApproximateCreationDateTime (and a table's stream
label, which is in the stream's ARN, the stream runner's key for its position). So each journaled request runs,
live and in replay, with the generator seeded from its record and moto's clock stopped at the record's time
(`as_of`). A stream record's sequence number is the stream's length plus a constant: replaying the same writes in
the same order gives the same numbers, which the stream runner and the tallies' checkpoints rely on.

Cognito's signing key is a cryptography RSAPrivateKey, which does not pickle: copyreg gives it a reducer (PEM
bytes). The stream's shard iterators are not kept: an iterator names a position for one reader, and the stream
runner takes new ones after a restart.
"""
import contextlib
import copyreg
import datetime
import io
import os
import pickle
import sys
import time
import zlib
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Tuple

from devstack.journal import fsync_directory

SERVICES = ("dynamodb", "dynamodbstreams", "cognito-idp", "secretsmanager")
FILE_NAME = "moto-state.pickle"
FORMAT = 1
LOST_EVERYTHING = "which loses every poll, ballot, voter and result kept there"


class StateDamaged(Exception):
    """The snapshot cannot be read: its message is the one sentence to show."""


def damaged(path: Path, why: str) -> StateDamaged:
    return StateDamaged(f"{path} is damaged ({why}), so moto cannot restore the platform's data from it: put a good "
                        f"copy back, or run `make reset` to start empty, {LOST_EVERYTHING}.")


def _load_private_key(pem: bytes):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(pem)


def _reduce_private_key(key):
    from cryptography.hazmat.primitives import serialization

    return _load_private_key, (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()),)


def _reduce_public_key(key):
    from cryptography.hazmat.primitives import serialization

    return _load_public_key, (key.public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo),)


def register_reducers() -> None:
    """Let pickle carry cryptography's RSA keys (Cognito's signing key) as PEM bytes."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # only to learn the concrete classes
    copyreg.pickle(type(key), _reduce_private_key)
    copyreg.pickle(type(key.public_key()), _reduce_public_key)


def live_backends() -> Dict[Tuple[str, str, str], object]:
    """(service, account, region) -> the region's backend, for every backend moto has made so far."""
    from moto.backends import get_backend

    found = {}
    for service in SERVICES:
        for account, regions in get_backend(service).items():
            for region, backend in dict.items(regions):
                found[(service, account, region)] = backend
    return found


def write(path: Path, final: bool, journal_seq: int = 0) -> int:
    """Pickle the live backends to `path`, atomically and durably (a temp file, fsync, rename, fsync of the
    directory: the journal records it holds are deleted next). Returns the bytes written. The caller holds the
    lock that keeps requests out."""
    backends = live_backends()
    for (service, _, _), backend in backends.items():
        if service == "dynamodbstreams":
            backend.shard_iterators = {}  # in a forked child, or just before exit: never the serving process's
    body = pickle.dumps(backends, protocol=pickle.HIGHEST_PROTOCOL)
    head = {"format": FORMAT, "final": final, "taken_at": time.time(), "journal_seq": journal_seq,
            "size": len(body), "crc32": zlib.crc32(body)}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    # It holds the voter-key secret and users' passwords: for the owner only, from the first byte.
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        pickle.dump(head, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(body)
        size = out.tell()
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_directory(path.parent)
    return size


def _read(path: Path, with_body: bool):
    """(header, body bytes or None), or (None, None) when there is no snapshot. Raises StateDamaged."""
    try:
        source = open(path, "rb")
    except FileNotFoundError:
        return None, None
    with source:
        try:
            head = pickle.load(source)
        except Exception as error:
            raise damaged(path, f"its header does not read: {type(error).__name__}") from None
        if not isinstance(head, dict) or "format" not in head:
            raise damaged(path, "it does not start with a snapshot header")
        if head["format"] != FORMAT:
            raise StateDamaged(f"{path} is in format {head['format']}, not {FORMAT}: this version of the stack "
                               f"cannot read it; `make reset` starts empty, {LOST_EVERYTHING}.")
        start = source.tell()
        if "size" in head:  # snapshots written before the header carried the body's size are read as they are
            total = os.fstat(source.fileno()).st_size
            if total - start != head["size"]:
                raise damaged(path, f"{total - start} of its {head['size']} bytes of data are there")
        if not with_body:
            return head, None
        body = source.read()
        if "crc32" in head and zlib.crc32(body) != head["crc32"]:
            raise damaged(path, "its data does not match its checksum")
        return head, body


def header(path: Path) -> Optional[dict]:
    """The snapshot's header, or None when there is no snapshot. Raises StateDamaged."""
    return _read(path, with_body=False)[0]


def check(path: Path) -> Optional[dict]:
    """The header of a snapshot whose data is whole (size and checksum), or None when there is none. Raises
    StateDamaged."""
    return _read(path, with_body=True)[0]


def restore(path: Path) -> Optional[dict]:
    """Put the snapshot's backends in place of moto's. Returns its header, or None when there is none. Raises
    StateDamaged."""
    from moto.backends import get_backend

    head, body = _read(path, with_body=True)
    if head is None:
        return None
    try:
        backends = pickle.load(io.BytesIO(body))
    except Exception as error:
        raise damaged(path, f"its data does not unpickle: {type(error).__name__}") from None
    for (service, account, region), backend in backends.items():
        if service == "dynamodbstreams":
            backend.shard_iterators = {}
        dict.__setitem__(get_backend(service)[account], region, backend)
    return head


# --- replay gives what the live request gave -------------------------------------------------------------------

class _Clock:
    """moto's clock: the real one, except while a journaled request runs (`as_of`)."""
    stopped_at: Optional[float] = None

    def time(self) -> float:
        return time.time() if self.stopped_at is None else self.stopped_at


_CLOCK = _Clock()


def _utcnow() -> datetime.datetime:
    # moto's utcnow: a naive datetime in UTC.
    return datetime.datetime.fromtimestamp(_CLOCK.time(), datetime.timezone.utc).replace(tzinfo=None)


class _TimeModule:
    """The time module, as the moto modules that call time.time() see it: the same but for time()."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return _CLOCK.time()


def install_request_clock() -> None:
    """Give moto's modules for SERVICES the clock `as_of` stops: their `utcnow` (moto.core.utils', imported by
    name) and their `time` module. Their modules are imported first, since moto loads a service on first use."""
    import importlib

    from moto.core import utils

    live_backends()
    for service in SERVICES:
        importlib.import_module(f"moto.{service.replace('-', '')}.responses")
    original = utils.utcnow
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "moto" or name.startswith("moto.")):
            continue
        if getattr(module, "utcnow", None) is original:
            module.utcnow = _utcnow
        if getattr(module, "time", None) is time:
            module.time = _TimeModule()


@contextlib.contextmanager
def as_of(record):
    """Run one journaled request with moto's random generator seeded and its clock stopped as the record says."""
    from moto.moto_api._internal import mock_random

    mock_random.seed(record.seed)
    _CLOCK.stopped_at = record.at
    try:
        yield
    finally:
        _CLOCK.stopped_at = None


def replay(app: Callable, records: Iterable) -> Tuple[int, int]:
    """Run the journal's records through moto's WSGI app again, in order. Returns (records, of which failed):
    a request that failed live fails again the same way, and is passed over as it was then."""
    count = failed = 0

    def start_response(_status, _headers, _exc_info=None):
        return lambda _data: None

    for record in records:
        environ = {**record.environ, "wsgi.input": io.BytesIO(record.body), "wsgi.errors": sys.stderr,
                   "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": False,
                   "wsgi.run_once": False}
        environ.setdefault("wsgi.url_scheme", "http")
        count += 1
        with as_of(record):
            try:
                for _ in app(environ, start_response):
                    pass
            except Exception:
                failed += 1
    return count, failed
