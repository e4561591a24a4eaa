"""Who sees a poll's results when (domain/polls.py), and the public document built from that (domain/audience.py)."""
import pytest

from chalicelib.domain.audience import SETTLE_SECONDS, is_final, public_document
from chalicelib.domain.polls import new_poll
from chalicelib.domain.times import later

NOW = "2026-11-22T10:00:00.000Z"
OPENS = "2026-11-22T11:00:00.000Z"
CLOSES = "2026-11-22T12:00:00.000Z"
INSTANTS = {"scheduled": NOW, "open": OPENS, "closed": CLOSES}


def poll(results):
    return new_poll({"title": "Best colour", "candidates": ["red", "blue"], "results": results,
                     "opens_at": OPENS, "closes_at": CLOSES}, NOW)


@pytest.mark.parametrize("results, shown", [
    ("live", {"scheduled": True, "open": True, "closed": True}),
    ("after_close", {"scheduled": False, "open": False, "closed": True}),
    ("operators", {"scheduled": False, "open": False, "closed": False}),
])
def test_results_are_shown_beyond_operators_by_their_setting_and_the_status(results, shown):
    p = poll(results)
    assert {status: p.results_shown(at) for status, at in INSTANTS.items()} == shown
    assert {status: p.status(at) for status, at in INSTANTS.items()} == {s: s for s in INSTANTS}


def test_results_are_for_everyone_at_the_close_or_never():
    assert poll("live").results_at() == poll("after_close").results_at() == CLOSES
    assert poll("operators").results_at() is None
    assert new_poll({"title": "T", "candidates": ["a", "b"], "results": "after_close"}, NOW).results_at() is None


def test_a_poll_is_final_once_closed_long_enough_for_the_stream_to_count_every_ballot():
    p = poll("live")
    assert not is_final(p, CLOSES)
    assert not is_final(p, later(CLOSES, SETTLE_SECONDS - 0.001))
    assert is_final(p, later(CLOSES, SETTLE_SECONDS))
    assert not is_final(poll("live"), OPENS)
    assert not is_final(new_poll({"title": "T", "candidates": ["a", "b"]}, NOW), later(NOW, 86400))


def test_the_document_carries_results_only_when_shown():
    view = {"poll_id": "x", "total": 0}
    shown = public_document(poll("after_close"), CLOSES, view)
    assert shown["results"] is view and shown["results_shown"] is True
    hidden = public_document(poll("after_close"), OPENS, None)
    assert "results" not in hidden and hidden["results_shown"] is False and hidden["results_at"] == CLOSES
    assert hidden["results_mode"] == "after_close" and hidden["status"] == "open" and hidden["final"] is False
    with pytest.raises(ValueError):
        public_document(poll("live"), OPENS, None)
