"""The load test's reading of a vote's answers, resends included: each voter's first ballot accepted once."""
from loadtest.answers import first_ballot_problem, retry_key, unprompted_200
from tally_client.resend import LOST

BALLOT = {"poll_id": "p", "candidate": "amber", "cast_at": "2026-11-30T10:00:00.000Z"}


def problem(*statuses, ballot=BALLOT):
    return first_ballot_problem(list(statuses), ballot, "p", "amber")


def test_a_201_accepts_the_ballot_whatever_was_resent_before_it():
    assert problem(201) is None
    assert problem(429, 429, 201) is None
    assert problem(LOST, 503, 201) is None


def test_a_200_with_the_same_ballot_accepts_it_and_says_whether_one_of_our_attempts_may_have_landed():
    assert problem(LOST, 200) is None and not unprompted_200([LOST, 200])
    assert problem(500, 429, 200) is None and not unprompted_200([500, 429, 200])
    # No attempt of ours can have landed: the API's own retried PutItem did.
    assert problem(200) is None and unprompted_200([200])
    assert problem(429, 200) is None and unprompted_200([429, 200])
    assert not unprompted_200([201])


def test_a_200_with_another_ballot_is_a_problem():
    assert problem(LOST, 200, ballot={**BALLOT, "candidate": "blue"}) is not None
    assert problem(LOST, 200, ballot={**BALLOT, "poll_id": "q"}) is not None
    assert problem(200, ballot=None) is not None


def test_refusals_and_exhausted_resends_are_problems():
    assert problem(409) is not None
    assert problem(LOST, 409) is not None
    assert "gave up" in problem(429, 503, LOST)


def test_resends_are_counted_by_what_the_resent_attempt_got():
    assert [retry_key(s) for s in (429, 503, LOST)] == ["429", "503", "lost"]
