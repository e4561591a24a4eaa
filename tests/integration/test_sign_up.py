"""Voters who make their own accounts (self sign-up, docs/voters.md), against moto's Cognito with the pool and app
client of infra/cognito.json: sign up with an email and a password, confirm with the emailed code, sign in, vote.
Also a forgotten password, an invited voter's first password, and a deleted account whose ballot stays counted.

What moto does not check, so what these tests cannot show: the confirmation code (any code confirms), the SRP
proof, and that sign-up is refused when the pool allows only administrators to create users (SelfSignUp closed).
The sign-ins here use ADMIN_USER_PASSWORD_AUTH, the app client's flow for tools; browsers use SRP (tests/e2e).
"""
import functools
import json

import jwt
import pytest
from botocore.exceptions import ClientError

from chalicelib import runtime
from devstack import moto_patches
from tally_client import signin
from tests.integration.helpers import body, create

EMAIL = "nia.voter@example.org"
PASSWORD = "Correct-horse-42"  # 12+ characters, upper, lower, digit, symbol: the pool's policy




@pytest.fixture(autouse=True)
def moto_as_the_local_stack_runs_it(monkeypatch):
    # DeleteUser, and the invited account's challenge as Cognito words it (devstack/moto_patches.py, teach_moto).
    moto_patches.teach_moto(functools.partial(monkeypatch.setattr, raising=False))


def refusal(call):
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"]


def sign_up(stack, email=EMAIL, password=PASSWORD):
    # The vote page's sign-up: the email is the username and the email attribute, so Cognito mails the code there.
    return stack.idp.sign_up(ClientId=stack.client_id, Username=email, Password=password,
                             UserAttributes=[{"Name": "email", "Value": email}])


def confirm(stack, email=EMAIL):
    stack.idp.confirm_sign_up(ClientId=stack.client_id, Username=email, ConfirmationCode="123456")


def sign_in(stack, email=EMAIL, password=PASSWORD):
    return signin.sign_in(stack.idp, stack.pool_id, stack.client_id, email, password)


def headers(tokens):
    return {"Authorization": f"Bearer {tokens['IdToken']}", "Content-Type": "application/json"}


def claims(tokens):
    return jwt.decode(tokens["IdToken"], options={"verify_signature": False})


def vote(client, tokens, candidate, poll_id="colours"):
    return client.post(f"/votes/{candidate}", headers=headers(tokens), body=json.dumps({"poll_id": poll_id}))


def srp_start(stack, email=EMAIL):
    """The first step of the browser's SRP sign-in (moto does not check SRP_A)."""
    return stack.idp.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_SRP_AUTH",
                                   AuthParameters={"USERNAME": email, "SRP_A": "ab" * 64})


def test_a_new_voter_signs_up_confirms_the_emailed_code_signs_in_and_votes(client, stack):
    create(client, stack)
    answer = sign_up(stack)
    assert answer["UserConfirmed"] is False
    # The code goes to the email (AutoVerifiedAttributes), masked in the answer; the page shows where it went.
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert answer["CodeDeliveryDetails"]["AttributeName"] == "email"
    # Before the code, the browser's sign-in is refused with the reason the page acts on (it asks for the code).
    assert refusal(lambda: srp_start(stack)) == "UserNotConfirmedException"
    confirm(stack)
    assert srp_start(stack)["ChallengeName"] == "PASSWORD_VERIFIER"
    tokens = sign_in(stack)
    assert claims(tokens)["cognito:username"] == EMAIL and claims(tokens)["email"] == EMAIL
    assert claims(tokens)["sub"] == answer["UserSub"]
    ballot = vote(client, tokens, "red")
    assert ballot.status_code == 201, ballot.body
    assert body(ballot)["candidate"] == "red"
    mine = client.get("/votes/mine?poll_id=colours", headers=headers(tokens))
    assert mine.status_code == 200 and body(mine) == body(ballot)
    # One ballot per account, as for any voter.
    assert vote(client, tokens, "blue").status_code == 409


