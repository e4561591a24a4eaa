"""Files that hold passwords, tokens or keys: readable by their owner only from the first byte, and never seen
half-written."""
import os
import secrets
from pathlib import Path
from typing import Union


def write_private(path: Path, content: Union[str, bytes]) -> None:
    """Replace `path` with `content`, mode 0600. The bytes go to a new temporary file created 0600 (O_EXCL: never
    one that already exists, whatever its mode), fsync-ed, then renamed over `path`: a reader sees the old file
    or the new one, and a crash cannot leave an empty file where the password was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
