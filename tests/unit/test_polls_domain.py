import pytest

from chalicelib.domain.errors import Invalid
from chalicelib.domain.polls import new_poll, poll_view
from chalicelib.domain.times import parse_instant

NOW = "2026-11-22T10:00:00.000Z"


def poll(**body):
    return new_poll({"title": "Best colour", "candidates": ["red", "blue"], **body}, NOW)


def test_a_poll_without_times_is_open_at_once():
    assert poll().status(NOW) == "open"


def test_status_follows_opens_at_and_closes_at_by_the_clock():
    p = poll(opens_at="2026-11-22T11:00:00Z", closes_at="2026-11-22T12:00:00Z")
    assert p.status("2026-11-22T10:59:59.999Z") == "scheduled"
    assert p.status("2026-11-22T11:00:00.000Z") == "open"
    assert p.status("2026-11-22T12:00:00.000Z") == "closed"


def test_opening_a_scheduled_poll_moves_opens_at_to_now_and_closing_sets_closes_at():
    p = poll(opens_at="2026-11-22T11:00:00Z")
    opened = p.opened(NOW)
    assert opened.opens_at == NOW and opened.status(NOW) == "open"
    closed = opened.closing(None, "2026-11-22T10:30:00.000Z")
    assert closed.status("2026-11-22T10:30:00.000Z") == "closed"
    assert closed.opened("2026-11-22T10:31:00.000Z").status("2026-11-22T10:31:00.000Z") == "closed"


def test_closing_a_scheduled_poll_closes_it_for_good():
    p = poll(opens_at="2026-11-22T11:00:00Z").closing(None, NOW)
    assert p.status("2026-11-22T11:30:00.000Z") == "closed"


def test_candidates_take_bare_ids_or_id_label_objects():
    p = poll(candidates=["red", {"id": "blue", "label": "Deep blue"}])
    assert poll_view(p, NOW)["candidates"] == [{"id": "red", "label": "red"}, {"id": "blue", "label": "Deep blue"}]


def test_a_poll_without_an_id_gets_a_readable_one():
    p = poll()
    assert p.poll_id.startswith("best-colour-")


def test_times_are_normalised_to_utc():
    assert parse_instant("2026-11-22T12:00:00+02:00", "opens_at") == "2026-11-22T10:00:00.000Z"


@pytest.mark.parametrize("body, words", [
    ({"title": ""}, "title must not be empty"),
    ({"title": 7}, "title must be a string"),
    ({"title": "x" * 201}, "at most 200"),
    ({"candidates": ["red"]}, "2 to 100 candidates"),
    ({"candidates": [f"c{i}" for i in range(101)]}, "2 to 100 candidates"),
    ({"candidates": "red,blue"}, "candidates must be a list"),
    ({"candidates": ["red", "red"]}, "appears twice"),
    ({"candidates": ["red", "Blue"]}, "candidates[1] must be 1 to 63"),
    ({"candidates": ["red", {"id": "blue", "label": ""}]}, "label must not be empty"),
    ({"candidates": ["red", {"id": "blue", "colour": "x"}]}, "unknown fields"),
    ({"candidates": ["red", 5]}, "candidates[1] must be an id string"),
    ({"poll_id": "-bad"}, "poll_id must be 1 to 63"),
    ({"poll_id": "a" * 64}, "poll_id must be 1 to 63"),
    ({"opens_at": "tomorrow"}, "ISO 8601"),
    ({"opens_at": "2026-11-22T11:00:00"}, "time zone"),
    ({"closes_at": "2026-11-22T09:00:00Z"}, "in the future"),
    ({"opens_at": "2026-11-22T12:00:00Z", "closes_at": "2026-11-22T11:00:00Z"}, "later than opens_at"),
    ({"results": "never"}, "results must be"),
    ({"colour": "red"}, "Unknown fields: colour"),
])
def test_invalid_polls_are_refused_with_a_message_that_names_the_problem(body, words):
    with pytest.raises(Invalid) as refusal:
        poll(**body)
    assert words in str(refusal.value)


def test_null_stands_for_an_omitted_optional_field():
    p = poll(opens_at=None, closes_at=None, results=None, poll_id=None)
    assert (p.opens_at, p.closes_at, p.results) == (None, None, "live")


def test_a_poll_is_sized_in_buckets_for_its_expected_peak_and_for_a_broadcast_by_default():
    assert poll().buckets == 20 and poll().expected_peak_votes_per_s == 2_000
    assert poll(expected_peak_votes_per_s=1).buckets == 1
    assert poll(expected_peak_votes_per_s=100).buckets == 1
    assert poll(expected_peak_votes_per_s=101).buckets == 2
    assert poll(expected_peak_votes_per_s=10_000).buckets == 100
    assert poll_view(poll(expected_peak_votes_per_s=700), NOW)["expected_peak_votes_per_s"] == 700


@pytest.mark.parametrize("peak", [0, -1, 1.5, "100", True, 1_000_001])
def test_an_expected_peak_that_is_not_a_whole_number_in_range_is_refused(peak):
    with pytest.raises(Invalid, match="expected_peak_votes_per_s"):
        poll(expected_peak_votes_per_s=peak)


def test_a_voter_always_falls_in_the_same_bucket_and_voters_spread_evenly():
    from collections import Counter

    from chalicelib.domain.ballots import bucket_of

    assert bucket_of("voter-1", 20) == bucket_of("voter-1", 20)
    sizes = Counter(bucket_of(f"voter-{i}", 20) for i in range(20_000))
    assert sorted(sizes) == list(range(20))
    assert max(sizes.values()) <= 1.1 * 1000


@pytest.mark.parametrize("candidates", [["red", "mine"], ["red", {"id": "mine", "label": "Mine"}]])
def test_a_candidate_id_that_is_a_fixed_path_segment_is_refused(candidates):
    with pytest.raises(Invalid, match="cannot be 'mine'"):
        poll(candidates=candidates)
