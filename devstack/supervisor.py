"""Keep the stack's processes running: a child that dies is started again, after a backoff, and said so on stderr.

- The delay before a restart doubles with each death of that child in the last WINDOW_SECONDS: 0.5 s, 1 s, 2 s...
  up to MAX_DELAY_SECONDS.
- A child that dies MAX_DEATHS times within WINDOW_SECONDS is not started again: the supervisor gives up, says why,
  and the stack stops (something is wrong that a restart will not mend; its log says what).
- A child can have dependents, stopped while it is down and started again after it (the stream runner depends on
  moto: after moto is restored from its last snapshot, the runner must start over from the position kept there).
- `stop_all` stops the children in stages, last started first: moto saves its state after everything that writes
  to it has stopped.
"""
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, List, Optional, TextIO

from devstack import processes

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 10.0
WINDOW_SECONDS = 60.0
MAX_DEATHS = 5


@dataclass(eq=False)
class Child:
    name: str
    argv: List[str]
    env: dict
    log_path: Optional[str] = None
    ready_url: Optional[str] = None
    ready_seconds: float = 30.0
    before_start: Optional[Callable[[], None]] = None
    after_start: Optional[Callable[[], None]] = None  # e.g. mend what the restart left behind
    dependents: List["Child"] = field(default_factory=list)
    process: Optional[subprocess.Popen] = None
    deaths: Deque[float] = field(default_factory=deque)
    restart_at: Optional[float] = None  # when a dead child is due to start again
    held: bool = False  # stopped because something it depends on is down

    def start(self) -> None:
        if self.before_start:
            self.before_start()
        self.process = processes.spawn(self.argv, self.env, self.log_path, new_session=True)
        if self.ready_url:
            try:
                processes.wait_for_http(self.ready_url, self.ready_seconds, self.process)
            except RuntimeError:  # it exited: what it said last is why (a damaged state file, a busy port)
                raise RuntimeError(f"{self.name} exited with {describe_exit(self.process.returncode)} before it "
                                   f"was ready: {self.last_words()}") from None
        if self.after_start:
            self.after_start()

    def last_words(self) -> str:
        """The last line the child wrote to its log."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, 2) - 8192))
                lines = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
        except (OSError, TypeError):
            return "(no log)"
        return lines[-1] if lines else "(nothing in its log)"

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def exited(self) -> Optional[int]:
        return None if self.process is None else self.process.poll()


def describe_exit(code: int) -> str:
    if code < 0:
        import signal
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class Supervisor:
    def __init__(self, out: TextIO = sys.stderr, clock: Callable[[], float] = time.monotonic,
                 first_delay: float = FIRST_DELAY_SECONDS, max_delay: float = MAX_DELAY_SECONDS,
                 window: float = WINDOW_SECONDS, max_deaths: int = MAX_DEATHS):
        self.children: List[Child] = []
        self._out = out
        self._clock = clock
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._window = window
        self._max_deaths = max_deaths

    def _say(self, text: str) -> None:
        print(f"devstack {time.strftime('%H:%M:%S')}: {text}", file=self._out, flush=True)

    def start(self, child: Child) -> Child:
        """Start a child (and wait until it is ready) and watch it from now on."""
        self.children.append(child)
        child.start()
        return child

    def check(self) -> Optional[str]:
        """One round: notice deaths, restart what is due. Returns why the stack must stop, or None."""
        now = self._clock()
        for child in self.children:
            code = child.exited()
            if code is None or child.restart_at is not None or child.held:
                continue
            while child.deaths and child.deaths[0] < now - self._window:
                child.deaths.popleft()
            child.deaths.append(now)
            deaths = len(child.deaths)
            if deaths >= self._max_deaths:
                return (f"{child.name} died {deaths} times within {self._window:g} s (last: {describe_exit(code)}); "
                        f"stopping the stack: see {child.log_path or 'its output'}")
            delay = min(self._max_delay, self._first_delay * 2 ** (deaths - 1))
            child.restart_at = now + delay
            held = [d for d in child.dependents if d.exited() is None and d.process is not None]
            self._say(f"{child.name} (pid {child.pid}) exited with {describe_exit(code)}; restarting it in {delay:g} s "
                      f"({deaths} death{'s' if deaths > 1 else ''} in {self._window:g} s)"
                      + (f"; stopping {', '.join(d.name for d in held)} until it is back" if held else ""))
            for dependent in child.dependents:
                dependent.held = True
                dependent.restart_at = None
            processes.stop([d.process for d in held])
        for child in self.children:
            if child.restart_at is not None and self._clock() >= child.restart_at:
                child.restart_at = None
                try:
                    child.start()
                except (RuntimeError, TimeoutError, OSError) as error:
                    self._say(f"{child.name} did not come back: {error}")
                    if child.process is not None and child.process.poll() is None:
                        processes.stop([child.process])
                    continue  # its death is counted on the next round
                self._say(f"{child.name} restarted (pid {child.pid})")
                for dependent in child.dependents:
                    if dependent.held:
                        dependent.held = False
                        try:
                            dependent.start()
                        except (RuntimeError, TimeoutError, OSError) as error:
                            self._say(f"{dependent.name} did not come back: {error}")
                            continue
                        self._say(f"{dependent.name} restarted after {child.name} (pid {dependent.pid})")
        return None

    def stop_all(self, stages: List[List[Child]], grace: float = 30.0) -> None:
        """Stop every child: stage by stage, each stage's children together, then anything left; SIGKILL after
        `grace` seconds."""
        staged = {id(c) for stage in stages for c in stage}
        for stage in [*stages, [c for c in self.children if id(c) not in staged]]:
            processes.stop([c.process for c in stage if c.process is not None], grace)
