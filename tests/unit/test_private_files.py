"""Files that hold passwords and tokens (stack.json, operator.json, voter-key, voters.json, the load test's voters)
are written by one function, tally_client/private_files.py: mode 0600 from the moment the file exists, whatever
the umask, and never half-written."""
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from tally_client.private_files import write_private

BIG = "x" * (4 << 20)  # long enough to write that a reader looking meanwhile sees the file being filled


@pytest.fixture
def open_umask():
    """umask 0: a file created without an explicit mode would be readable and writable by everyone."""
    before = os.umask(0)
    yield
    os.umask(before)


class Watcher:
    """Looks at every file in a directory, as fast as it can, for one that others may read."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.exposed = set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        while not self.done.is_set():
            for entry in os.scandir(self.directory):
                try:
                    if stat.S_IMODE(entry.stat().st_mode) & 0o077:
                        self.exposed.add(entry.name)
                except FileNotFoundError:  # renamed away between the listing and the look
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.done.set()
        self.thread.join()


def test_a_private_file_is_for_its_owner_only_from_the_first_byte(tmp_path, open_umask):
    path = tmp_path / "voters.json"
    with Watcher(tmp_path) as watcher:
        for _ in range(20):
            write_private(path, BIG)
    assert not watcher.exposed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == BIG and os.listdir(tmp_path) == ["voters.json"]  # no temporary file left


def test_the_watcher_sees_a_file_that_was_readable_for_a_moment(tmp_path, open_umask):
    """The check above can fail: written, then chmod-ed (as loadtest/voters.py did), a file is caught readable."""
    path = tmp_path / "voters.json"
    deadline = time.monotonic() + 10
    with Watcher(tmp_path) as watcher:
        while not watcher.exposed and time.monotonic() < deadline:
            path.unlink(missing_ok=True)
            path.write_text(BIG)
            path.chmod(0o600)
    assert watcher.exposed == {"voters.json"}


def test_a_private_file_replaces_the_old_one_whole_and_keeps_its_mode_private(tmp_path, open_umask):
    path = tmp_path / "state" / "stack.json"  # the directory is made if it is missing
    write_private(path, "old")
    path.chmod(0o644)  # someone loosened it: the next write is private again, a new file
    write_private(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "operator.json"
    write_private(path, "old")
    with pytest.raises(TypeError):
        write_private(path, None)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["operator.json"]
