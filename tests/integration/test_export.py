"""The results export: the counts GET /results shows, as one CSV table for operators, and never a voter."""
import csv
import io
import json

from chalicelib.events.tally import tally_ballots
from tests.integration.helpers import BOARD, COLOURS, accounts, add, body, create, runner_for, vote


def exported(client, stack, poll_id):
    response = client.get(f"/polls/{poll_id}/results.csv", headers=stack.operator())
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{poll_id}-results.csv"'
    text = response.body.decode() if isinstance(response.body, bytes) else response.body
    return text, list(csv.DictReader(io.StringIO(text)))


def test_a_roll_polls_export_holds_totals_shares_turnout_and_timeline(client, stack, stream, dead_letters):
    formula = {"id": "bob", "label": "=HYPERLINK(\"x\")"}
    assert create(client, stack, {**BOARD, "candidates": ["ann", formula]}).status_code == 201
    voters = accounts(stack, "rita", "ravi", "rosa", "rudi")
    assert body(add(client, stack, voters))["added"] == 4
    for name, choice in zip(voters[:3], ["ann", "ann", "bob"], strict=True):
        assert vote(client, stack, choice, "board", voter=name).status_code == 201
    runner_for(stream, dead_letters, tally_ballots).drain()

    text, rows = exported(client, stack, "board")
    assert text.splitlines()[0] == "section,id,label,votes,share,at,seconds"
    by_section = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    (poll,) = by_section["poll"]
    assert (poll["id"], poll["label"], poll["votes"]) == ("board", "Board election", "3")
    assert [r["id"] for r in by_section["status"]] == ["open"]
    assert [(r["id"], r["label"], r["votes"], r["share"]) for r in by_section["candidate"]] == [
        ("ann", "ann", "2", "0.6667"), ("bob", "'=HYPERLINK(\"x\")", "1", "0.3333")]  # a formula stays text
    assert [(r["id"], r["votes"], r["share"]) for r in by_section["turnout"]] == [("cast", "3", "0.75"),
                                                                                ("roll", "4", "")]
    assert sum(int(r["votes"]) for r in by_section["timeline"]) == 3
    assert {r["seconds"] for r in by_section["timeline"]} <= {"1", "60"}
    # Counts only: no voter, pseudonym or token reaches the file.
    for name in voters:
        assert name not in text and stack.sub(name) not in text and stack.voter_id(name) not in text


def test_an_open_polls_export_has_no_turnout_and_only_operators_get_it(client, stack):
    assert create(client, stack, COLOURS).status_code == 201
    assert vote(client, stack, "red").status_code == 201
    _, rows = exported(client, stack, "colours")
    assert {row["section"] for row in rows} >= {"poll", "status", "candidate"}
    assert "turnout" not in {row["section"] for row in rows}
    refused = client.get("/polls/colours/results.csv", headers=stack.voter())
    assert refused.status_code == 403 and json.loads(refused.body)["Code"] == "ForbiddenError"
    assert client.get("/polls/nope/results.csv", headers=stack.operator()).status_code == 404
