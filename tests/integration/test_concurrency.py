"""Many voters at once, through the local HTTP server (threaded, like `chalice local`) against moto."""
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.config import Config

from chalicelib import runtime
from devstack.api import make_server
from devstack.processes import free_port
from tests.integration.test_routes import COLOURS

VOTERS = 200


@pytest.fixture
def api(stack):
    from app import app
    port = free_port()
    server = make_server(app, Config.create(), "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


def post(url, headers, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_200_voters_at_once_make_exactly_200_ballots(api, stack):
    assert post(f"{api}/polls", stack.operator(), COLOURS)[0] == 201
    voters = [f"voter-{i:03d}" for i in range(VOTERS)]
    headers = {name: stack.voter(name) for name in voters}
    start = threading.Barrier(VOTERS)

    def vote(i, name):
        start.wait(timeout=60)
        return post(f"{api}/votes/{'red' if i % 3 else 'blue'}", headers[name], {"poll_id": "colours"})

    with ThreadPoolExecutor(max_workers=VOTERS) as pool:
        results = list(pool.map(vote, range(VOTERS), voters))

    assert [status for status, _ in results] == [201] * VOTERS
    ballots = stack.ballots("colours")
    assert len(ballots) == VOTERS
    assert set(ballots) == {stack.sub(name) for name in voters}
    assert sum(1 for c in ballots.values() if c == "blue") == len(range(0, VOTERS, 3))


@pytest.mark.parametrize("attempt", range(3))
def test_one_voter_racing_two_candidates_gets_one_ballot_and_one_409(api, stack, attempt):
    assert post(f"{api}/polls", stack.operator(), COLOURS)[0] == 201
    headers = stack.voter(f"racer-{attempt}")
    start = threading.Barrier(2)
    # Hold each request just before its ballot write until the other gets there too: whatever the API did
    # before writing (a read, a check), both requests have done it, so only the write itself can decide.
    both_writing = threading.Barrier(2)

    def hold(**_):
        both_writing.wait(timeout=10)  # and return None: anything else would stand in for DynamoDB's answer
    runtime.get().dynamodb.meta.events.register("before-call.dynamodb.PutItem", hold, unique_id="race")

    def vote(candidate):
        start.wait(timeout=30)
        return post(f"{api}/votes/{candidate}", headers, {"poll_id": "colours"})

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(("red", "blue"), pool.map(vote, ("red", "blue")), strict=True))

    assert sorted(status for status, _ in results.values()) == [201, 409]
    winner = next(c for c, (status, _) in results.items() if status == 201)
    assert stack.ballots("colours") == {stack.sub(f"racer-{attempt}"): winner}
    loser = results["blue" if winner == "red" else "red"][1]
    assert f"already voted for {winner}" in loser["Message"]
