"""GET /polls/{id}/results: exact totals once the stream is drained, a timeline, ETags, visibility."""
from chalicelib import runtime
from devstack.processes import free_port
from tests.integration.helpers import COLOURS, body, close, create, vote


def results(client, stack, poll_id="colours", who=None, etag=None):
    headers = dict(who or stack.operator())
    if etag:
        headers["If-None-Match"] = etag
    return client.get(f"/polls/{poll_id}/results", headers=headers)


def test_totals_shares_and_timeline(client, stack, drain):
    create(client, stack)
    for i, candidate in enumerate(["red", "red", "red", "blue"]):
        vote(client, stack, candidate, voter=f"v{i}")
    drain()
    response = results(client, stack)
    assert response.status_code == 200
    view = body(response)
    assert view["poll_id"] == "colours" and view["status"] == "open" and view["total"] == 4
    assert view["candidates"] == [{"id": "red", "label": "red", "votes": 3, "share": 0.75},
                                  {"id": "blue", "label": "Blue", "votes": 1, "share": 0.25}]
    assert sum(point["votes"] for point in view["timeline"]) == 4
    assert {point["seconds"] for point in view["timeline"]} == {1}
    assert view["as_of"].endswith("Z") and view["source"] == "index"


def test_an_empty_poll_has_zero_shares(client, stack):
    create(client, stack)
    first = results(client, stack)
    view = body(first)
    assert view["total"] == 0 and all(c["votes"] == 0 and c["share"] == 0 for c in view["candidates"])
    assert view["as_of"] == view_of_poll(client, stack)["created_at"]
    assert results(client, stack, etag=first.headers["ETag"]).status_code == 304  # idle costs a 304


def view_of_poll(client, stack):
    return body(client.get("/polls/colours", headers=stack.voter()))


def test_an_unchanged_result_is_a_304_and_a_new_vote_changes_the_tag(client, stack, drain):
    create(client, stack)
    vote(client, stack, "red", voter="first")
    drain()
    first = results(client, stack)
    tag = first.headers["ETag"]
    unchanged = results(client, stack, etag=tag)
    assert unchanged.status_code == 304 and unchanged.body in (b"", "") and unchanged.headers["ETag"] == tag
    vote(client, stack, "blue", voter="second")
    drain()
    changed = results(client, stack, etag=tag)
    assert changed.status_code == 200 and changed.headers["ETag"] != tag and body(changed)["total"] == 2
    new_tag = changed.headers["ETag"]
    for sent in (f'"other", {new_tag}', f"W/{new_tag}", "*"):  # a list, a weak tag (a proxy made it), anything
        assert results(client, stack, etag=sent).status_code == 304, sent
    assert results(client, stack, etag='"other"').status_code == 200


def test_closing_a_poll_changes_the_tag_even_with_no_new_vote(client, stack, drain):
    create(client, stack)
    vote(client, stack, "red")
    drain()
    tag = results(client, stack).headers["ETag"]
    close(client, stack)
    after = results(client, stack, etag=tag)
    assert after.status_code == 200 and body(after)["status"] == "closed" and body(after)["total"] == 1


def test_after_close_results_are_for_operators_until_the_poll_closes(client, stack, drain):
    create(client, stack, {**COLOURS, "results": "after_close"})
    vote(client, stack, "red")
    drain()
    hidden = results(client, stack, who=stack.voter())
    assert hidden.status_code == 403 and "once it closes" in body(hidden)["Message"]
    assert results(client, stack).status_code == 200
    close(client, stack)
    shown = results(client, stack, who=stack.voter())
    assert shown.status_code == 200 and body(shown)["status"] == "closed" and body(shown)["total"] == 1


def test_live_results_are_for_everyone_signed_in(client, stack):
    create(client, stack)
    assert results(client, stack, who=stack.voter()).status_code == 200
    assert client.get("/polls/colours/results").status_code == 401


def test_unknown_and_malformed_polls(client, stack):
    assert results(client, stack, poll_id="nope").status_code == 404
    assert results(client, stack, poll_id="No_Such").status_code == 400


def test_when_the_index_is_unreachable_the_totals_come_from_the_tallies(client, stack, drain, monkeypatch):
    create(client, stack)
    for i, candidate in enumerate(["red", "blue", "blue"]):
        vote(client, stack, candidate, voter=f"v{i}")
    drain()
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    runtime.reset()
    response = results(client, stack)
    assert response.status_code == 200
    view = body(response)
    assert view["source"] == "tallies" and view["total"] == 3 and view["timeline"] == []
    assert [c["votes"] for c in view["candidates"]] == [1, 2]
