import pytest

from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.polls import new_poll
from chalicelib.services.catalog import PollCatalog
from chalicelib.services.polls import PollService
from chalicelib.services.votes import VoteService
from tests.fakes import Clock, FakeLedger, FakePollStore

NOW = "2026-11-22T10:00:00.000Z"


def make(*polls, ttl=5.0):
    clock = Clock(NOW)
    store = FakePollStore(polls)
    catalog = PollCatalog(store, ttl=ttl, monotonic=clock.monotonic)
    ledger = FakeLedger()
    return clock, store, ledger, PollService(store, catalog, clock), VoteService(catalog, ledger, clock)


def colours(poll_id="colours", **extra):
    return new_poll({"poll_id": poll_id, "title": "Colours", "candidates": ["red", "blue"], **extra}, NOW)


def test_a_first_ballot_is_created_and_a_resend_returns_the_first():
    clock, _, ledger, _, votes = make(colours())
    ballot, created = votes.cast("v1", "red", "colours")
    assert created and ballot.candidate == "red" and ballot.cast_at == NOW
    clock.now = "2026-11-22T10:00:05.000Z"
    again, created_again = votes.cast("v1", "red", "colours")
    assert not created_again and again == ballot
    assert len(ledger.ballots) == 1


def test_another_candidate_from_the_same_voter_is_a_conflict():
    _, _, ledger, _, votes = make(colours())
    votes.cast("v1", "red", "colours")
    with pytest.raises(Conflict, match="already voted for red"):
        votes.cast("v1", "blue", "colours")
    assert ledger.ballots[("colours", "v1")].candidate == "red"


def test_votes_read_the_poll_from_memory_not_the_store():
    _, store, ledger, _, votes = make(colours())
    votes.cast("v0", "red", "colours")
    reads = store.reads
    for i in range(1, 50):
        votes.cast(f"v{i}", "blue", "colours")
    assert store.reads == reads
    assert ledger.writes == 50


def test_votes_that_name_their_poll_never_list_every_poll():
    clock, store, _, _, votes = make(colours(), *(colours(f"old-{i}") for i in range(100)))
    for i in range(20):
        votes.cast(f"v{i}", "red", "colours")
        clock.monotonic_now += 1
    assert store.scans == 0 and store.reads == 4  # one GetItem per 5 s, whatever the number of polls


def test_an_unknown_poll_is_remembered_as_missing_for_the_ttl():
    clock, store, _, _, votes = make(colours())
    for _ in range(5):
        with pytest.raises(NotFound):
            votes.cast("v1", "red", "nope")
    assert store.reads == 1
    store.polls["nope"] = colours("nope")  # made by another instance
    clock.monotonic_now += 5
    assert votes.cast("v1", "red", "nope")[1]


def test_the_cached_poll_is_refreshed_after_its_ttl():
    clock, store, _, _, votes = make(colours(), ttl=5)
    votes.cast("v1", "red", "colours")
    store.polls["colours"] = store.polls["colours"].closed(NOW)  # closed by another function instance
    votes.cast("v2", "red", "colours")  # still cached as open
    clock.monotonic_now += 5
    with pytest.raises(Conflict, match="closed"):
        votes.cast("v3", "red", "colours")


def test_closing_through_this_instance_takes_effect_at_once():
    _, _, _, polls, votes = make(colours())
    votes.cast("v1", "red", "colours")
    polls.close("colours")
    with pytest.raises(Conflict, match="closed"):
        votes.cast("v2", "red", "colours")


def test_a_resent_ballot_after_the_close_still_gets_its_answer():
    clock, _, _, polls, votes = make(colours())
    first, _ = votes.cast("v1", "red", "colours")
    polls.close("colours")
    assert votes.cast("v1", "red", "colours") == (first, False)
    with pytest.raises(Conflict, match="closed"):
        votes.cast("v1", "blue", "colours")


def test_a_scheduled_poll_refuses_votes():
    _, _, _, _, votes = make(colours(opens_at="2026-11-22T11:00:00Z"))
    with pytest.raises(Conflict, match="scheduled"):
        votes.cast("v1", "red", "colours")


def test_unknown_poll_and_candidate_are_not_found():
    _, _, _, _, votes = make(colours())
    with pytest.raises(NotFound, match="no poll nope"):
        votes.cast("v1", "red", "nope")
    with pytest.raises(NotFound, match="no candidate green"):
        votes.cast("v1", "green", "colours")


def test_poll_id_may_be_left_out_only_when_exactly_one_poll_is_open():
    _, _, _, polls, votes = make(colours(), colours("later", opens_at="2026-11-22T11:00:00Z"))
    ballot, _ = votes.cast("v1", "red", None)
    assert ballot.poll_id == "colours"
    polls.open("later")
    with pytest.raises(Invalid, match="2 polls are open"):
        votes.cast("v2", "red", None)
    polls.close("colours")
    polls.close("later")
    with pytest.raises(Invalid, match="0 polls are open"):
        votes.cast("v2", "red", None)


def test_a_new_poll_made_elsewhere_is_found_with_one_read():
    _, store, _, _, votes = make(colours())
    votes.cast("v1", "red", "colours")
    store.polls["fresh"] = colours("fresh")
    reads = store.reads
    votes.cast("v1", "red", "fresh")
    votes.cast("v2", "red", "fresh")
    assert store.reads == reads + 1


def test_open_and_close_follow_the_rules():
    _, _, _, polls, _ = make(colours(opens_at="2026-11-22T11:00:00Z"))
    assert polls.open("colours").status(NOW) == "open"
    assert polls.open("colours").status(NOW) == "open"
    assert polls.close("colours").status(NOW) == "closed"
    assert polls.close("colours").status(NOW) == "closed"
    with pytest.raises(Conflict, match="cannot be opened again"):
        polls.open("colours")
    with pytest.raises(NotFound):
        polls.close("nope")


def test_creating_a_poll_with_a_taken_id_is_a_conflict():
    _, _, _, polls, _ = make(colours())
    with pytest.raises(Conflict, match="exists already"):
        polls.create({"poll_id": "colours", "title": "Again", "candidates": ["a", "b"]})


def test_my_ballot_is_found_or_not():
    _, _, _, _, votes = make(colours())
    with pytest.raises(NotFound, match="not voted"):
        votes.mine("v1", "colours")
    votes.cast("v1", "blue", "colours")
    assert votes.mine("v1", "colours").candidate == "blue"
    assert votes.mine("v1", None).candidate == "blue"
