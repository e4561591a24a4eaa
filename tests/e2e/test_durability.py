"""An answer of 201 is a promise (issue 18, part 4): SIGKILL of moto alone, or of every process of the stack at
once, while votes flow from several threads, loses no ballot that was answered 201.

After the restart, for every voter answered 201 (or 200, a resend of a ballot that landed): GET /votes/mine has
that ballot, a vote for another candidate is a 409, the results count each ballot once, and `make reconcile`
(cli.reconcile) exits 0, which is then true: the ledger, the tallies and the index agree because nothing was
lost, not because the index was cut down to a ledger that lost ballots.

Votes that meet moto down are resent under the tools' policy (tally_client/resend.py): a resend is always safe.
"""
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tally_client.http import send
from tally_client.resend import Backoff, send_until_answered
from tests.e2e.kept_stack import CANDIDATES, Stack, caught_up

pytestmark = pytest.mark.e2e
VOTERS = 160
THREADS = 6
KILL_AFTER = 60  # 201s before the kill: votes are flowing at full speed when it comes


def vote_until_answered(stack: Stack, token: str, poll_id: str, candidate: str):
    """(status, body) once the API answers something other than a 429, a 5xx or a lost connection."""
    status, _, body = send_until_answered(
        lambda: send(stack.api, "POST", f"/votes/{candidate}", token, {"poll_id": poll_id}, timeout=30),
        Backoff(base_s=0.1, cap_s=1.0, give_up_after_s=120))
    return status, body


def token_of(headers: dict) -> str:
    return headers["Authorization"].split()[1]


def vote_through(stack: Stack, poll_id: str, voters, kill, resend: bool) -> dict:
    """Every voter votes once (the candidate by their number), THREADS at a time at full speed, and `kill` runs
    once KILL_AFTER votes have been answered 201. With `resend`, a vote that meets moto down is resent until
    answered (the supervisor brings moto back); without, a vote the crash cut off is left unanswered (status
    None). Returns name -> (candidate, status, body)."""
    answered = threading.Semaphore(0)
    outcome = {}

    def cast(numbered):
        i, (name, _, headers) = numbered
        candidate = CANDIDATES[i % len(CANDIDATES)]
        if resend:
            status, body = vote_until_answered(stack, token_of(headers), poll_id, candidate)
        else:
            status, _, body = send(stack.api, "POST", f"/votes/{candidate}", token_of(headers),
                                   {"poll_id": poll_id}, timeout=10)
        outcome[name] = (candidate, status, body)
        if status == 201:
            answered.release()

    def killer():
        for _ in range(KILL_AFTER):
            answered.acquire()
        kill()

    watcher = threading.Thread(target=killer, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(cast, enumerate(voters)))
    watcher.join(60)
    assert not watcher.is_alive(), "the kill never came: fewer votes were answered 201 than expected"
    return outcome


def assert_every_answered_ballot_holds(stack: Stack, poll_id: str, voters, outcome: dict) -> None:
    unanswered = {name: (status, body) for name, (_, status, body) in outcome.items() if status not in (200, 201)}
    assert not unanswered, f"votes never answered 200 or 201, even with the stack back: {unanswered}"
    assert sum(1 for _, status, _ in outcome.values() if status == 201) >= KILL_AFTER
    passwords = {name: password for name, password, _ in voters}
    lost, twice = [], []
    for name, (candidate, _, _) in outcome.items():
        token = stack.token(name, passwords[name])  # the voter's account came back too
        status, _, mine = send(stack.api, "GET", f"/votes/mine?poll_id={poll_id}", token)
        if status != 200 or mine.get("candidate") != candidate:
            lost.append((name, candidate, status, mine))
        other = next(c for c in CANDIDATES if c != candidate)
        status, _, _ = send(stack.api, "POST", f"/votes/{other}", token, {"poll_id": poll_id})
        if status != 409:
            twice.append((name, other, status))
    assert not lost, f"{len(lost)} of {len(outcome)} ballots answered 201 are not in the ledger: {lost[:5]}"
    assert not twice, f"voters answered 201 could vote again for another candidate: {twice[:5]}"
    caught_up(stack, poll_id, len(outcome), deadline=60)  # each counted once, and reconcile exits 0


def test_sigkill_of_moto_alone_under_load_loses_no_answered_vote(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("moto-killed"))
    try:
        stack.create_poll("kept")
        voters = stack.voters("kept", VOTERS)
        moto = stack.child("devstack.moto_server")
        outcome = vote_through(stack, "kept", voters, lambda: os.kill(moto, signal.SIGKILL), resend=True)
        assert f"moto (pid {moto}) exited with signal SIGKILL" in stack.log()
        assert_every_answered_ballot_holds(stack, "kept", voters, outcome)
    finally:
        stack.stop()


def test_sigkill_of_every_process_at_once_under_load_loses_no_answered_vote(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("all-killed")
    stack = Stack(state_dir)
    try:
        stack.create_poll("kept")
        voters = stack.voters("kept", VOTERS)
        pids = [stack.child(m) for m in ("devstack.moto_server", "devstack.api", "devstack.stream_runner")]

        def kill_everything():  # at once: moto gets no chance to save
            for pid in [*pids, stack.process.pid]:
                os.kill(pid, signal.SIGKILL)

        outcome = vote_through(stack, "kept", voters, kill_everything, resend=False)
        stack.process.wait(10)
    finally:
        if stack.process.poll() is None:
            stack.stop()

    stack = Stack(state_dir)
    try:
        for name, (candidate, status, _) in list(outcome.items()):
            if status not in (200, 201):  # cut off by the crash: sent again, as its client would
                headers = next(h for n, _, h in voters if n == name)
                outcome[name] = (candidate, *vote_until_answered(stack, token_of(headers), "kept", candidate))
        assert_every_answered_ballot_holds(stack, "kept", voters, outcome)
    finally:
        stack.stop()
