"""GET /public/polls/{poll_id}: the audience's one document, the same for everyone and cacheable by anyone.

Its results are there exactly when a signed-in voter may see them, for every `results` setting, status and
electorate; it never holds anything about one voter (a roll's members, who voted); its headers let shared
caches keep it; a token changes nothing."""
import json

import pytest

from chalicelib import runtime
from chalicelib.api import caching
from chalicelib.domain.polls import Candidate, Poll
from chalicelib.domain.times import later, utc_now
from tests.integration.helpers import accounts, add, body, close, create, vote

POLL = {"poll_id": "final-vote", "title": "Final vote", "candidates": ["ann", {"id": "bob", "label": "Bob B."}]}
FUTURE = "2099-01-01T00:00:00Z"
DOCUMENT_KEYS = {"poll_id", "title", "candidates", "status", "opens_at", "closes_at", "electorate", "results_mode",
                 "results_shown", "results_at", "final"}
# What a results answer's counts are: the timeline's empty buckets slide with the clock between two reads.
COUNTS = ("poll_id", "status", "total", "candidates", "as_of", "source", "turnout")


def public(client, poll_id="final-vote", headers=None):
    return client.get(f"/public/polls/{poll_id}", headers=headers or {})


def counts(view):
    return {k: view.get(k) for k in COUNTS}


def make_poll(client, stack, results, status, electorate):
    """The poll in `status`, with rita on its roll (a roll poll) and, once it has opened, rita's vote for ann."""
    poll = {**POLL, "results": results, "electorate": electorate}
    scheduled = status == "scheduled" or electorate == "roll"  # a roll is filled before the poll opens
    assert create(client, stack, {**poll, **({"opens_at": FUTURE} if scheduled else {})}).status_code == 201
    if electorate == "roll":
        assert add(client, stack, accounts(stack, "rita"), poll_id="final-vote").status_code == 200
    if status == "scheduled":
        return
    if scheduled:
        assert client.post("/polls/final-vote/open", headers=stack.operator()).status_code == 200
    assert vote(client, stack, "ann", "final-vote", voter="rita").status_code == 201
    if status == "closed":
        close(client, stack, "final-vote")


@pytest.mark.parametrize("electorate", ["open", "roll"])
@pytest.mark.parametrize("status", ["scheduled", "open", "closed"])
@pytest.mark.parametrize("results", ["live", "after_close", "operators"])
def test_results_are_in_the_document_exactly_when_a_voter_may_see_them(client, stack, drain, results, status,
                                                                       electorate):
    make_poll(client, stack, results, status, electorate)
    drain()
    response = public(client)
    assert response.status_code == 200
    document = body(response)
    shown = results == "live" or (results == "after_close" and status == "closed")
    assert set(document) == DOCUMENT_KEYS | ({"results"} if shown else set())
    poll = body(client.get("/polls/final-vote", headers=stack.operator()))
    assert {k: document[k] for k in ("poll_id", "title", "candidates", "status", "opens_at", "closes_at",
                                     "electorate")} == {k: poll[k] for k in ("poll_id", "title", "candidates",
                                                                             "status", "opens_at", "closes_at",
                                                                             "electorate")}
    assert document["status"] == status and document["results_mode"] == results
    assert document["results_shown"] is shown and document["final"] is False
    assert document["results_at"] == (None if results == "operators" else poll["closes_at"])
    voter_sees = client.get("/polls/final-vote/results", headers=stack.voter("rita"))
    assert voter_sees.status_code == (200 if shown else 403)
    if shown:
        # The voter's answer, nothing more: counts, shares, the timeline, a roll poll's turnout as two totals.
        assert set(document["results"]) == set(body(voter_sees))
        assert counts(document["results"]) == counts(body(voter_sees))
        assert document["results"]["total"] == (0 if status == "scheduled" else 1)
        if electorate == "roll":
            assert document["results"]["turnout"] == {"cast": document["results"]["total"], "roll": 1}
    # Nothing about any one person: not the roll's members, not who voted, not the operator.
    text = json.dumps(document)
    for person in ("rita", stack.sub("rita"), stack.voter_id("rita"), "olga", stack.sub("olga")):
        assert person not in text


def test_a_token_changes_nothing_not_even_an_operators(client, stack, drain):
    make_poll(client, stack, "after_close", "open", "open")
    drain()
    anonymous = public(client)
    for headers in (stack.voter("rita"), stack.operator(), {"Authorization": "Bearer not-a-token"},
                    {"Authorization": "Basic b3BlcmF0b3I6eA=="}):
        signed = public(client, headers=headers)
        assert signed.status_code == 200 and signed.headers["ETag"] == anonymous.headers["ETag"]
        assert body(signed) == body(anonymous) and "results" not in body(signed)
        assert signed.headers["Cache-Control"] == anonymous.headers["Cache-Control"]
        assert "Vary" not in signed.headers  # one copy in a shared cache serves everyone


