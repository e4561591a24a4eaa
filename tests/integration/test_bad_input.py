"""A client's mistake gets a 400 or 413 that says what is wrong, and nothing is written."""
import json

import pytest

from tests.integration.helpers import COLOURS, body, create


def polls_count(stack):
    return stack.dynamodb.scan(TableName=stack.settings.polls_table)["Count"]


def ballots_count(stack):
    return stack.dynamodb.scan(TableName=stack.settings.ballots_table)["Count"]


@pytest.mark.parametrize("raw, words", [
    ("{not json", "not valid JSON"),
    ('{"title": "x", "candidates": ["a", "b"]', "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"a string"', "must be a JSON object"),
    ("", "needs a JSON object"),
    (b"\xff\xfe{}", "not valid JSON"),
    ("[" * 5000, "nests too deeply"),
])
def test_malformed_poll_bodies(client, stack, raw, words):
    response = client.post("/polls", headers=stack.operator(), body=raw)
    assert response.status_code == 400, response.body
    assert body(response)["Code"] == "BadRequestError" and words in body(response)["Message"]
    assert polls_count(stack) == 0


@pytest.mark.parametrize("poll, words", [
    ({"title": 42}, "title must be a string"),
    ({"title": "x" * 201}, "at most 200 characters"),
    ({"candidates": {"red": "Red"}}, "candidates must be a list"),
    ({"candidates": ["red", None]}, "candidates[1] must be an id string"),
    ({"candidates": ["red", {"id": "blue", "label": "L" * 201}]}, "at most 200 characters"),
    ({"candidates": ["red", "Not An Id"]}, "lowercase letters"),
    ({"poll_id": "UPPER"}, "poll_id must be 1 to 63"),
    ({"poll_id": 12}, "poll_id must be 1 to 63"),
    ({"opens_at": 1732269600}, "ISO 8601"),
    ({"opens_at": "0001-01-01T00:00:00+01:00"}, "between the years"),  # cannot even be moved to UTC
    ({"closes_at": "9999-12-31T23:59:59-01:00"}, "between the years"),
    ({"opens_at": "0999-01-01T00:00:00Z"}, "between the years"),  # would be stored as "999-...", unordered
    ({"title": "\ud800 lone surrogate"}, "valid Unicode"),
    ({"candidates": ["red", {"id": "blue", "label": "\udfff"}]}, "valid Unicode"),
    ({"results": True}, "results must be"),
    ({"extra": 1}, "Unknown fields: extra"),
])
def test_invalid_polls(client, stack, poll, words):
    response = client.post("/polls", headers=stack.operator(), body=json.dumps({**COLOURS, **poll}))
    assert response.status_code == 400, response.body
    assert words in body(response)["Message"]
    assert polls_count(stack) == 0


@pytest.mark.parametrize("candidate, raw, words", [
    ("red", "{oops", "not valid JSON"),
    ("red", "[]", "must be a JSON object"),
    ("red", "[" * 5000, "nests too deeply"),
    ("red", json.dumps({"poll_id": 7}), "poll_id must be a string"),
    ("red", json.dumps({"poll_id": "../etc"}), "poll_id must be 1 to 63"),
    ("red", json.dumps({"poll_id": "colours", "candidate": "blue"}), "Unknown fields: candidate"),
    ("RED", json.dumps({"poll_id": "colours"}), "candidate must be 1 to 63"),
    ("r" * 64, json.dumps({"poll_id": "colours"}), "candidate must be 1 to 63"),
    ("red%20blue", json.dumps({"poll_id": "colours"}), "candidate must be 1 to 63"),
])
def test_invalid_votes(client, stack, candidate, raw, words):
    create(client, stack)
    response = client.post(f"/votes/{candidate}", headers=stack.voter(), body=raw)
    assert response.status_code == 400, response.body
    assert words in body(response)["Message"]
    assert ballots_count(stack) == 0


@pytest.mark.parametrize("path", ["/polls", "/votes/red"])
def test_bodies_over_16_kib_are_refused(client, stack, path):
    create(client, stack)
    big = json.dumps({"poll_id": "colours", "title": "x" * 17000})
    response = client.post(path, headers=stack.operator(), body=big)
    assert response.status_code == 413
    assert body(response)["Code"] == "PayloadTooLargeError" and "16 KiB" in body(response)["Message"]
    assert polls_count(stack) == 1 and ballots_count(stack) == 0


def test_a_body_of_exactly_16_kib_is_read(client, stack):
    padding = 16 * 1024 - len(json.dumps({**COLOURS, "title": ""}))
    response = client.post("/polls", headers=stack.operator(), body=json.dumps({**COLOURS, "title": "x" * padding}))
    assert response.status_code == 400 and "at most 200" in body(response)["Message"]


def test_a_body_in_another_media_type_is_refused(client, stack):
    headers = {**stack.operator(), "Content-Type": "text/plain"}
    response = client.post("/polls", headers=headers, body=json.dumps(COLOURS))
    assert response.status_code == 415 and polls_count(stack) == 0