def test_the_pool_applies_its_password_policy_and_one_account_per_email(stack):
    for weak in ("Short-1a", "no-upper-case-42", "NO-LOWER-CASE-42", "No-digits-here!", "NoSymbolsHere42"):
        assert refusal(lambda weak=weak: sign_up(stack, password=weak)) == "InvalidPasswordException", weak
    sign_up(stack)
    assert refusal(lambda: sign_up(stack, password=PASSWORD + "x")) == "UsernameExistsException"


def test_a_forgotten_password_is_reset_with_the_emailed_code(stack):
    sign_up(stack)
    confirm(stack)
    sent = stack.idp.forgot_password(ClientId=stack.client_id, Username=EMAIL)
    # To the verified email (AccountRecoverySetting verified_email), never "ask an administrator".
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    stack.idp.confirm_forgot_password(ClientId=stack.client_id, Username=EMAIL, ConfirmationCode="123456",
                                      Password="A-new-passw0rd")
    assert claims(sign_in(stack, password="A-new-passw0rd"))["cognito:username"] == EMAIL
    assert refusal(lambda: sign_in(stack)) == "NotAuthorizedException"  # the old password no longer works


def test_an_invited_voter_chooses_a_password_at_first_sign_in_and_votes(client, stack):
    create(client, stack)
    # An operator's invitation (roll polls): Cognito creates the account with a temporary password it mails.
    stack.idp.admin_create_user(UserPoolId=stack.pool_id, Username="ivy@example.org", MessageAction="SUPPRESS",
                                TemporaryPassword="Temporary-pass-1",
                                UserAttributes=[{"Name": "email", "Value": "ivy@example.org"},
                                                {"Name": "email_verified", "Value": "true"}])
    challenge = stack.idp.admin_initiate_auth(
        UserPoolId=stack.pool_id, ClientId=stack.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ivy@example.org", "PASSWORD": "Temporary-pass-1"})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    # What the browser's library reads from the challenge (JSON in strings, as Cognito sends them).
    assert json.loads(challenge["ChallengeParameters"]["userAttributes"])["email"] == "ivy@example.org"
    assert json.loads(challenge["ChallengeParameters"]["requiredAttributes"]) == []
    respond = {"ClientId": stack.client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": challenge["Session"]}
    assert refusal(lambda: stack.idp.respond_to_auth_challenge(**respond, ChallengeResponses={
        "USERNAME": "ivy@example.org", "NEW_PASSWORD": "too-weak"})) == "InvalidPasswordException"
    tokens = stack.idp.respond_to_auth_challenge(**respond, ChallengeResponses={
        "USERNAME": "ivy@example.org", "NEW_PASSWORD": "Ivy-chose-this-1"})["AuthenticationResult"]
    assert vote(client, tokens, "blue").status_code == 201


def test_a_deleted_account_leaves_its_ballot_counted_under_a_pseudonym(client, stack, drain):
    create(client, stack)
    sign_up(stack)
    confirm(stack)
    tokens = sign_in(stack)
    sub = claims(tokens)["sub"]
    assert vote(client, tokens, "red").status_code == 201
    assert vote(client, stack.tokens("other"), "blue").status_code == 201

    # The voter deletes their own account, with their access token (the vote page's "Delete my account").
    stack.idp.delete_user(AccessToken=tokens["AccessToken"])
    assert refusal(lambda: stack.idp.admin_get_user(UserPoolId=stack.pool_id, Username=EMAIL)) == \
        "UserNotFoundException"
    assert refusal(lambda: stack.idp.get_user(AccessToken=tokens["AccessToken"])) == "NotAuthorizedException"

    # The ballot stays in the ledger, under the keyed pseudonym of a sub that no account has any more: nothing
    # stored names the email, and nobody can find whose ballot it was.
    ballots = stack.ballots("colours")
    assert ballots[runtime.get().voter_keys.ballot_id(sub)] == "red"
    stored = json.dumps(stack.ballot_items("colours"))
    assert EMAIL not in stored and sub not in stored
    drain()
    results = body(client.get("/polls/colours/results", headers=stack.operator()))
    assert results["total"] == 2
    assert {c["id"]: c["votes"] for c in results["candidates"]} == {"red": 1, "blue": 1}

    # The email is free again, but a new account is a new sub, so a new voter: open sign-up counts accounts, not
    # people (docs/voters.md says what that means for a poll).
    again = sign_up(stack)
    assert again["UserSub"] != sub
