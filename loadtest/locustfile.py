"""Simulated voters and operators for locust. Run through `make loadtest` (loadtest/__main__.py), which
provisions the voters, creates the poll, and reconciles the counts afterwards.

VoterUser takes the next unused voter from the provisioned file and votes once, on a Zipf-like curve over the
candidates. Some voters resend their ballot, as a flaky network would, and must get 200 with the same body;
some try a second candidate and must get 409. OperatorUser watches the results with If-None-Match and records
how stale they are: the age of the oldest accepted vote the results do not show yet.
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

RETRY_SHARE = 0.10
SWITCH_SHARE = 0.05
ZIPF_EXPONENT = 1.2

voters: "queue.Queue[dict]" = queue.Queue()
candidates = []
weights = []
poll_id = ""
lock = threading.Lock()
accepted = {}  # candidate -> 201s
accepted_at = []  # monotonic time of each 201, in order
unexpected = []  # (what, status, body) of every answer that was not what it must be
staleness_ms = []
finished = threading.Event()


@events.init.add_listener
def load_run(environment, **_kwargs):
    global poll_id
    setup = json.loads(open(os.environ["TALLY_LOADTEST_SETUP"]).read())
    poll_id = setup["poll_id"]
    candidates.extend(setup["candidates"])
    weights.extend(1 / (rank ** ZIPF_EXPONENT) for rank in range(1, len(candidates) + 1))
    for voter in json.loads(open(setup["voters_file"]).read())["voters"][:setup["voters"]]:
        voters.put(voter)


@events.test_stop.add_listener
def write_outcome(environment, **_kwargs):
    votes = environment.stats.get("/votes/[candidate]", "POST")
    figures = {"votes_per_second": votes.total_rps, "vote_p50_ms": votes.get_response_time_percentile(0.5),
               "vote_p95_ms": votes.get_response_time_percentile(0.95),
               "requests_total": environment.stats.total.num_requests}
    with lock:
        outcome = {"accepted": accepted, "accepted_total": sum(accepted.values()), "unexpected": unexpected[:50],
                   "unexpected_total": len(unexpected), "staleness_ms": staleness_ms, "figures": figures}
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
        body = {"poll_id": poll_id}
        with self.client.post(f"/votes/{choice}", json=body, headers=headers, name="/votes/[candidate]",
                              catch_response=True) as first:
            if not expect(first, 201, "first ballot"):
                return
            with lock:
                accepted[choice] = accepted.get(choice, 0) + 1
                accepted_at.append(time.monotonic())
            ballot = first.json()
        roll = random.random()
        if roll < RETRY_SHARE:
            with self.client.post(f"/votes/{choice}", json=body, headers=headers, name="/votes/[candidate] resent",
                                  catch_response=True) as again:
                expect(again, 200, "resent ballot", ballot)
        elif roll < RETRY_SHARE + SWITCH_SHARE:
            other = random.choice([c for c in candidates if c != choice])
            with self.client.post(f"/votes/{other}", json=body, headers=headers, name="/votes/[candidate] switch",
                                  catch_response=True) as switch:
                expect(switch, 409, "second candidate")


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
