"""The roll's rules and use cases, with in-memory fakes: who may vote in a roll poll, and what a change reports."""
import pytest

from chalicelib.domain.errors import Conflict, Forbidden, Invalid
from chalicelib.domain.export import results_csv
from chalicelib.domain.polls import new_poll
from chalicelib.domain.roll import MAX_ROLL_BATCH, Account, entries, roll_request
from chalicelib.domain.times import later
from chalicelib.services.catalog import PollCatalog
from chalicelib.services.roll import RollService
from chalicelib.services.votes import VoteService
from tests.fakes import Clock, FakeDirectory, FakeLedger, FakePollStore, FakeRollStore

RITA = Account(username="rita", sub="sub-rita", email="rita@example.org")
RAVI = Account(username="ravi", sub="sub-ravi")
OTTO = Account(username="otto", sub="sub-otto")


def world(electorate="roll", opens_in=None, clock=None):
    clock = clock or Clock()
    body = {"poll_id": "board", "title": "Board", "candidates": ["ann", "bob"], "electorate": electorate}
    if opens_in is not None:
        body["opens_at"] = later(clock(), opens_in)
    store = FakePollStore([new_poll(body, clock())])
    catalog = PollCatalog(store, ttl=5, monotonic=clock.monotonic)
    ledger = FakeLedger()
    directory = FakeDirectory(RITA, RAVI, OTTO)
    pseudonym = "id-{}".format
    roll = RollService(catalog, FakeRollStore(ledger), directory, clock, pseudonym, clock_skew_s=1.0)
    votes = VoteService(catalog, ledger, clock, pseudonym)
    return roll, votes, ledger, directory


def test_entries_are_trimmed_and_lowercased_and_a_malformed_one_refuses_the_batch():
    assert entries({"voters": ["Rita", "RITA@Example.org"]}) == ["rita", "rita@example.org"]
    for bad in ["", " rita", "rita\n", "two words", "x" * 129, "at@sign", 'a"b@example.org', "tab\there",
                "nel\u0085", "bom\ufeff", "lone\udad2", 7, None]:
        with pytest.raises(Invalid, match=r"voters\[1\].*Nothing was added"):
            entries({"voters": ["rita", bad]})
    with pytest.raises(Invalid, match="1 to 1,000"):
        entries({"voters": ["v"] * (MAX_ROLL_BATCH + 1)})
    with pytest.raises(Invalid, match="invite must be true or false"):
        roll_request({"voters": ["rita"], "invite": 1})
    with pytest.raises(Invalid, match="Unknown fields: invite"):
        roll_request({"voters": ["rita"], "invite": True}, invite_allowed=False)


def test_the_report_counts_each_entry_once():
    roll, _, _, _ = world()
    report = roll.add("board", {"voters": ["rita", "rita@example.org", "RITA", "nobody", "ravi"]})
    assert report.view() == {"added": 2, "already": 2, "invited": 0, "unknown": ["nobody"]}
    assert roll.add("board", {"voters": ["ravi", "otto"]}).view() == {"added": 1, "already": 1, "invited": 0,
                                                                      "unknown": []}
    assert roll.page("board", None)["size"] == 3


def test_only_email_entries_are_invited_and_only_once():
    roll, _, _, directory = world()
    report = roll.add("board", {"voters": ["new@example.org", "new@example.org", "no-address"], "invite": True})
    assert report.view() == {"added": 1, "already": 1, "invited": 1, "unknown": ["no-address"]}
    assert directory.invited == ["new@example.org"]


def test_a_roll_poll_takes_votes_from_its_roll_only_with_one_write_each():
    roll, votes, ledger, _ = world()
    roll.add("board", {"voters": ["rita"]})
    assert votes.eligible("sub-rita", votes._poll("board", "now")) is True
    assert votes.eligible("sub-otto", votes._poll("board", "now")) is False
    writes = ledger.writes
    ballot, created = votes.cast("sub-rita", "ann", "board")
    assert created and ledger.writes == writes + 1
    with pytest.raises(Forbidden, match="not on the roll of poll board"):
        votes.cast("sub-otto", "ann", "board")
    assert votes.cast("sub-rita", "ann", "board") == (ballot, False)
    with pytest.raises(Conflict):
        votes.cast("sub-rita", "bob", "board")


