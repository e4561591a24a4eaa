"""Throttled or failed votes, resent by a client: 429 with Retry-After, and never a second ballot.

DynamoDB's answers are changed at the AWS boundary (botocore's events on the app's own client), not in our code:
a ThrottlingException before the write, or a connection lost after the write landed.
"""
import json
import random

from botocore.awsrequest import AWSResponse

from chalicelib import runtime
from tally_client.resend import Backoff, send_until_answered
from tests.integration.helpers import body, create


class Throttle:
    """Answer the first `times` PutItem calls with DynamoDB's ThrottlingException, as AWS does under a surge."""

    def __init__(self, times):
        self.left = times
        self.calls = 0

    def __call__(self, **_):
        self.calls += 1
        if self.left <= 0:
            return None  # let the call through to (emulated) DynamoDB
        self.left -= 1
        error = {"Error": {"Code": "ThrottlingException",
                           "Message": "Rate of requests exceeds the allowed throughput."},
                 "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://dynamodb", 400, {}, None), error


class LoseAnswer:
    """Let the first PutItem write, then lose its answer on the way back (the connection drops)."""

    def __init__(self):
        self.lost = False

    def __call__(self, **_):
        if not self.lost:
            self.lost = True
            raise ConnectionResetError("connection reset by peer after the write")


def on_put_item(event, handler):
    runtime.get().dynamodb.meta.events.register(f"{event}.dynamodb.PutItem", handler, unique_id=f"test-{event}")


def resending_client(client, stack, candidate, voter="vera"):
    """A voter's client with the CLI's resend policy; returns the final answer and the waits it chose."""
    waits = []

    def send():
        reply = client.post(f"/votes/{candidate}", headers=stack.voter(voter), body=json.dumps({"poll_id": "colours"}))
        return reply.status_code, reply.headers, body(reply)

    answer = send_until_answered(send, Backoff(rng=random.Random(3)), sleep=waits.append,
                                 on_retry=lambda answer, wait: None)
    return answer, waits


def test_dynamodb_throttling_is_a_429_with_retry_after_and_nothing_is_written(client, stack):
    create(client, stack)
    stack.voter("vera")  # signed in before the throttle starts
    on_put_item("before-call", Throttle(times=1))
    reply = client.post("/votes/red", headers=stack.voter(), body=json.dumps({"poll_id": "colours"}))
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"
    assert body(reply) == {"Code": "TooManyRequestsError",
                           "Message": "Too many requests right now; try again in a moment."}
    assert stack.ballots("colours") == {}


def test_a_throttled_vote_resent_by_the_client_makes_exactly_one_ballot(client, stack):
    create(client, stack)
    throttle = Throttle(times=3)
    on_put_item("before-call", throttle)
    (status, _, ballot), waits = resending_client(client, stack, "red")
    assert status == 201 and ballot["candidate"] == "red"
    assert throttle.calls == 4 and len(waits) == 3 and min(waits) >= 1.0, "each wait honours Retry-After: 1"
    assert stack.ballots("colours") == {stack.voter_id("vera"): "red"}


def test_a_vote_whose_answer_was_lost_after_the_write_is_answered_200_on_resend_and_counted_once(client, stack):
    create(client, stack)
    on_put_item("after-call", LoseAnswer())
    (status, _, ballot), waits = resending_client(client, stack, "blue")
    assert len(waits) == 1, "the first attempt failed with a 5xx after its ballot was written"
    assert status == 200 and ballot["candidate"] == "blue", "the resend found the standing ballot"
    assert stack.ballots("colours") == {stack.voter_id("vera"): "blue"}


def test_a_ballot_the_sdk_resent_after_its_own_write_landed_is_still_a_201(client, stack):
    """The DynamoDB client resends a PutItem whose answer it gave up on (read timeout): the resend meets the
    ballot the same request wrote a moment before, which is that request's own new ballot, not an earlier one."""
    create(client, stack)
    stack.voter("vera")
    forced = []

    def answer_lost(attempts, response, **_):
        if attempts == 1 and response is not None and response[0].status_code == 200:
            forced.append(attempts)
            return 0.001  # retry after 1 ms, as botocore does after a ReadTimeoutError
        return None
    runtime.get().dynamodb.meta.events.register_first("needs-retry.dynamodb.PutItem", answer_lost)
    reply = client.post("/votes/red", headers=stack.voter(), body=json.dumps({"poll_id": "colours"}))
    assert forced == [1], "the SDK sent the PutItem a second time"
    assert reply.status_code == 201 and body(reply)["candidate"] == "red"
    again = client.post("/votes/red", headers=stack.voter(), body=json.dumps({"poll_id": "colours"}))
    assert again.status_code == 200 and body(again) == body(reply), "a real second request is still a 200"
    assert stack.ballots("colours") == {stack.voter_id("vera"): "red"}
