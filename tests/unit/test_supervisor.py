"""The supervisor restarts a dead child with a doubling backoff, stops its dependents while it is down, and gives
up on a child that keeps dying; the deep health check reads the stream runner's report."""
import io
import json
import sys

from chalicelib.api.public import stream_health
from devstack.supervisor import Child, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
DIES = [sys.executable, "-c", "import sys; sys.exit(3)"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_dead_child_is_restarted_after_a_doubling_delay_and_said_so():
    clock, out = Clock(), io.StringIO()
    supervisor = Supervisor(out=out, clock=clock)
    child = supervisor.start(Child("sleeper", SLEEPER, {}))
    try:
        delays = []
        for _ in range(3):
            first = child.pid
            child.process.kill()
            child.process.wait()
            assert supervisor.check() is None
            assert child.pid == first  # not yet: the delay runs first
            delays.append(child.restart_at - clock.now)
            clock.now = child.restart_at
            assert supervisor.check() is None
            assert child.pid != first and child.exited() is None
        assert delays == [0.5, 1.0, 2.0]
        log = out.getvalue()
        assert f"sleeper (pid {first}) exited with signal SIGKILL; restarting it in 2 s (3 deaths in 60 s)" in log
        assert "sleeper restarted (pid" in log
    finally:
        supervisor.stop_all([])


def test_a_child_that_keeps_dying_stops_the_stack_with_the_reason():
    clock = Clock()
    supervisor = Supervisor(out=io.StringIO(), clock=clock)
    child = supervisor.start(Child("crasher", DIES, {}, log_path=None))
    reason = None
    for _ in range(10):
        child.process.wait()
        reason = supervisor.check()
        if reason:
            break
        clock.now = child.restart_at
        supervisor.check()
    assert reason and reason.startswith("crasher died 5 times within 60 s (last: exit code 3)")


def test_deaths_older_than_the_window_are_forgotten():
    clock = Clock()
    supervisor = Supervisor(out=io.StringIO(), clock=clock)
    child = supervisor.start(Child("crasher", DIES, {}))
    for _ in range(8):  # one death every 20 s: never 5 in 60 s
        child.process.wait()
        assert supervisor.check() is None
        clock.now = child.restart_at + 20
        supervisor.check()
    supervisor.stop_all([])


def test_dependents_stop_while_their_child_is_down_and_start_after_it():
    clock = Clock()
    supervisor = Supervisor(out=io.StringIO(), clock=clock)
    dependent = Child("runner", SLEEPER, {})
    moto = Child("moto", SLEEPER, {}, dependents=[dependent])
    supervisor.start(moto)
    supervisor.start(dependent)
    try:
        before = dependent.pid
        moto.process.kill()
        moto.process.wait()
        supervisor.check()
        assert dependent.held and dependent.exited() is not None  # stopped, not counted as a death
        clock.now = moto.restart_at
        supervisor.check()
        assert moto.exited() is None and dependent.exited() is None and dependent.pid != before
        assert not dependent.deaths
    finally:
        supervisor.stop_all([])


def test_deep_health_reads_the_runner_report(tmp_path):
    status = tmp_path / "status.json"
    assert stream_health(None, 100.0)["stream"]["available"] is False
    assert stream_health(None, 100.0)["status"] == "ok"
    assert stream_health(str(status), 100.0)["status"] == "degraded"  # never reported

    status.write_text(json.dumps({"reported_at": 99.5, "waiting": 0, "oldest_waiting_at": None,
                                  "last_batch_at": 90.0}))
    health = stream_health(str(status), 100.0)
    assert health["status"] == "ok" and health["stream"]["lag_seconds"] == 0.0
    assert health["stream"]["last_batch_at"] == "1970-01-01T00:01:30.000Z"

    status.write_text(json.dumps({"reported_at": 99.5, "waiting": 12, "oldest_waiting_at": 93.0,
                                  "last_batch_at": 90.0}))
    health = stream_health(str(status), 100.0)
    assert health["status"] == "degraded" and health["stream"]["lag_seconds"] == 7.0
    assert "waited 7 s" in health["stream"]["reason"]

    status.write_text(json.dumps({"reported_at": 90.0, "waiting": 0, "oldest_waiting_at": None}))
    health = stream_health(str(status), 100.0)
    assert health["status"] == "degraded" and "not reported for 10 s" in health["stream"]["reason"]


