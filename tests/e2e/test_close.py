"""An exact close and an exact opening with two API processes, each holding the poll in its own cache.

A ballot counts only when opens_at <= cast_at < closes_at. The close answers the instant it takes effect; votes
keep coming through both API processes across that instant, and not one stored ballot may be cast at or after it.
"""
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import requests

from devstack.processes import free_port, stop, wait_for_http
from loadtest.voters import provision
from tests.e2e.conftest import ROOT, wait_for

VOTERS = 300
WINDOW_S = 3.0  # votes are spread over this long, centred on the instant under test


def at(instant: str) -> float:
    return datetime.fromisoformat(instant).timestamp()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def second_api(running_stack):
    """Another API process on the same stack: same tables, same pool, a cache of its own."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "devstack.api", "--port", str(port)], cwd=ROOT,
                               env=running_stack.environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", 30, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop([process])


@pytest.fixture(scope="module")
def operator(running_stack):
    return {"Authorization": f"Bearer {running_stack.token(running_stack.operator['username'])}"}


def voters(stack, tmp_path, prefix):
    return provision(stack.idp, stack.user_pool_id, stack.client_id, VOTERS,
                     tmp_path / f"{prefix}.json", prefix=prefix)


def stored_ballots(stack, poll_id):
    scan = stack.aws_client("dynamodb").get_paginator("scan")
    pages = scan.paginate(TableName=stack.settings().ballots_table, ConsistentRead=True,
                          FilterExpression="poll_id = :p", ExpressionAttributeValues={":p": {"S": poll_id}})
    return [item for page in pages for item in page["Items"]]


def vote_across(apis, crowd, poll_id, centre: float):
    """Each voter votes once, at planned instants spread evenly over the window around `centre`, through the
    API processes in turn. Returns (api, status, body) per vote."""
    start = centre - WINDOW_S / 2
    lock = threading.Lock()
    sessions = [requests.Session() for _ in range(16)]

    def one(i):
        wait_for(lambda: time.time() >= start + WINDOW_S * i / len(crowd), WINDOW_S + 5, "the planned instant")
        with lock:
            session = sessions[i % len(sessions)]
        api = apis[i % len(apis)]
        reply = session.post(f"{api}/votes/gold", json={"poll_id": poll_id}, timeout=30,
                             headers={"Authorization": f"Bearer {crowd[i]['id_token']}"})
        return api, reply.status_code, reply.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(len(crowd))))


def create(stack, operator, poll_id, **extra):
    reply = requests.post(f"{stack.api}/polls", headers=operator, timeout=10,
                          json={"poll_id": poll_id, "title": poll_id, "candidates": ["gold", "silver"], **extra})
    assert reply.status_code == 201, reply.text
    return reply.json()


def warm(apis, operator, poll_id):
    """Each API process reads the poll now, so each holds its own copy for the cache's lifetime."""
    for api in apis:
        assert requests.get(f"{api}/polls/{poll_id}", headers=operator, timeout=10).status_code == 200


def test_no_stored_ballot_is_cast_at_or_after_the_close_the_operator_was_answered(running_stack, second_api,
                                                                                   operator, tmp_path):
    stack, apis = running_stack, [running_stack.api, second_api]
    crowd = voters(stack, tmp_path, "closing")
    create(stack, operator, "finale")
    warm(apis, operator, "finale")
    closing = requests.post(f"{stack.api}/polls/finale/close", headers=operator, timeout=10)
    assert closing.status_code == 200 and closing.json()["status"] == "open", closing.text
    closes_at = closing.json()["closes_at"]

    answers = vote_across(apis, crowd, "finale", centre=at(closes_at))

    accepted = [body for _, status, body in answers if status == 201]
    refused = [body for _, status, body in answers if status == 409]
    assert len(accepted) + len(refused) == VOTERS, {status for _, status, _ in answers}
    assert all(b["cast_at"] < closes_at for b in accepted)
    assert all("closed" in b["Message"] for b in refused)
    # The window really straddled the close, on both processes.
    assert any(b["cast_at"] >= iso(at(closes_at) - 1) for b in accepted), "votes in the last second counted"
    for api in apis:
        assert {status for a, status, _ in answers if a == api} == {201, 409}

    stored = stored_ballots(stack, "finale")
    assert len(stored) == len(accepted)
    assert max(item["cast_at"]["S"] for item in stored) < closes_at

    headers = operator
    wait_for(lambda: requests.get(f"{stack.api}/polls/finale/results", headers=headers, timeout=10)
             .json()["total"] == len(accepted), 30, "results equal to the ledger")
    reconcile = subprocess.run([sys.executable, "-m", "cli.reconcile", "--poll", "finale",
                                "--state-dir", str(stack.state_dir)], cwd=ROOT, capture_output=True, text=True)
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr


def test_no_ballot_is_stored_before_opens_at(running_stack, second_api, operator, tmp_path):
    stack, apis = running_stack, [running_stack.api, second_api]
    crowd = voters(stack, tmp_path, "opening")
    opens_at = iso(time.time() + WINDOW_S / 2 + 2)
    create(stack, operator, "overture", opens_at=opens_at)
    warm(apis, operator, "overture")

    answers = vote_across(apis, crowd, "overture", centre=at(opens_at))

    accepted = [body for _, status, body in answers if status == 201]
    refused = [body for _, status, body in answers if status == 409]
    assert accepted and refused and len(accepted) + len(refused) == VOTERS
    assert all(b["cast_at"] >= opens_at for b in accepted)
    assert all("scheduled" in b["Message"] for b in refused)
    stored = stored_ballots(stack, "overture")
    assert len(stored) == len(accepted) and min(item["cast_at"]["S"] for item in stored) >= opens_at
