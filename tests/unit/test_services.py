import pytest

from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.polls import new_poll
from chalicelib.domain.voters import VoterKeys
from chalicelib.services.catalog import PollCatalog
from chalicelib.services.polls import PollService
from chalicelib.services.votes import VoteService
from tests.fakes import Clock, FakeLedger, FakePollStore

NOW = "2026-11-22T10:00:00.000Z"


KEYS = VoterKeys(b"k" * 32)


def make(*polls, ttl=5.0):
    clock = Clock(NOW)
    store = FakePollStore(polls)
    catalog = PollCatalog(store, ttl=ttl, monotonic=clock.monotonic)
    ledger = FakeLedger()
    return clock, store, ledger, PollService(store, catalog, clock), VoteService(catalog, ledger, clock,
                                                                                  KEYS.ballot_id)


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
    assert ledger.ballots[("colours", KEYS.ballot_id("v1"))].candidate == "red"


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
    store.polls["colours"] = store.polls["colours"].closing(None, NOW)  # closed by another function instance
    votes.cast("v2", "red", "colours")  # still cached as open
    clock.monotonic_now += 5
    with pytest.raises(Conflict, match="closed"):
        votes.cast("v3", "red", "colours")


def test_a_close_takes_effect_once_every_instance_has_had_time_to_read_it():
    clock, _, _, polls, votes = make(colours(), ttl=5)
    closed = polls.close("colours")
    assert closed.closes_at == "2026-11-22T10:00:06.000Z"  # the 5 s cache and 1 s for clocks that differ
    assert closed.status(NOW) == "open"
    clock.advance(5.999)
    assert votes.cast("v1", "red", "colours")[1]
    clock.advance(0.001)
    with pytest.raises(Conflict, match="closed"):
        votes.cast("v2", "red", "colours")


def test_an_instance_holding_the_open_poll_still_refuses_ballots_cast_from_closes_at_on():
    """The other instance read the poll just before the close was written, and keeps it its whole ttl."""
    clock = Clock(NOW)
    store = FakePollStore([colours()])
    here = PollService(store, PollCatalog(store, ttl=5, monotonic=clock.monotonic), clock)
    there_catalog = PollCatalog(store, ttl=5, monotonic=clock.monotonic)
    there = VoteService(there_catalog, FakeLedger(), clock, KEYS.ballot_id)
    there.cast("early", "red", "colours")  # caches the poll with no closes_at
    closed = here.close("colours")
    assert there_catalog.get("colours").closes_at is None, "still the copy from before the close"
    clock.advance(4.9)
    assert there.cast("in-time", "red", "colours")[1]
    clock.advance(1.1)  # at closes_at: this instance has had to re-read the poll
    assert clock.now == closed.closes_at
    with pytest.raises(Conflict, match="closed"):
        there.cast("late", "red", "colours")


def test_a_close_can_be_scheduled_but_never_sooner_than_the_lead():
    _, _, _, polls, _ = make(colours())
    assert polls.close("colours", "2026-11-22T12:00:00.000Z").closes_at == "2026-11-22T12:00:00.000Z"
    assert polls.close("colours", "2026-11-22T11:00:00.000Z").closes_at == "2026-11-22T11:00:00.000Z"
    # later than the close already set: the sooner one stands
    assert polls.close("colours", "2026-11-22T13:00:00.000Z").closes_at == "2026-11-22T11:00:00.000Z"
    # a time in the past, or within the lead, closes as soon as it can
    assert polls.close("colours", "2026-11-22T09:00:00.000Z").closes_at == "2026-11-22T10:00:06.000Z"


def test_closing_a_closed_poll_is_a_conflict():
    clock, _, _, polls, _ = make(colours())
    polls.close("colours")
    clock.advance(6)
    with pytest.raises(Conflict, match="closed already"):
        polls.close("colours")


def test_a_resent_ballot_after_the_close_still_gets_its_answer():
    clock, _, _, polls, votes = make(colours())
    first, _ = votes.cast("v1", "red", "colours")
    polls.close("colours")
    clock.advance(6)
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
    clock, _, _, polls, votes = make(colours(), colours("later", opens_at="2026-11-22T11:00:00Z"))
    ballot, _ = votes.cast("v1", "red", None)
    assert ballot.poll_id == "colours"
    polls.open("later")
    with pytest.raises(Invalid, match="2 polls are open"):
        votes.cast("v2", "red", None)
    polls.close("colours")
    polls.close("later")
    clock.advance(6)
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
    clock, _, _, polls, _ = make(colours(opens_at="2026-11-22T11:00:00Z"))
    assert polls.open("colours").status(NOW) == "open"
    assert polls.open("colours").status(NOW) == "open"
    closing = polls.close("colours")
    assert closing.status(NOW) == "open" and closing.status(closing.closes_at) == "closed"
    assert polls.close("colours") == closing, "a second close before the first takes effect changes nothing"
    clock.advance(6)
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
