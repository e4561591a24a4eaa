"""Many voters at once, through the local HTTP server (threaded, like `chalice local`) against moto."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import runtime
from tests.integration.helpers import COLOURS, post

VOTERS = 200


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
    assert set(ballots) == {stack.voter_id(name) for name in voters}
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
    assert stack.ballots("colours") == {stack.voter_id(f"racer-{attempt}"): winner}
    loser = results["blue" if winner == "red" else "red"][1]
    assert f"already voted for {winner}" in loser["Message"]


def test_racing_requests_from_many_voters_over_many_buckets_leave_one_ballot_each(api, stack):
    """Each voter's requests race each other, and the voters race each other over a poll of 100 buckets: the
    one conditional write under the voter's bucket key still lets exactly one ballot stand per voter."""
    from chalicelib.domain.ballots import bucket_of

    assert post(f"{api}/polls", stack.operator(), {**COLOURS, "expected_peak_votes_per_s": 10_000})[0] == 201
    voters = [f"racer-{i:02d}" for i in range(40)]
    headers = {name: stack.voter(name) for name in voters}
    attempts = [(name, candidate) for name in voters for candidate in ("red", "red", "blue")]
    start = threading.Barrier(len(attempts))

    def vote(attempt):
        name, candidate = attempt
        start.wait(timeout=60)
        return name, candidate, *post(f"{api}/votes/{candidate}", headers[name], {"poll_id": "colours"})

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        answers = list(pool.map(vote, attempts))

    items = stack.ballot_items("colours")
    assert len(items) == len(voters)
    for name in voters:
        sub = stack.voter_id(name)
        (item,) = [i for i in items if i["voter_id"]["S"] == sub]
        assert item["poll_bucket"]["S"] == f"colours#{bucket_of(sub, 100)}"
        mine = [(candidate, status, answer) for who, candidate, status, answer in answers if who == name]
        assert sorted(status for _, status, _ in mine).count(201) == 1
        for candidate, status, answer in mine:
            if candidate == item["candidate"]["S"]:
                assert status in (200, 201) and answer["cast_at"] == item["cast_at"]["S"]
            else:
                assert status == 409
    assert len({item["poll_bucket"]["S"] for item in items}) > 20, "the voters spread over the buckets"
