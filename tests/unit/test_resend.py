"""The resend policy the CLI and the load test share: what is retried, for how long, and how far apart."""
import random

from tally_client.resend import LOST, Backoff, retry_after_s, send_until_answered, worth_resending


class Script:
    """A server's answers, in order; records when each request was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent_at = []
        self.now = 0.0

    def send(self):
        self.sent_at.append(self.now)
        return self.answers.pop(0)

    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now


def test_throttling_failures_and_lost_connections_are_worth_a_resend_and_refusals_are_not():
    assert all(worth_resending(s) for s in (429, 500, 502, 503, 504, LOST))
    assert not any(worth_resending(s) for s in (200, 201, 400, 401, 403, 404, 409, 413))


def test_retry_after_is_read_as_seconds_or_as_a_date_and_ignored_when_unreadable():
    assert retry_after_s({"Retry-After": "3"}) == 3
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=lambda: 1445412480.0) == 10
    assert retry_after_s({"Retry-After": "soon"}) == 0 and retry_after_s({}) == 0


def test_the_waits_grow_exponentially_under_a_cap_with_full_jitter():
    policy = Backoff(base_s=0.25, cap_s=2.0, rng=random.Random(7))
    delays = policy.delays()
    waits = [next(delays) for _ in range(200)]
    assert all(0 <= w <= min(2.0, 0.25 * 2 ** n) for n, w in enumerate(waits))
    assert max(waits[10:]) > 1.5 and len(set(waits)) == len(waits), "jittered up to the cap"


def test_a_throttled_vote_is_resent_after_retry_after_until_it_is_answered():
    server = Script((429, {"Retry-After": "1"}, {}), (503, {}, {}), (LOST, {}, {}), (200, {}, {"candidate": "red"}))
    answer = send_until_answered(server.send, Backoff(rng=random.Random(1)), server.sleep, server.clock)
    assert answer[0] == 200 and len(server.sent_at) == 4
    assert server.sent_at[1] >= 1.0, "never sooner than Retry-After"


def test_a_refusal_is_returned_at_once():
    server = Script((409, {}, {"Code": "ConflictError"}))
    assert send_until_answered(server.send, Backoff(), server.sleep, server.clock)[0] == 409
    assert server.sent_at == [0.0]


def test_it_gives_up_when_the_time_allowed_runs_out_and_returns_the_last_answer():
    server = Script(*[(503, {"Retry-After": "4"}, {})] * 100)
    answer = send_until_answered(server.send, Backoff(give_up_after_s=10), server.sleep, server.clock)
    assert answer[0] == 503 and server.now <= 10 and len(server.sent_at) == 3
