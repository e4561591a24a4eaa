from chalicelib.domain.polls import new_poll
from chalicelib.domain.results import COARSE_SPAN_MS, MINUTE_MS, Counts, instant_ms, results_view, windows

CREATED = "2026-11-22T10:00:30.000Z"


def poll(**extra):
    return new_poll({"poll_id": "p", "title": "P", "candidates": ["a", "b"], **extra}, CREATED)


def test_a_young_poll_is_all_seconds():
    w = windows(poll(), "2026-11-22T10:02:00.400Z")
    assert w.coarse_from == w.fine_from == instant_ms("2026-11-22T10:00:00.000Z")
    assert w.until == instant_ms("2026-11-22T10:02:01.000Z")


def test_an_older_poll_has_minutes_then_the_last_five_minutes_in_seconds_meeting_on_a_minute():
    w = windows(poll(), "2026-11-22T11:00:00.500Z")
    assert w.coarse_from == instant_ms("2026-11-22T10:00:00.000Z")
    assert w.fine_from % MINUTE_MS == 0
    assert 5 * MINUTE_MS <= w.until - w.fine_from < 6 * MINUTE_MS


def test_a_poll_open_for_months_shows_its_last_day_only():
    p = poll(opens_at="2024-01-01T00:00:00Z")
    now = "2026-11-22T11:00:00.500Z"
    w = windows(p, now)
    assert w.until - COARSE_SPAN_MS - MINUTE_MS < w.coarse_from <= w.until - COARSE_SPAN_MS
    counts = Counts(votes={"a": 7}, per_minute={}, per_second={}, as_of=None, source="index")
    view = results_view(p, counts, now)
    assert view["total"] == 7 and len(view["timeline"]) <= 24 * 60 + 6 * 60


def test_a_closed_poll_stops_its_timeline_at_the_close():
    p = poll(closes_at="2026-11-22T10:10:00Z")
    assert windows(p, "2026-11-22T12:00:00.000Z").until == instant_ms("2026-11-22T10:10:01.000Z")


def test_the_view_fills_empty_buckets_and_shares_add_up():
    p = poll()
    now = "2026-11-22T10:20:00.000Z"
    w = windows(p, now)
    counts = Counts(votes={"a": 2, "b": 1}, per_minute={w.coarse_from: 2}, per_second={w.fine_from: 1},
                    as_of="2026-11-22T10:19:59.000Z", source="index")
    view = results_view(p, counts, now)
    assert view["total"] == 3 and [c["share"] for c in view["candidates"]] == [0.6667, 0.3333]
    minutes = [t for t in view["timeline"] if t["seconds"] == 60]
    seconds = [t for t in view["timeline"] if t["seconds"] == 1]
    assert minutes[0] == {"t": "2026-11-22T10:00:00.000Z", "votes": 2, "seconds": 60}
    assert seconds[0]["votes"] == 1 and sum(t["votes"] for t in view["timeline"]) == 3
    assert len(seconds) == (w.until - w.fine_from) // 1000


def test_votes_for_candidates_the_poll_does_not_have_are_not_shown():
    view = results_view(poll(), Counts({"a": 1, "zz": 5}, None, None, None, "tallies"), CREATED)
    assert view["total"] == 1 and view["timeline"] == [] and view["as_of"] == CREATED


def test_the_index_is_published_only_when_it_is_not_behind_the_counters_on_any_candidate():
    from chalicelib.domain.results import Counts, trusted

    def index(votes):
        return Counts(votes=votes, per_minute={1: 1}, per_second={2: 1}, as_of="2026-11-22T10:00:01.000Z",
                      source="index")
    exact = Counts(votes={"red": 3, "blue": 2}, per_minute=None, per_second=None, as_of="2026-11-22T10:00:02.000Z",
                   source="tallies")

    same = index({"red": 3, "blue": 2, "green": 0})
    assert trusted(same, exact) is same
    behind = trusted(index({"red": 3, "blue": 1}), exact)
    assert behind.votes == {"red": 3, "blue": 2} and behind.source == "tallies"
    assert (behind.per_minute, behind.per_second, behind.as_of) == ({1: 1}, {2: 1}, exact.as_of)
    empty = trusted(index({}), exact)  # a new search domain
    assert empty.votes == {"red": 3, "blue": 2} and empty.source == "tallies"
    # Each is a floor under the ledger: where the counters lost a count the index kept, the larger stands.
    mixed = trusted(index({"red": 4, "blue": 1}), exact)
    assert mixed.votes == {"red": 4, "blue": 2} and mixed.source == "tallies"
    ahead = index({"red": 4, "blue": 2})
    assert trusted(ahead, exact) is ahead
