"""A damaged results index is said, not hidden: results answer from the counters, the stream counts on without
the index (nothing dead-lettered), deep health says the index is down, and the repair replaces the file."""
import os
import sqlite3
from unittest.mock import ANY

import boto3
import pytest
from botocore.config import Config

from chalicelib.adapters.sqlite_index import SqliteIndex
from chalicelib.domain.ballots import Ballot
from chalicelib.domain.results import Windows
from chalicelib.domain.stream import StreamBallot
from chalicelib.events.tally import tally_ballots
from chalicelib.services.ports import IndexDamaged, IndexUnavailable
from cli.reconcile import run
from devstack.stream_runner import StreamRunner, stream_arn_of
from tests.integration.helpers import COLOURS, body, create, vote, wait_until

EVERYTHING = Windows(coarse_from=0, fine_from=0, until=0)
W = "2026-11-22T10:20:00.000Z"


def truncate(path):
    """Cut the file in half, as a disk that filled or a killed copy leaves it: its rows in the file, not the WAL."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.truncate(path, os.path.getsize(path) // 2)


def stream_ballots(n, poll="colours", first=0):
    return [StreamBallot(str(first + i + 1).zfill(40), Ballot(poll, f"v{first + i}", "red", W)) for i in range(n)]


def test_a_truncated_file_is_damaged_for_reads_and_writes_and_recreate_mends_it(tmp_path):
    path = str(tmp_path / "results.sqlite3")
    SqliteIndex(path).write(stream_ballots(2000), W)
    truncate(path)

    index = SqliteIndex(path)  # opening it is no error: the first read or write says what is wrong
    with pytest.raises(IndexDamaged, match="results.sqlite3 is damaged"):
        index.counts("colours", EVERYTHING)
    with pytest.raises(IndexDamaged):
        index.write(stream_ballots(1, first=5000), W)
    index.recreate()
    assert index.counts("colours", EVERYTHING).votes == {}
    index.write(stream_ballots(3), W)
    assert index.counts("colours", EVERYTHING).votes == {"red": 3}
    assert sorted(os.listdir(tmp_path)) == ["results.sqlite3", "results.sqlite3-shm", "results.sqlite3-wal"]


def test_a_file_that_is_not_a_database_is_damaged(tmp_path):
    path = tmp_path / "results.sqlite3"
    path.write_bytes(b"this is not a database, whatever its name says" * 100)
    with pytest.raises(IndexDamaged):
        SqliteIndex(str(path)).counts("colours", EVERYTHING)


def test_a_file_that_cannot_be_opened_is_unavailable_not_damaged(tmp_path):
    path = tmp_path / "results.sqlite3"
    path.mkdir()  # a directory where the file should be: SQLite cannot open it, and recreating would not help
    with pytest.raises(IndexUnavailable, match="cannot answer") as raised:
        SqliteIndex(str(path)).counts("colours", EVERYTHING)
    assert not isinstance(raised.value, IndexDamaged)


@pytest.fixture
def runner(stack, tmp_path):
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           config=Config(account_id_endpoint_mode="disabled"))
    return StreamRunner(streams, stream_arn_of(stack.dynamodb, stack.settings.ballots_table), tally_ballots,
                        str(tmp_path / "dead-letters.jsonl"), window_seconds=0)


def results(client, stack, poll="colours"):
    reply = client.get(f"/polls/{poll}/results", headers=stack.operator())
    assert reply.status_code == 200, reply.body
    view = body(reply)
    return {c["id"]: c["votes"] for c in view["candidates"] if c["votes"]}, view["source"]


def deep_health(client):
    reply = client.get("/health?deep=1")
    assert reply.status_code == 200
    return body(reply)


def test_a_truncated_index_is_said_counted_around_and_replaced_by_the_repair(client, stack, runner, tmp_path,
                                                                             capsys, log_lines):
    create(client, stack)
    create(client, stack, {**COLOURS, "poll_id": "shapes", "candidates": ["round", "square"]})
    for i, candidate in enumerate(["red", "red", "blue"]):
        assert vote(client, stack, candidate, voter=f"early-{i}").status_code == 201
    assert vote(client, stack, "square", poll_id="shapes", voter="early-0").status_code == 201
    runner.drain()
    assert results(client, stack) == ({"red": 2, "blue": 1}, "index")
    assert deep_health(client)["index"] == {"available": True}

    truncate(stack.settings.index_path)
    assert results(client, stack) == ({"red": 2, "blue": 1}, "tallies")
    wait_until(lambda: deep_health(client)["status"] == "degraded", message="deep health degraded")
    health = deep_health(client)
    assert health["index"]["available"] is False
    assert "damaged" in health["index"]["reason"] and "REPAIR=1" in health["index"]["reason"]

    # The stream goes on: new ballots are counted at once, none is dead-lettered, the skip is logged.
    for i, candidate in enumerate(["blue", "blue"]):
        assert vote(client, stack, candidate, voter=f"later-{i}").status_code == 201
    runner.drain()
    assert results(client, stack) == ({"red": 2, "blue": 3}, "tallies")
    assert not (tmp_path / "dead-letters.jsonl").exists()
    skipped = [line for line in log_lines() if line["message"] == "batch counted, not indexed"]
    assert skipped and "damaged" in skipped[0]["reason"]

    assert run(stack.settings, "colours", repair=False) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "index unavailable: the results index results.sqlite3 is damaged" in out

    assert run(stack.settings, "colours", repair=True) == 0
    out = capsys.readouterr().out
    assert "replaced by a new one, every poll refilled" in out and "repair: 5 ballots added to the index" in out
    assert results(client, stack) == ({"red": 2, "blue": 3}, "index")
    assert results(client, stack, "shapes") == ({"square": 1}, "index")  # the other poll was refilled too
    assert run(stack.settings, "shapes", repair=False) == 0
    wait_until(lambda: deep_health(client) == {"status": "ok", "stream": ANY, "index": {"available": True}},
               message="deep health ok again")  # it asks the index at most once a second
    with sqlite3.connect(stack.settings.index_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # And the stream writes into the new file again.
    assert vote(client, stack, "red", voter="after").status_code == 201
    runner.drain()
    assert results(client, stack) == ({"red": 3, "blue": 3}, "index")
