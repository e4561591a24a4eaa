"""Simulated voters and operators for locust. Run through `make loadtest` (loadtest/__main__.py), which
provisions the voters, creates the poll, and reconciles the counts afterwards.

VoterUser takes the next unused voter from the provisioned file and votes once, on a Zipf-like curve over the
candidates. Some voters resend their ballot, as a flaky network would, and must get 200 with the same body;
some try a second candidate and must get 409. OperatorUser watches the results with If-None-Match and records
how stale they are: the age of the oldest accepted vote the results do not show yet.

The roll profile (`--roll`) runs on a roll poll: the voters listed in the setup's `off_roll` are not on its roll,
and each of them votes once and must get 403 (a 403 is their success, anything else a failure: a 201 would be a
ballot counted from outside the electorate). The others vote as above.

Every vote request rides out throttling as a phone does: after a 429, a 5xx or a lost connection it is resent
under tally_client.resend's policy (capped exponential backoff with full jitter, never sooner than Retry-After; gevent's
sleep). Each resend is counted (`retries` in the outcome, by what the resent attempt got) and shows in locust's
stats under the request's name plus " (retry)"; the attempt it resends is marked failed there. What the answers
mean for the ballot is loadtest/answers.py: a first ballot is accepted once, by a 201 or by a 200 with the same
ballot (an earlier attempt landed); the 200s are counted apart in the outcome.
"""
import csv
import json
import os
import queue
import random
import threading
import time

import gevent
from locust import FastHttpUser, constant, constant_pacing, events, stats, task
from locust.exception import StopUser

from loadtest import voters as voter_pool
from loadtest.answers import first_ballot_problem, retry_key, status_text, unprompted_200
from tally_client.resend import LOST, Backoff, send_until_answered, worth_resending

RETRY_SHARE = 0.10
SWITCH_SHARE = 0.05
ZIPF_EXPONENT = 1.2

voters: "queue.Queue[dict]" = queue.Queue()
off_roll = set()  # the roll profile's voters left off the poll's roll: each must be refused (403)
candidates = []
weights = []
poll_id = ""
lock = threading.Lock()
accepted = {}  # candidate -> 201s
accepted_at = []  # monotonic time of each 201, in order
unexpected = []  # (what, status, body) of every answer that was not what it must be
retries = {}  # what the resent attempt got ("429", "503", "lost", ...) -> resends
first_200s = {"all": 0, "unprompted": 0}  # first ballots accepted by a 200; of those, with no attempt of ours before
refused = {"off_roll": 0}  # off-roll voters refused with 403, as they must be
staleness_ms = []
finished = threading.Event()
spawning = {}  # when the test started, and how long until every user had started (a surge: within a second)


@events.init.add_listener
def load_run(environment, **_kwargs):
    global poll_id
    setup = json.loads(open(os.environ["TALLY_LOADTEST_SETUP"]).read())
    poll_id = setup["poll_id"]
    candidates.extend(setup["candidates"])
    weights.extend(1 / (rank ** ZIPF_EXPONENT) for rank in range(1, len(candidates) + 1))
    off_roll.update(setup.get("off_roll") or [])
    for voter in voter_pool.for_run(setup["voters_file"], setup["voters"]):
        voters.put(voter)


@events.test_start.add_listener
def note_start(environment, **_kwargs):
    spawning["started"] = time.monotonic()


@events.spawning_complete.add_listener
def note_spawned(user_count, **_kwargs):
    spawning.setdefault("users", user_count)
    spawning.setdefault("seconds", time.monotonic() - spawning.get("started", time.monotonic()))


@events.test_stop.add_listener
def write_outcome(environment, **_kwargs):
    votes = environment.stats.get("/votes/[candidate]", "POST")
    figures = {"votes_per_second": votes.total_rps, "vote_p50_ms": votes.get_response_time_percentile(0.5),
               "vote_p95_ms": votes.get_response_time_percentile(0.95),
               "requests_total": environment.stats.total.num_requests, "users": spawning.get("users"),
               "all_users_started_after_s": round(spawning["seconds"], 2) if "seconds" in spawning else None}
    with lock:
        outcome = {"accepted": accepted, "accepted_total": sum(accepted.values()), "unexpected": unexpected[:50],
                   "unexpected_total": len(unexpected), "retries": dict(retries),
                   "retries_total": sum(retries.values()), "first_ballots_answered_200": first_200s["all"],
                   "of_which_unprompted": first_200s["unprompted"], "staleness_ms": staleness_ms,
                   "off_roll_refused": refused["off_roll"], "figures": figures}
    with open(os.environ["TALLY_LOADTEST_OUTCOME"], "w") as out:
        json.dump(outcome, out)


@events.quitting.add_listener
def write_final_csv(environment, **_kwargs):
    """locust's --csv writer rewrites its files once a second and not at exit, so a short run's CSVs missed the
    last second and the stop. Write them again from the final stats, as new files: locust's open handles keep
    the old ones, so what they flush at exit cannot land in these."""
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return
    final = stats.StatsCSV(environment, stats.PERCENTILES_TO_REPORT)
    for suffix, write in (("stats", final.requests_csv), ("failures", final.failures_csv),
                          ("exceptions", final.exceptions_csv)):
        path = f"{prefix}_{suffix}.csv"
        with open(f"{path}.final", "w") as out:
            write(csv.writer(out))
        os.replace(f"{path}.final", path)


