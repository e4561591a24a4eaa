"""Every route of openapi.yaml and every status it names, through chalice.test.Client against moto."""
import json

from devstack import cognito
from tests.integration.helpers import COLOURS, body, close, create, vote


def test_health_is_public(client):
    response = client.get("/health")
    assert response.status_code == 200 and body(response) == {"status": "ok"}


def test_config_tells_a_client_how_to_sign_in_and_holds_no_secret(client, stack):
    response = client.get("/config")
    assert response.status_code == 200
    config = body(response)
    assert config == {"region": "us-east-1", "user_pool_id": stack.pool_id, "client_id": stack.client_id,
                      "cognito_endpoint": None, "self_signup": False, "limits": config["limits"],
                      "operators_group": cognito.OPERATORS_GROUP}  # the template's group: clients take it from here
    assert config["limits"]["max_candidates"] == 100 and config["limits"]["reserved_ids"] == ["mine"]
    assert config["limits"]["max_body_bytes"] == 16 * 1024


def test_an_operator_creates_a_poll_that_is_open_at_once(client, stack):
    response = create(client, stack)
    assert response.status_code == 201
    poll = body(response)
    assert poll["poll_id"] == "colours" and poll["status"] == "open" and poll["results"] == "live"
    assert poll["candidates"] == [{"id": "red", "label": "red"}, {"id": "blue", "label": "Blue"}]
    assert poll["opens_at"] is None and poll["closes_at"] is None and poll["created_at"].endswith("Z")
    assert response.headers["Location"] == "/polls/colours"


def test_a_taken_poll_id_is_a_conflict(client, stack):
    create(client, stack)
    response = create(client, stack, {**COLOURS, "title": "Again"})
    assert response.status_code == 409 and body(response)["Code"] == "ConflictError"
    assert body(client.get("/polls/colours", headers=stack.voter()))["title"] == "Best colour"


def test_signed_in_callers_list_and_read_polls(client, stack):
    create(client, stack)
    create(client, stack, {**COLOURS, "poll_id": "shapes", "candidates": ["circle", "square"]})
    listed = client.get("/polls", headers=stack.voter())
    assert listed.status_code == 200
    assert {p["poll_id"] for p in body(listed)["polls"]} == {"colours", "shapes"}
    one = client.get("/polls/shapes", headers=stack.voter())
    assert one.status_code == 200 and body(one)["title"] == "Best colour"


def test_an_unknown_poll_is_not_found(client, stack):
    for response in (client.get("/polls/nope", headers=stack.voter()),
                     client.post("/polls/nope/open", headers=stack.operator()),
                     client.post("/polls/nope/close", headers=stack.operator()),
                     vote(client, stack, "red", "nope")):
        assert response.status_code == 404, response.body
        assert body(response)["Code"] == "NotFoundError" and "nope" in body(response)["Message"]


def test_a_scheduled_poll_opens_on_request_and_a_closed_one_stays_closed(client, stack):
    create(client, stack, {**COLOURS, "opens_at": "2099-01-01T00:00:00Z"})
    assert body(client.get("/polls/colours", headers=stack.voter()))["status"] == "scheduled"
    assert vote(client, stack, "red").status_code == 409
    opened = client.post("/polls/colours/open", headers=stack.operator())
    assert opened.status_code == 200 and body(opened)["status"] == "open"
    closing = client.post("/polls/colours/close", headers=stack.operator())
    assert closing.status_code == 200 and body(closing)["status"] == "open" and body(closing)["closes_at"]
    again = client.post("/polls/colours/close", headers=stack.operator())
    assert again.status_code == 200 and body(again)["closes_at"] == body(closing)["closes_at"]
    close(client, stack)
    closed_twice = client.post("/polls/colours/close", headers=stack.operator())
    assert closed_twice.status_code == 409 and "closed already" in body(closed_twice)["Message"]
    reopened = client.post("/polls/colours/open", headers=stack.operator())
    assert reopened.status_code == 409 and "closed" in body(reopened)["Message"]


def test_a_vote_is_201_then_200_for_the_same_ballot_and_409_for_another(client, stack):
    create(client, stack)
    first = vote(client, stack, "red")
    assert first.status_code == 201
    ballot = body(first)
    assert ballot["poll_id"] == "colours" and ballot["candidate"] == "red" and ballot["cast_at"].endswith("Z")
    again = vote(client, stack, "red")
    assert again.status_code == 200 and body(again) == ballot
    other = vote(client, stack, "blue")
    assert other.status_code == 409 and "already voted for red" in body(other)["Message"]
    assert stack.ballots("colours") == {stack.voter_id("vera"): "red"}


def test_votes_for_a_closed_poll_are_refused_but_a_resent_ballot_is_answered(client, stack):
    create(client, stack)
    vote(client, stack, "red", voter="early")
    close(client, stack)
    late = vote(client, stack, "red", voter="late")
    assert late.status_code == 409 and "closed" in body(late)["Message"]
    assert vote(client, stack, "red", voter="early").status_code == 200
    assert set(stack.ballots("colours").values()) == {"red"} and len(stack.ballots("colours")) == 1


def test_an_unknown_candidate_is_not_found(client, stack):
    create(client, stack)
    response = vote(client, stack, "green")
    assert response.status_code == 404 and "no candidate green" in body(response)["Message"]


def test_poll_id_may_be_left_out_when_exactly_one_poll_is_open(client, stack):
    none_open = vote(client, stack, "red", poll_id=None)
    assert none_open.status_code == 400 and "0 polls are open" in body(none_open)["Message"]
    create(client, stack)
    only = vote(client, stack, "red", poll_id=None)
    assert only.status_code == 201 and body(only)["poll_id"] == "colours"
    create(client, stack, {**COLOURS, "poll_id": "second"})
    several = vote(client, stack, "red", poll_id=None, voter="walt")
    assert several.status_code == 400 and "2 polls are open" in body(several)["Message"]


def test_my_ballot_reads_back_and_is_404_before_voting(client, stack):
    create(client, stack)
    before = client.get("/votes/mine?poll_id=colours", headers=stack.voter())
    assert before.status_code == 404 and body(before)["Code"] == "NotFoundError"
    cast = body(vote(client, stack, "blue"))
    mine = client.get("/votes/mine?poll_id=colours", headers=stack.voter())
    assert mine.status_code == 200 and body(mine) == cast
    assert body(client.get("/votes/mine", headers=stack.voter())) == cast
    assert client.get("/votes/mine?poll_id=nope", headers=stack.voter()).status_code == 404
    assert client.get("/votes/mine?poll_id=Bad_Id", headers=stack.voter()).status_code == 400


def test_voters_cannot_manage_polls(client, stack):
    create(client, stack)
    for response in (client.post("/polls", headers=stack.voter(), body=json.dumps({**COLOURS, "poll_id": "mine"})),
                     client.post("/polls/colours/open", headers=stack.voter()),
                     client.post("/polls/colours/close", headers=stack.voter())):
        assert response.status_code == 403
        assert body(response) == {"Code": "ForbiddenError",
                                  "Message": "Only members of the operators group can manage polls."}
    assert body(client.get("/polls/colours", headers=stack.voter()))["status"] == "open"
    assert client.get("/polls/mine", headers=stack.voter()).status_code == 404