def test_voters_leave_a_roll_only_before_its_poll_opens():
    clock = Clock()
    roll, votes, _, _ = world(opens_in=60, clock=clock)
    roll.add("board", {"voters": ["rita", "ravi"]})
    report = roll.remove("board", {"voters": ["ravi", "otto", "nobody"]})
    assert report.view() == {"removed": 1, "absent": ["otto"], "unknown": ["nobody"]}
    assert roll.page("board", None)["size"] == 1
    roll.add("board", {"voters": ["otto"]})
    clock.advance(59.5)  # within the instances' clock skew of opens_at: some instance may take ballots already
    with pytest.raises(Conflict, match="has opened, so no one can be taken off its roll"):
        roll.remove("board", {"voters": ["otto"]})
    clock.advance(1)
    votes.cast("sub-rita", "ann", "board")
    with pytest.raises(Forbidden):
        votes.cast("sub-ravi", "ann", "board")
    refusals = []
    for name in ("rita", "otto"):  # one has voted, one has not: the refusal is the same
        with pytest.raises(Conflict) as refused:
            roll.remove("board", {"voters": [name]})
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1]
    assert roll.add("board", {"voters": ["rita", "otto"]}).view() == {"added": 0, "already": 2, "invited": 0,
                                                                      "unknown": []}
    assert roll.page("board", None)["size"] == 2


def test_a_poll_opened_by_hand_stops_removals_at_once_though_its_copy_is_cached():
    clock = Clock()
    roll, _, _, _ = world(opens_in=3600, clock=clock)
    roll.add("board", {"voters": ["rita"]})
    roll.page("board", None)  # the catalog now holds the poll as scheduled for an hour
    store = roll._catalog._store
    poll = store.get("board")
    store.replace_times(poll.opened(clock()), poll)  # another instance opened it
    with pytest.raises(Conflict, match="has opened"):
        roll.remove("board", {"voters": ["rita"]})


def test_an_open_poll_has_no_roll_and_everyone_is_eligible():
    roll, votes, _, _ = world(electorate="open")
    with pytest.raises(Conflict, match="has no roll"):
        roll.add("board", {"voters": ["rita"]})
    assert votes.eligible("sub-otto", votes._poll("board", "now")) is True
    with pytest.raises(Invalid, match="electorate must be"):
        new_poll({"title": "x", "candidates": ["a", "b"], "electorate": "members"}, "2026-11-22T10:00:00.000Z")


def test_the_export_is_one_table_with_formulas_kept_as_text():
    view = {"poll_id": "board", "status": "closed", "total": 2, "as_of": "2026-11-22T10:01:00.000Z",
            "candidates": [{"id": "ann", "label": "+Ann", "votes": 2, "share": 1.0},
                           {"id": "bob", "label": "Bob, Jr.", "votes": 0, "share": 0.0}],
            "turnout": {"cast": 2, "roll": 0},
            "timeline": [{"t": "2026-11-22T10:00:00.000Z", "votes": 2, "seconds": 60}]}
    assert results_csv("@Board", view).splitlines() == [
        "section,id,label,votes,share,at,seconds",
        "poll,board,'@Board,2,,2026-11-22T10:01:00.000Z,",
        "status,closed,,,,,",
        "candidate,ann,'+Ann,2,1.0,,",
        'candidate,bob,"Bob, Jr.",0,0.0,,',
        "turnout,cast,ballots cast,2,,,",
        "turnout,roll,voters on the roll,0,,,",
        "timeline,,,2,,2026-11-22T10:00:00.000Z,60",
    ]