def test_an_open_polls_document_is_cacheable_by_anyone_for_a_second(client, stack, drain):
    make_poll(client, stack, "live", "open", "open")
    drain()
    response = public(client)
    assert response.headers["Cache-Control"] == caching.LIVE
    directives = dict(d.partition("=")[::2] for d in response.headers["Cache-Control"].split(", "))
    assert "public" in directives and directives["max-age"] == directives["s-maxage"] == "1"
    assert int(directives["stale-while-revalidate"]) > 0 and int(directives["stale-if-error"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers.get("Access-Control-Expose-Headers", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unchanged_document_is_a_304_and_a_counted_vote_changes_its_tag(client, stack, drain):
    make_poll(client, stack, "live", "open", "open")
    drain()
    tag = public(client).headers["ETag"]
    for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        unchanged = public(client, headers={"If-None-Match": sent})
        assert unchanged.status_code == 304 and unchanged.body in (b"", ""), sent
        assert unchanged.headers["ETag"] == tag and unchanged.headers["Cache-Control"] == caching.LIVE
    assert vote(client, stack, "bob", "final-vote", voter="ravi").status_code == 201
    drain()
    changed = public(client, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag and body(changed)["results"]["total"] == 2


def test_hidden_results_show_once_the_poll_closes_under_a_new_tag(client, stack, drain):
    make_poll(client, stack, "after_close", "open", "open")
    drain()
    hidden = public(client)
    assert "results" not in body(hidden)
    close(client, stack, "final-vote")
    shown = public(client, headers={"If-None-Match": hidden.headers["ETag"]})
    assert shown.status_code == 200 and body(shown)["results"]["total"] == 1
    assert body(shown)["results_at"] == body(shown)["closes_at"] <= utc_now()


def store(poll_id, results, closed_seconds_ago):
    """A poll written as the poll store keeps it, closed some time ago: the API cannot make one in the past."""
    now = utc_now()
    closes_at = later(now, -closed_seconds_ago)
    poll = Poll(poll_id=poll_id, title="Long closed", candidates=(Candidate("ann", "ann"), Candidate("bob", "bob")),
                created_at=later(closes_at, -3600), closes_at=closes_at, results=results)
    runtime.get().poll_store.add(poll)


@pytest.mark.parametrize("results", ["live", "after_close", "operators"])
def test_a_closed_and_settled_document_is_final_and_cached_for_long(client, stack, results):
    store("settled", results, closed_seconds_ago=3600)
    store("settling", results, closed_seconds_ago=2)
    settled, settling = public(client, "settled"), public(client, "settling")
    assert body(settled)["final"] is True and settled.headers["Cache-Control"] == caching.FINAL
    assert body(settling)["final"] is False and settling.headers["Cache-Control"] == caching.LIVE
    assert body(settled)["status"] == body(settling)["status"] == "closed"
    assert ("results" in body(settled)) is (results != "operators")
    assert int(dict(d.partition("=")[::2] for d in caching.FINAL.split(", "))["s-maxage"]) >= 60


def test_an_unknown_poll_is_a_404_cacheable_for_a_few_seconds(client, stack):
    response = public(client, "no-such-poll")
    assert response.status_code == 404 and body(response)["Code"] == "NotFoundError"
    assert "no-such-poll" in body(response)["Message"]
    assert response.headers["Cache-Control"] == caching.MISSING
    seconds = int(dict(d.partition("=")[::2] for d in caching.MISSING.split(", "))["s-maxage"])
    assert 1 <= seconds <= 10 and response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("poll_id", ["No_Such", "-dash-first", "x" * 64, "caf%C3%A9"])
def test_a_malformed_id_is_a_400_cacheable_as_briefly(client, stack, poll_id):
    response = public(client, poll_id)
    assert response.status_code == 400 and body(response)["Code"] == "BadRequestError"
    assert "poll_id" in body(response)["Message"] and response.headers["Cache-Control"] == caching.MISSING


def test_a_query_parameter_is_refused_and_that_refusal_is_never_cached(client, stack):
    # A cache keys on the path alone: a refusal of `?x=1` kept for the path would answer every viewer.
    create(client, stack, POLL)
    response = client.get("/public/polls/final-vote?t=1")
    assert response.status_code == 400 and "Unknown query parameters" in body(response)["Message"]
    assert response.headers["Cache-Control"] == "no-store"


def test_hidden_results_cost_no_read_of_the_counts(client, stack, drain):
    make_poll(client, stack, "operators", "open", "open")
    drain()
    public(client)
    calls = []
    runtime.get().dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    assert "results" not in body(public(client))
    assert "Query" not in calls  # at most the poll, when the function's copy is older than its TTL


def test_config_is_cacheable_by_anyone_with_a_tag(client, stack):
    first = client.get("/config")
    assert first.status_code == 200 and first.headers["Cache-Control"] == caching.CONFIG
    again = client.get("/config", headers={"If-None-Match": first.headers["ETag"], **stack.voter()})
    assert again.status_code == 304 and again.headers["Cache-Control"] == caching.CONFIG


def test_operators_only_results_are_refused_to_voters_and_shown_to_operators(client, stack, drain):
    created = create(client, stack, {**POLL, "results": "operators"})
    assert created.status_code == 201 and body(created)["results"] == "operators"
    assert vote(client, stack, "ann", "final-vote", voter="rita").status_code == 201
    drain()
    refused = client.get("/polls/final-vote/results", headers=stack.voter("rita"))
    assert refused.status_code == 403 and "operators only" in body(refused)["Message"]
    assert body(client.get("/polls/final-vote/results", headers=stack.operator()))["total"] == 1
    close(client, stack, "final-vote")
    assert client.get("/polls/final-vote/results", headers=stack.voter("rita")).status_code == 403
    assert "results" not in body(public(client))