def expect(response, status, what, body=None):
    if response.status_code == status and (body is None or response.json() == body):
        response.success()
        return True
    with lock:
        unexpected.append((what, response.status_code, (response.text or "")[:200]))
    response.failure(f"{what}: expected {status}, got {response.status_code}")
    return False


def body_of(reply):
    try:
        return reply.json()
    except ValueError:
        return None


def note_unexpected(what, status, text):
    with lock:
        unexpected.append((what, status, text[:200]))


class VoterUser(FastHttpUser):
    weight = 20
    wait_time = constant(0)

    @task
    def vote_once(self):
        try:
            voter = voters.get_nowait()
        except queue.Empty:
            # Every voter has voted: end the run (gracefully: --stop-timeout lets votes in flight finish).
            if not finished.is_set():
                finished.set()
                gevent.spawn(self.environment.runner.quit)
            raise StopUser() from None
        headers = {"Authorization": f"Bearer {voter['id_token']}"}
        choice = random.choices(candidates, weights)[0]
        if voter["username"] in off_roll:
            ok, _, _ = self.vote(choice, headers, "/votes/[candidate] off roll", "off-roll vote",
                                 lambda statuses, reply: must_end_with(403, statuses, reply))
            if ok:
                with lock:
                    refused["off_roll"] += 1
            return

        def first_ballot(statuses, reply):
            return first_ballot_problem(statuses, body_of(reply), poll_id, choice)

        ok, ballot, statuses = self.vote(choice, headers, "/votes/[candidate]", "first ballot", first_ballot)
        if not ok:
            return
        with lock:
            accepted[choice] = accepted.get(choice, 0) + 1
            accepted_at.append(time.monotonic())
            if statuses[-1] == 200:
                first_200s["all"] += 1
                first_200s["unprompted"] += unprompted_200(statuses)
        roll = random.random()
        if roll < RETRY_SHARE:
            self.vote(choice, headers, "/votes/[candidate] resent", "resent ballot",
                      lambda statuses, reply: must_end_with(200, statuses, reply, ballot))
        elif roll < RETRY_SHARE + SWITCH_SHARE:
            other = random.choice([c for c in candidates if c != choice])
            self.vote(other, headers, "/votes/[candidate] switch", "second candidate",
                      lambda statuses, reply: must_end_with(409, statuses, reply))

    def vote(self, candidate, headers, name, what, judge):
        """POST /votes/{candidate}, resent while the answer is worth resending and tally_client.resend's policy allows.
        `judge(statuses, reply)` says what is wrong with the final answer, or None. Returns (True, the final
        answer's body, every attempt's status) when the judge is content; otherwise records the problem and
        returns (False, None, the statuses)."""
        statuses = []
        verdict = {}

        def send():
            attempt = name if not statuses else f"{name} (retry)"
            with self.client.post(f"/votes/{candidate}", json={"poll_id": poll_id}, headers=headers, name=attempt,
                                  catch_response=True) as reply:
                status = reply.status_code or LOST  # FastHttpUser answers 0 for a lost connection
                statuses.append(status)
                headers_got = dict(reply.headers.items()) if reply.headers else {}
                if worth_resending(status):
                    reply.failure(f"{what}: {status_text(status)}, worth a resend")
                    return status, headers_got, None
                problem = judge(statuses, reply)
                if problem:
                    reply.failure(f"{what}: {problem}")
                    verdict["problem"] = (status, problem, reply.text or "")
                    return status, headers_got, None
                reply.success()
                verdict["ballot"] = body_of(reply)
                return status, headers_got, verdict["ballot"]

        def count_retry(answer, wait):
            with lock:
                key = retry_key(answer[0])
                retries[key] = retries.get(key, 0) + 1

        send_until_answered(send, Backoff(), sleep=gevent.sleep, on_retry=count_retry)
        if "ballot" in verdict:
            return True, verdict["ballot"], statuses
        if "problem" in verdict:
            status, problem, text = verdict["problem"]
            note_unexpected(what, status, f"{problem}; {text}")
        else:  # the policy's time ran out while the answers were still worth resending
            note_unexpected(what, statuses[-1], f"gave up after {len(statuses)} attempts")
        return False, None, statuses


def must_end_with(status, statuses, reply, body=None):
    """The one answer a resent ballot (200, the same body), a second candidate (409) or an off-roll voter's vote
    (403) must end with."""
    if statuses[-1] == status and (body is None or body_of(reply) == body):
        return None
    return f"expected {status}, got {status_text(statuses[-1])} after {len(statuses) - 1} resends"


class OperatorUser(FastHttpUser):
    fixed_count = 1
    wait_time = constant_pacing(0.5)
    etag = None

    @task
    def watch_results(self):
        headers = {"Authorization": f"Bearer {os.environ['TALLY_LOADTEST_OPERATOR_TOKEN']}"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        with self.client.get(f"/polls/{poll_id}/results", headers=headers, name="/polls/[id]/results",
                             catch_response=True) as reply:
            if reply.status_code not in (200, 304):
                expect(reply, 200, "results")
                return
            reply.success()
            if reply.status_code == 200:
                self.etag = reply.headers.get("ETag")
                self.shown = reply.json()["total"]
        shown = getattr(self, "shown", 0)
        now = time.monotonic()
        with lock:
            # The oldest accepted vote the results do not show yet: how far behind the operator is.
            behind = accepted_at[shown] if shown < len(accepted_at) else None
            age = 0.0 if behind is None else (now - behind) * 1000
            staleness_ms.append(age)
        events.request.fire(request_type="STALENESS", name="results behind the 201s", response_time=age,
                            response_length=0, exception=None, context={})
