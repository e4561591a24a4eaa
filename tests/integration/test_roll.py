"""Roll polls: only the voters on the roll vote, each still with one write; blanks never count; turnout is exact;
a roll batch is taken whole or reported entry by entry, never half-written."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import runtime
from chalicelib.adapters.dynamo_ballots import BLANK
from chalicelib.events.tally import tally_ballots
from tally_client import signin
from tests.integration.helpers import (
    BOARD,
    accounts,
    add,
    all_records,
    assert_reconciled,
    body,
    close,
    create,
    deliver,
    post,
    runner_for,
    stored,
    vote,
)


def roll_poll(client, stack, voters=()):
    assert create(client, stack, BOARD).status_code == 201
    if voters:
        assert add(client, stack, accounts(stack, *voters)).status_code == 200


def roll_state(stack, poll_id="board"):
    """(roll size, blanks and ballots, roll entries) as stored: the three always move together."""
    size = runtime.get().roll.page(poll_id, None)["size"]
    return size, len(stack.ballot_items(poll_id)), len(stored(stack, stack.settings.rolls_table, poll_id))


def results(client, stack, poll_id="board"):
    return body(client.get(f"/polls/{poll_id}/results", headers=stack.operator()))


def test_a_voter_on_the_roll_votes_and_one_off_it_is_refused(client, stack):
    roll_poll(client, stack, ["rita", "ravi"])
    accounts(stack, "otto")
    assert body(client.get("/polls/board", headers=stack.voter("rita")))["eligible"] is True
    assert body(client.get("/polls/board", headers=stack.voter("otto")))["eligible"] is False
    assert vote(client, stack, "ann", "board", voter="rita").status_code == 201
    assert vote(client, stack, "ann", "board", voter="rita").status_code == 200   # a resend
    assert vote(client, stack, "bob", "board", voter="rita").status_code == 409   # a second choice
    refused = vote(client, stack, "ann", "board", voter="otto")
    assert refused.status_code == 403 and body(refused)["Code"] == "ForbiddenError"
    assert "not on the roll of poll board" in body(refused)["Message"]
    assert client.get("/votes/mine?poll_id=board", headers=stack.voter("ravi")).status_code == 404  # a blank
    assert body(client.get("/votes/mine?poll_id=board", headers=stack.voter("rita")))["candidate"] == "ann"


def test_an_open_poll_is_open_to_everyone_and_has_no_roll(client, stack):
    assert create(client, stack, {**BOARD, "electorate": None}).status_code == 201
    listed = body(client.get("/polls", headers=stack.voter("otto")))["polls"]
    assert [(p["electorate"], p["eligible"]) for p in listed] == [("open", True)]
    refused = add(client, stack, accounts(stack, "rita"))
    assert refused.status_code == 409 and "has no roll" in body(refused)["Message"]
    assert vote(client, stack, "ann", "board", voter="otto").status_code == 201


def test_a_vote_in_a_roll_poll_is_one_write_and_no_read(client, stack):
    roll_poll(client, stack, ["rita"])
    client.get("/polls/board", headers=stack.voter("rita"))  # poll cached, token and keys ready
    calls = []
    runtime.get().dynamodb.meta.events.register("before-call.dynamodb.*",
                                                lambda model, **_: calls.append(model.name))
    assert vote(client, stack, "ann", "board", voter="rita").status_code == 201
    assert calls == ["UpdateItem"]


def test_the_answer_counts_added_already_invited_and_unknown(client, stack):
    roll_poll(client, stack)
    accounts(stack, "rita", "ravi")
    stack.idp.admin_update_user_attributes(UserPoolId=stack.pool_id, Username="ravi",
                                           UserAttributes=[{"Name": "email", "Value": "ravi@example.org"},
                                                           {"Name": "email_verified", "Value": "true"}])
    first = add(client, stack, ["Rita", "nobody-here", "rita"])
    assert body(first) == {"added": 1, "already": 1, "invited": 0, "unknown": ["nobody-here"]}
    # ravi named twice (by email, then by username) is one voter; rita is on the roll already.
    again = add(client, stack, ["ravi@example.org", "ravi", "rita"])
    assert body(again) == {"added": 1, "already": 2, "invited": 0, "unknown": []}
    assert roll_state(stack) == (2, 2, 2)
    listed = body(client.get("/polls/board/roll", headers=stack.operator()))
    assert listed["size"] == 2 and listed["next"] is None
    assert [(v["username"], v["email"]) for v in listed["voters"]] == [("ravi", "ravi@example.org"), ("rita", None)]


def test_invitations_create_the_accounts_who_then_vote(client, stack):
    roll_poll(client, stack)
    answer = add(client, stack, ["new.member@example.org", "no-address"], invite=True)
    assert body(answer) == {"added": 1, "already": 0, "invited": 1, "unknown": ["no-address"]}
    user = stack.idp.admin_get_user(UserPoolId=stack.pool_id, Username="new.member@example.org")
    assert {"Name": "email", "Value": "new.member@example.org"} in user["UserAttributes"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # they choose a password at first sign-in
    password = signin.new_password()
    stack.idp.admin_set_user_password(UserPoolId=stack.pool_id, Username="new.member@example.org",
                                      Password=password, Permanent=True)
    tokens = signin.sign_in(stack.idp, stack.pool_id, stack.client_id, "new.member@example.org", password)
    headers = {"Authorization": f"Bearer {tokens['IdToken']}", "Content-Type": "application/json"}
    assert client.post("/votes/bob", headers=headers, body=json.dumps({"poll_id": "board"})).status_code == 201
    # Invited again, the account exists: it is already on the roll, and nobody is mailed twice.
    assert body(add(client, stack, ["new.member@example.org"], invite=True))["invited"] == 0


def test_a_thousand_entries_with_a_malformed_one_are_refused_whole(client, stack):
    roll_poll(client, stack)
    names = [f"member-{i:04}" for i in range(1000)]
    refused = add(client, stack, names[:500] + ["two words"] + names[501:])
    assert refused.status_code == 400 and "voters[500]" in body(refused)["Message"]
    assert roll_state(stack) == (0, 0, 0)
    assert add(client, stack, names + ["one-too-many"]).status_code == 400


def test_a_thousand_entries_with_an_unknown_one_add_the_rest_exactly(client, stack):
    roll_poll(client, stack)
    names = [f"member-{i:04}" for i in range(999)]
    for name in names:
        signin.create_user(stack.idp, stack.pool_id, name, signin.new_password())
    answer = add(client, stack, names[:400] + ["no-such-member"] + names[400:])
    assert answer.status_code == 200
    assert body(answer) == {"added": 999, "already": 0, "invited": 0, "unknown": ["no-such-member"]}
    assert roll_state(stack) == (999, 999, 999)
    assert all(BLANK in item for item in stack.ballot_items("board"))
    pages, after = [], None
    while True:
        page = body(client.get("/polls/board/roll" + (f"?next={after}" if after else ""), headers=stack.operator()))
        pages.append(page["voters"])
        after = page["next"]
        if not after:
            break
    assert sorted(v["username"] for page in pages for v in page) == names and max(map(len, pages)) == 100


def test_a_batch_that_fails_midway_leaves_whole_voters_and_a_resend_completes_it(client, stack):
    roll_poll(client, stack)
    names = accounts(stack, *[f"member-{i:03}" for i in range(150)])
    sent = []

    def fail_the_third(model, **_):
        sent.append(model.name)
        if len(sent) == 3:
            raise ConnectionError("the function's connection dropped")
    runtime.get().dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", fail_the_third)
    assert add(client, stack, names).status_code == 500
    assert roll_state(stack) == (98, 98, 98)  # two transactions of 49 voters, each whole
    resent = body(add(client, stack, names))
    assert resent == {"added": 52, "already": 98, "invited": 0, "unknown": []}
    assert roll_state(stack) == (150, 150, 150)


def test_blanks_never_count_and_turnout_is_exact_after_concurrent_votes(api, client, stack, stream, dead_letters):
    voters = [f"member-{i:02}" for i in range(40)]
    roll_poll(client, stack, voters)
    headers = {name: stack.voter(name) for name in voters}  # signed in first: the threads race on votes alone

    def cast(name):
        choice = "ann" if int(name[-2:]) % 3 else "bob"
        return [post(f"{api}/votes/{choice}", headers[name], {"poll_id": "board"})[0] for _ in range(2)]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(cast, voters[:30]))
    assert sorted(answers) == [[201, 200]] * 30
    runner_for(stream, dead_letters, tally_ballots).drain()
    shown = results(client, stack)
    assert shown["total"] == 30 and shown["turnout"] == {"cast": 30, "roll": 40}
    assert {c["id"]: c["votes"] for c in shown["candidates"]} == {"ann": 20, "bob": 10}
    assert_reconciled("board", {"ann": 20, "bob": 10})
    assert not dead_letters.exists() or dead_letters.read_text() == ""
    # Every record again (a retried batch): nothing counts twice, blanks still count nothing.
    shard, records = all_records(stream)
    assert len(records) == 40 + 30  # the blanks' inserts and the votes' fills
    deliver(stream, shard, records)
    assert results(client, stack)["turnout"] == {"cast": 30, "roll": 40}
    assert_reconciled("board", {"ann": 20, "bob": 10})


def test_before_the_poll_opens_a_removal_takes_the_blank_entry_and_size_together(client, stack):
    assert create(client, stack, {**BOARD, "opens_at": "2099-01-01T00:00:00Z"}).status_code == 201
    assert add(client, stack, accounts(stack, "rita", "ravi", "rosa")).status_code == 200
    accounts(stack, "otto")  # an account, never on the roll
    answer = client.post("/polls/board/roll/remove", headers=stack.operator(),
                         body=json.dumps({"voters": ["ravi", "nobody-here", "otto"]}))
    assert body(answer) == {"removed": 1, "absent": ["otto"], "unknown": ["nobody-here"]}
    assert roll_state(stack) == (2, 2, 2)
    assert client.post("/polls/board/open", headers=stack.operator()).status_code == 200
    assert vote(client, stack, "ann", "board", voter="ravi").status_code == 403
    assert vote(client, stack, "bob", "board", voter="rosa").status_code == 201


def test_a_closed_polls_roll_is_final(client, stack):
    roll_poll(client, stack, ["rita"])
    close(client, stack, "board")
    refused = add(client, stack, accounts(stack, "ravi"))
    assert refused.status_code == 409 and "final" in body(refused)["Message"]


@pytest.mark.parametrize("payload, message", [
    ({"voters": []}, "1 to 1,000"), ({"voters": "rita"}, "1 to 1,000"), ({"voters": ["rita"], "invite": "yes"},
                                                                         "invite must be true or false"),
    ({"voters": ["rita"], "extra": 1}, "Unknown fields: extra"), ({"voters": [7]}, "voters[0]"),
    ({"voters": ['a"b@example.org']}, "voters[0]"),
])
def test_bad_roll_bodies_get_a_clear_400(client, stack, payload, message):
    roll_poll(client, stack)
    response = client.post("/polls/board/roll", headers=stack.operator(), body=json.dumps(payload))
    assert response.status_code == 400 and message in body(response)["Message"]


def test_only_operators_change_or_read_a_roll(client, stack):
    roll_poll(client, stack)
    assert client.post("/polls/board/roll", headers=stack.voter(), body='{"voters": ["vera"]}').status_code == 403
    assert client.get("/polls/board/roll", headers=stack.voter()).status_code == 403


def test_a_thousand_long_addresses_fit_a_roll_request_but_no_other_body_that_size(client, stack):
    roll_poll(client, stack)
    addresses = [f"member.{i:04}.of.the.association@{'x' * 40}.example.org" for i in range(1000)]
    answer = add(client, stack, addresses)  # 79 KB: five times what any other route takes
    assert answer.status_code == 200 and body(answer)["unknown"] == addresses
    too_big = client.post("/polls/board/roll", headers=stack.operator(),
                          body=json.dumps({"voters": ["x" * 128] * 7000}))
    assert too_big.status_code == 413 and "819200 bytes (800 KiB)" in body(too_big)["Message"]
    assert client.post("/polls", headers=stack.operator(), body=json.dumps({"title": "x" * 20000})).status_code == 413


def test_a_query_parameter_a_route_does_not_take_is_refused_not_ignored(client, stack):
    roll_poll(client, stack)
    for path, who in (("/polls/board/roll?page=2", stack.operator()), ("/polls/board/roll?next=", stack.operator()),
                      ("/votes/mine?pollid=board", stack.voter())):
        response = client.get(path, headers=who)
        assert response.status_code == 400, path
    assert "Unknown query parameters: 'pollid'. This route takes poll_id." in \
        body(client.get("/votes/mine?pollid=board", headers=stack.voter()))["Message"]


def test_reconcile_checks_the_rolls_size_against_its_blanks_and_ballots(client, stack, stream, dead_letters):
    roll_poll(client, stack, ["rita", "ravi", "rosa"])
    assert vote(client, stack, "ann", "board", voter="rita").status_code == 201
    runner_for(stream, dead_letters, tally_ballots).drain()
    found = runtime.get().reconciler.compare("board")
    assert found.roll == {"ledger": 3, "tallies": 3} and found.agrees
    assert "on the roll" in found.table()
    # A hand deletes a blank behind the API's back: the size no longer says how many may vote.
    blank = next(item for item in stack.ballot_items("board") if BLANK in item)
    stack.dynamodb.delete_item(TableName=stack.settings.ballots_table,
                               Key={"poll_bucket": blank["poll_bucket"], "voter_id": blank["voter_id"]})
    found = runtime.get().reconciler.compare("board")
    assert found.roll == {"ledger": 2, "tallies": 3} and not found.agrees
    assert "differs" in found.table()
    assert runtime.get().reconciler.compare("board").counts["ledger"] == {"ann": 1}
