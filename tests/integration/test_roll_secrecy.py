"""A roll vote is secret from its own operator, and from whoever reads its tables, its stream or its logs.

The operator knows the roll (names) and sees the live counts. If any answer of theirs depended on whether one
person had voted, probing the roll voter by voter while the counts move would tell them who voted for whom
(issue 18: 4 of 4 voters in 10 requests, through roll/remove). These tests play that attack, and then look for
a link from a name to a ballot in everything a vote leaves behind.
"""
import functools
import json
import re

import pytest

from chalicelib.adapters.dynamo_ballots import BLANK
from devstack import moto_patches
from tests.integration.helpers import BOARD, accounts, add, all_records, body, create, stored, vote

ROLL = ["rita", "ravi", "rosa", "rudi"]
CHOICES = {"rita": "ann", "ravi": "bob", "rosa": "ann", "rudi": "bob"}


def operator_view(client, stack, name):
    """Everything an operator can ask that names one voter, with the name itself taken out of the answers."""
    op = stack.operator()

    def answer(response):
        return response.status_code, re.sub(rf"\b{name}\b", "<voter>", response.body.decode())

    listing = body(client.get("/polls/board/roll", headers=op))
    entry = [{**v, "username": "<voter>"} for v in listing["voters"] if v["username"] == name]
    return {
        "remove": answer(client.post("/polls/board/roll/remove", headers=op, body=json.dumps({"voters": [name]}))),
        "add again": answer(client.post("/polls/board/roll", headers=op, body=json.dumps({"voters": [name]}))),
        "roll entry": entry,
    }


def shared_view(client, stack):
    """What an operator can ask that names no voter: the poll, the roll's size, the results and their export."""
    op = stack.operator()
    results = body(client.get("/polls/board/results", headers=op))
    return {"poll": body(client.get("/polls/board", headers=op)),
            "size": body(client.get("/polls/board/roll", headers=op))["size"],
            "counts": ({c["id"]: c["votes"] for c in results["candidates"]}, results["turnout"]),
            "export": client.get("/polls/board/results.csv", headers=op).body.decode().count("\n")}


def test_while_the_poll_is_open_no_operator_answer_says_whether_a_voter_has_voted(client, stack):
    assert create(client, stack, {**BOARD, "results": "live"}).status_code == 201
    assert add(client, stack, accounts(stack, *ROLL)).status_code == 200
    voted = ROLL[:2]
    for name in voted:
        assert vote(client, stack, CHOICES[name], "board", voter=name).status_code == 201

    before = shared_view(client, stack)
    views = {name: operator_view(client, stack, name) for name in ROLL}
    after = shared_view(client, stack)

    assert views["rita"] == views["ravi"] == views["rosa"] == views["rudi"], "the answers differ by voter"
    assert views["rita"]["remove"][0] == 409, "a removal while open is refused, for every voter alike"
    assert json.loads(views["rita"]["add again"][1])["already"] == 1
    assert before["counts"] == after["counts"] and before["size"] == after["size"] == len(ROLL), \
        "the probes moved the counts or the roll"

    # The rest vote; probing again still tells nothing, and the operator's best guess of each ballot from what
    # they saw is one guess for all four: right for half, as a coin would be.
    for name in ROLL[2:]:
        assert vote(client, stack, CHOICES[name], "board", voter=name).status_code == 201
    views_after = {name: operator_view(client, stack, name) for name in ROLL}
    assert all(views_after[name] == views[name] for name in ROLL)
    observed = {name: json.dumps(views_after[name], sort_keys=True) for name in ROLL}
    guess = {seen: "ann" for seen in observed.values()}  # any rule from observation to candidate: one value here
    right = sum(guess[observed[name]] == CHOICES[name] for name in ROLL)
    assert right / len(ROLL) == 0.5


