"""moto's state on disk: the backends the stack uses, pickled to one file, and put back before moto serves.

moto keeps everything in memory. The moto server (devstack/moto_server.py) saves its DynamoDB, DynamoDB Streams,
Cognito IdP and Secrets Manager backends here every SNAPSHOT_SECONDS while something changed, and once more when
it is stopped; the next start restores them, so polls, ballots, the stream, tallies, voters, the operator and the
voter-key secret survive a stop. Each snapshot is one consistent cut: it is taken while the server's request lock
is held, so no request is half applied in it.

The file holds two pickles: a small header first (`final`: written on an orderly stop, `taken_at`), then the
backends. A reader that needs the header only (the supervisor deciding whether the index needs mending) stops
after the first.

Cognito's signing key is a cryptography RSAPrivateKey, which does not pickle: copyreg gives it a reducer (PEM
bytes). The stream's shard iterators are not kept: an iterator names a position for one reader, and the stream
runner takes new ones after a restart.
"""
import copyreg
import os
import pickle
import time
from pathlib import Path
from typing import Dict, Optional, Tuple

SERVICES = ("dynamodb", "dynamodbstreams", "cognito-idp", "secretsmanager")
FILE_NAME = "moto-state.pickle"
FORMAT = 1


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


def write(path: Path, final: bool) -> int:
    """Pickle the live backends to `path`, atomically (a temp file, fsync, rename). Returns the bytes written.
    The caller holds the lock that keeps requests out."""
    backends = live_backends()
    for (service, _, _), backend in backends.items():
        if service == "dynamodbstreams":
            backend.shard_iterators = {}  # in a forked child, or just before exit: never the serving process's
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    # It holds the voter-key secret and users' passwords: for the owner only, from the first byte.
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        pickle.dump({"format": FORMAT, "final": final, "taken_at": time.time()}, out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(backends, out, protocol=pickle.HIGHEST_PROTOCOL)
        size = out.tell()
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return size


def header(path: Path) -> Optional[dict]:
    """The snapshot's header, or None when there is no snapshot."""
    try:
        with open(path, "rb") as source:
            return pickle.load(source)
    except FileNotFoundError:
        return None


def restore(path: Path) -> Optional[dict]:
    """Put the snapshot's backends in place of moto's. Returns its header, or None when there is none."""
    from moto.backends import get_backend

    try:
        source = open(path, "rb")
    except FileNotFoundError:
        return None
    with source:
        head = pickle.load(source)
        if head.get("format") != FORMAT:
            raise ValueError(f"{path} is in format {head.get('format')}, not {FORMAT}: `make reset` starts afresh")
        backends = pickle.load(source)
    for (service, account, region), backend in backends.items():
        if service == "dynamodbstreams":
            backend.shard_iterators = {}
        dict.__setitem__(get_backend(service)[account], region, backend)
    return head
