"""The local API server's edges on the whole stack (issue 18, part 6): a chunk size of -1 is refused at once and
the API's memory does not grow, oversized tokens are a clean 401 or 431, the access log names routes and never
a candidate, and while moto restarts the API answers 503 with Retry-After, never a 500."""
import json
import os
import signal
import socket
import time

import pytest
import requests

from tests.e2e.conftest import start_stack, wait_for

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with start_stack(tmp_path_factory) as running:
        operator = running.client(running.token(running.operator["username"]))
        created = operator.post("/polls", json={"poll_id": "edge", "title": "Edge?", "candidates": ["yes", "no"]})
        assert created.status_code == 201, created.text
        yield running


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(pid)


def test_a_negative_chunk_size_is_refused_at_once_and_the_apis_memory_does_not_grow(stack):
    api = stack.children()["devstack.api"]
    host, port = stack.api_url.removeprefix("http://").split(":")
    before = rss_kib(api)
    sent, reply = 0, b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /votes/yes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n")
        sock.settimeout(0.01)
        while sent < 64 * MIB:  # what a -1 would read, for as long as it is sent
            try:
                sock.sendall(b"x" * MIB)
                sent += MIB
            except OSError:
                break  # the server closed the connection
            try:
                reply += sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
        sock.settimeout(5)
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except OSError:
            pass
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["Code"] == "BadRequestError"
    assert sent < 64 * MIB, "the server read on past the chunk size"
    assert rss_kib(api) - before < 16 * 1024, (before, rss_kib(api))
    assert requests.get(f"{stack.api_url}/health", timeout=5).status_code == 200


def test_oversized_tokens_are_a_401_or_a_431_in_the_apis_shape(stack):
    for size, status, code in ((20_000, 401, "UnauthorizedError"), (100_000, 431, "RequestHeaderFieldsTooLargeError")):
        reply = requests.get(f"{stack.api_url}/polls", headers={"Authorization": "Bearer " + "a" * size}, timeout=10)
        assert (reply.status_code, reply.json()["Code"]) == (status, code), reply.text


def test_the_access_log_shows_the_route_of_a_vote_never_its_candidate(stack):
    voter = stack.client(stack.new_voter("edge-log"))
    assert voter.post("/votes/no", json={"poll_id": "edge"}).status_code == 201
    log = stack.state_dir / "api.log"
    wait_for(lambda: '"POST /votes/{candidate} HTTP/1.1" 201' in log.read_text(), 5, "the vote's access line")
    assert "/votes/no" not in log.read_text() and "/votes/yes" not in log.read_text()


def test_while_moto_restarts_the_api_answers_503_with_retry_after_never_500(stack):
    voters = [stack.client(stack.new_voter(f"edge-{i}")) for i in range(20)]  # signed in while moto is up
    moto = stack.children()["devstack.moto_server"]
    os.kill(moto, signal.SIGKILL)
    seen, waiting = [], list(voters)
    deadline = time.monotonic() + 60
    while waiting and time.monotonic() < deadline:
        voter = waiting.pop(0)
        reply = voter.post("/votes/yes", json={"poll_id": "edge"})
        seen.append(reply.status_code)
        assert reply.status_code in (200, 201, 503), reply.text
        if reply.status_code == 503:
            assert reply.json()["Code"] == "ServiceUnavailableError" and reply.headers["Retry-After"] == "1"
            waiting.append(voter)  # a resend is safe: one ballot per voter
            time.sleep(0.1)
    assert not waiting, f"votes still refused after moto's restart: {seen}"
    assert 503 in seen, f"no vote reached the API while moto was down: {seen}"
