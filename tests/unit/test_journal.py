"""The moto server's journal (devstack/journal.py) on its own: records come back in order, many writers share one
fsync and none is told "done" before its record is on disk, a crash's half-written last record is dropped, and
a hole in the history is refused in one sentence rather than replayed around."""
import os
import threading

import pytest

from devstack import journal
from devstack.journal import Journal, JournalDamaged, Reading


def failing(why):
    raise AssertionError(why)


def written(directory, count, first=1, **options) -> Journal:
    kept = Journal(directory, first, on_failure=failing, **options)
    for n in range(count):
        kept.wait(kept.append({"REQUEST_METHOD": "POST", "PATH_INFO": "/", "n": str(n)}, b"body %d" % n).seq)
    return kept


def read(directory, after=0):
    reading = Reading(directory, after)
    return [(r.seq, r.body) for r in reading], reading


def test_records_come_back_in_order_with_their_request_time_and_seed(tmp_path):
    kept = Journal(tmp_path, 1, on_failure=failing)
    first = kept.append({"REQUEST_METHOD": "POST", "wsgi.input": object(), "HTTP_X_AMZ_TARGET": "DynamoDB.PutItem"},
                        b"one")
    second = kept.append({"REQUEST_METHOD": "POST"}, b"two")
    kept.wait(second.seq)
    records = list(Reading(tmp_path, 0))
    assert [r.seq for r in records] == [1, 2] and [r.body for r in records] == [b"one", b"two"]
    assert records[0].environ == {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB.PutItem"}  # no objects
    assert (records[0].at, records[0].seed) == (first.at, first.seed) and first.seed != second.seed


def test_many_writers_share_fsyncs_and_each_waits_for_its_own_record(tmp_path):
    def slow_disk(fd):  # a disk that takes a while, so that writers pile up behind one sync
        slow.wait(0.002)
        os.fdatasync(fd)

    slow = threading.Event()
    kept = Journal(tmp_path, 1, fsync=slow_disk, on_failure=failing)
    lock = threading.Lock()  # the moto server's request lock
    seen = []

    def writer(w):
        for n in range(25):
            with lock:
                record = kept.append({"w": str(w)}, b"%d" % n)
            kept.wait(record.seq)
            seen.append(kept.durable >= record.seq)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 200 and all(seen)
    assert kept.syncs < 100, f"{kept.syncs} fsyncs for 200 records: no group commit"
    assert [seq for seq, _ in read(tmp_path)[0]] == list(range(1, 201))


def test_an_answer_waits_until_its_record_is_on_disk(tmp_path):
    entered, release = threading.Event(), threading.Event()

    def held_disk(fd):
        entered.set()
        release.wait(10)
        os.fdatasync(fd)

    kept = Journal(tmp_path, 1, fsync=held_disk, on_failure=failing)
    record = kept.append({}, b"vote")
    waiter = threading.Thread(target=kept.wait, args=(record.seq,))
    waiter.start()
    assert entered.wait(10)
    assert waiter.is_alive() and kept.durable < record.seq  # the fsync has not returned: no answer yet
    release.set()
    waiter.join(10)
    assert not waiter.is_alive() and kept.durable == record.seq


def test_a_record_cut_short_by_a_crash_is_dropped_and_writing_goes_on_after_it(tmp_path):
    written(tmp_path, 3)
    (_, path), = journal.segments(tmp_path)
    whole = path.stat().st_size
    with open(path, "ab") as out:
        out.write(journal.encode(journal.Record(4, 0.0, 0, {}, b"x" * 100))[:40])  # the crash came mid-write
    records, reading = read(tmp_path)
    assert [seq for seq, _ in records] == [1, 2, 3]
    assert reading.tail.path == path and reading.tail.offset == whole
    journal.drop_tail(reading.tail)
    assert path.stat().st_size == whole
    written(tmp_path, 1, first=reading.last_seq + 1)
    records, reading = read(tmp_path)
    assert [seq for seq, _ in records] == [1, 2, 3, 4] and reading.tail is None


def test_a_snapshot_drops_the_segments_it_covers(tmp_path):
    kept = written(tmp_path, 3)
    covered = kept.rotate()
    kept.wait(kept.append({}, b"after").seq)
    assert covered == 3 and len(journal.segments(tmp_path)) == 2
    kept.drop_through(covered)
    assert [first for first, _ in journal.segments(tmp_path)] == [4]
    records, _ = read(tmp_path, after=covered)
    assert records == [(4, b"after")]


def test_a_missing_segment_is_refused_in_one_sentence_that_says_what_to_do(tmp_path):
    kept = written(tmp_path, 2)
    kept.rotate()
    kept.wait(kept.append({}, b"3").seq)
    kept.rotate()
    kept.wait(kept.append({}, b"4").seq)
    middle = journal.segments(tmp_path)[1][1]
    middle.unlink()
    with pytest.raises(JournalDamaged) as refused:
        read(tmp_path)
    sentence = str(refused.value)
    assert "lacks records 3 to 3" in sentence and journal.segment_name(4) in sentence
    assert "make reset" in sentence and "loses every poll" in sentence and "\n" not in sentence


def test_damage_with_records_after_it_is_refused_not_taken_for_a_crash(tmp_path):
    kept = written(tmp_path, 3)
    kept.rotate()
    kept.wait(kept.append({}, b"4").seq)
    first = journal.segments(tmp_path)[0][1]
    data = bytearray(first.read_bytes())
    data[-3] ^= 0xFF  # a flipped byte in the last record of the first segment
    first.write_bytes(bytes(data))
    with pytest.raises(JournalDamaged) as refused:
        read(tmp_path)
    assert str(first) in str(refused.value) and "checksum" in str(refused.value)


def test_a_missing_snapshot_is_named(tmp_path):
    kept = written(tmp_path, 2)
    kept.drop_through(kept.rotate())
    kept.wait(kept.append({}, b"3").seq)
    with pytest.raises(JournalDamaged) as refused:
        journal.check(tmp_path, 0, snapshot_missing=tmp_path / "moto-state.pickle")
    assert "moto-state.pickle is missing" in str(refused.value)


def test_a_bad_record_with_whole_ones_after_it_is_damage_even_in_the_last_segment(tmp_path):
    written(tmp_path, 3)
    (_, path), = journal.segments(tmp_path)
    data = bytearray(path.read_bytes())
    data[journal.HEADER.size + 2] ^= 0xFF  # inside the first record's payload
    path.write_bytes(bytes(data))
    with pytest.raises(JournalDamaged) as refused:
        read(tmp_path)
    assert "at byte 0" in str(refused.value) and "whole records follow it" in str(refused.value)
