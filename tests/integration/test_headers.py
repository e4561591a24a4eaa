"""Headers every answer carries: nosniff everywhere; no-store on what concerns a signed-in caller."""
import json

import pytest

from tests.integration.helpers import create, vote


def answers(client, stack):
    create(client, stack)
    vote(client, stack, "red")
    voter = stack.voter()
    return {
        "health": client.get("/health"),
        "config": client.get("/config"),
        "polls": client.get("/polls", headers=voter),
        "vote": vote(client, stack, "red"),
        "mine": client.get("/votes/mine?poll_id=colours", headers=voter),
        "no ballot": client.get("/votes/mine?poll_id=colours", headers=stack.voter("nobody-yet")),
        "results": client.get("/polls/colours/results", headers=voter),
        "no token": client.get("/votes/mine"),
        "bad body": client.post("/polls", headers=stack.operator(), body="{"),
        "too large": client.post("/votes/red", headers=voter, body=json.dumps({"poll_id": "x" * 20_000})),
        "forbidden": client.post("/polls/colours/close", headers=voter),
    }


@pytest.fixture
def replies(client, stack):
    return answers(client, stack)


def test_every_answer_says_nosniff(replies):
    for name, reply in replies.items():
        assert reply.headers.get("X-Content-Type-Options") == "nosniff", name


def test_answers_about_the_caller_are_never_stored_and_results_revalidate(replies):
    for name in ("polls", "vote", "mine", "no ballot", "no token", "bad body", "too large", "forbidden"):
        assert replies[name].headers.get("Cache-Control") == "no-store", name
    assert replies["mine"].status_code == 200 and replies["no ballot"].status_code == 404
    assert replies["results"].headers["Cache-Control"] == "no-cache" and "ETag" in replies["results"].headers
    assert "Cache-Control" not in replies["health"].headers
    # The same for everyone and changed only by a deploy: shared caches keep it (api/caching.py).
    assert replies["config"].headers["Cache-Control"].startswith("public, ") and "ETag" in replies["config"].headers
