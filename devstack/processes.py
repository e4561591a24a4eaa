"""Child processes that die with their parent, waiting for a port with a deadline, and the CPU time they use."""
import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl  # resolved here: a forked child should not load libraries


def die_with_parent(signum: int = signal.SIGTERM, parent: Optional[int] = None) -> None:
    """Have the kernel send `signum` to this process when its parent dies. With `parent` (its pid), a parent
    that died before this call is noticed too, and this process exits at once."""
    _prctl(_PR_SET_PDEATHSIG, signum)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _die_with_parent() -> None:
    # If the supervisor is killed outright, the kernel sends SIGTERM to its children: no orphans.
    die_with_parent(signal.SIGTERM)


def spawn(argv: List[str], env: dict, log_path: Optional[str] = None, new_session: bool = False) -> subprocess.Popen:
    """Start a child that gets SIGTERM when its parent dies. With `new_session`, a Ctrl-C in the terminal reaches
    only the parent, which then stops its children in the order it chooses."""
    out = open(log_path, "ab") if log_path else None
    try:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                preexec_fn=_die_with_parent, start_new_session=new_session)
    finally:
        if out is not None:
            out.close()  # the child has its own copy


def stop(children: List[subprocess.Popen], grace: float = 5.0) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, deadline_seconds: float, child: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        if child is not None and child.poll() is not None:
            raise RuntimeError(f"{child.args[:3]} exited with {child.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {deadline_seconds} s") from None
            time.sleep(0.05)


class CpuMeter:
    """CPU seconds used so far by each process of the stack and by this one, read from /proc.

    Wall-clock rates swing with whatever else the machine runs; CPU time per operation barely does, so it says
    where the work goes even when the rates are noisy. Only known for a stack this run started.
    """
    CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: Dict[str, int]):
        self.pids = {**pids, "bench": os.getpid()}  # the measuring process itself, whichever tool it is

    @classmethod
    def of_children(cls, children: Dict[str, int]) -> "CpuMeter":
        """The processes of a stack this program started (LocalStack.children()): moto, api, stream, static."""
        return cls({module.rsplit(".", 1)[-1].replace("moto_server", "moto").replace("_runner", ""): pid
                    for module, pid in children.items()})

    def sample(self) -> Dict[str, float]:
        used = {}
        for name, pid in self.pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / self.CLOCK_TICKS  # utime + stime
            except OSError:
                used[name] = float("nan")
        return used