def test_a_roll_entry_and_its_ballot_are_not_linked_by_time_order_or_logs(client, stack, stream, log_lines):
    names = [f"member-{i:02d}" for i in range(30)]  # sent in this order
    assert create(client, stack, {**BOARD, "results": "live"}).status_code == 201
    assert add(client, stack, accounts(stack, *names)).status_code == 200
    for name in names[:10]:
        assert vote(client, stack, "ann" if name[-1] in "02468" else "bob", "board", voter=name).status_code == 201

    # The roll table: names, and the day only. An added time to the millisecond would match the blank's record.
    entries = stored(stack, stack.settings.rolls_table)
    assert len(entries) == 30
    for entry in entries:
        assert set(entry) == {"poll_id", "username", "added_on"}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["added_on"]["S"])

    # The stream: the blanks come in the order of their own (keyed) ids, not the order the names were sent in.
    _, records = all_records(stream)
    blanks = [r["dynamodb"]["NewImage"] for r in records
              if r["eventName"] == "INSERT" and BLANK in r["dynamodb"].get("NewImage", {})]
    ids = [image["voter_id"]["S"] for image in blanks]
    assert len(ids) == 30 and ids == sorted(ids)
    assert ids != [stack.voter_id(name) for name in names], "the stream replays the request's order"

    # The ballots table and the stream hold pseudonyms only: no name, email or sub.
    everything = json.dumps([r["dynamodb"] for r in records]) + json.dumps(stack.ballot_items("board"))
    for name in names[:10]:
        assert name not in everything and stack.sub(name) not in everything

    # The logs: a vote's lines name no voter, even by handle, and no line with a handle names a candidate.
    lines = log_lines()
    assert [line for line in lines if line["message"].startswith("vote") and "voter" in line] == []
    for line in lines:
        if "voter" in line:
            assert not {"ann", "bob"} & set(re.findall(r"[a-z]+", json.dumps(line))), line


OWNER = "ona.owner@example.org"
PASSWORD = "Correct-horse-42"


@pytest.fixture
def moto_confirms_as_cognito(monkeypatch):
    # ConfirmSignUp verifies the email it proved, as on Cognito (devstack/moto_patches.py, as the local stack runs).
    moto_patches.teach_moto(functools.partial(monkeypatch.setattr, raising=False))


def test_an_entry_by_email_binds_only_to_the_account_that_proved_the_address(client, stack, moto_confirms_as_cognito):
    assert create(client, stack, BOARD).status_code == 201
    # Someone signs up with the owner's address as username and email, and can never confirm it (the code goes
    # to the owner); another account names the same address and never verifies it either.
    stack.idp.sign_up(ClientId=stack.client_id, Username=OWNER, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": OWNER}])
    stack.tokens("sam-squat")  # a confirmed account, signed in
    stack.idp.admin_update_user_attributes(UserPoolId=stack.pool_id, Username="sam-squat",
                                           UserAttributes=[{"Name": "email", "Value": OWNER}])
    assert body(add(client, stack, [OWNER])) == {"added": 0, "already": 0, "invited": 0, "unknown": [OWNER]}
    assert stored(stack, stack.settings.rolls_table) == []

    # With an invitation, the owner gets an account of their own at that address; the squatter's is gone.
    assert body(add(client, stack, [OWNER], invite=True)) == {"added": 1, "already": 0, "invited": 1, "unknown": []}
    owner = stack.idp.admin_get_user(UserPoolId=stack.pool_id, Username=OWNER)
    assert owner["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    (entry,) = stored(stack, stack.settings.rolls_table)
    assert entry["username"]["S"] == OWNER
    assert vote(client, stack, "ann", "board", voter="sam-squat").status_code == 403


def test_a_confirmed_self_signed_up_voter_is_put_on_a_roll_by_email(client, stack, moto_confirms_as_cognito):
    assert create(client, stack, BOARD).status_code == 201
    stack.idp.sign_up(ClientId=stack.client_id, Username=OWNER, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": OWNER}])
    stack.idp.confirm_sign_up(ClientId=stack.client_id, Username=OWNER, ConfirmationCode="123456")
    assert body(add(client, stack, [OWNER])) == {"added": 1, "already": 0, "invited": 0, "unknown": []}
