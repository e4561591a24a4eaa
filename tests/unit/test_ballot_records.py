import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.events.ballot_records import NotABallot, read_ballot


def record(event_name="INSERT", sequence="1234", **image):
    fields = {"poll_id": "demo", "voter_id": "v-1", "candidate": "red", "cast_at": "2026-11-22T10:00:00.123Z"}
    fields.update(image)
    new_image = {k: {"S": v} for k, v in fields.items() if v is not None}
    return DynamoDBRecord({"eventID": "e1", "eventName": event_name,
                           "dynamodb": {"NewImage": new_image, "SequenceNumber": sequence}})


def test_an_insert_is_a_ballot_with_a_fixed_width_sequence():
    read = read_ballot(record())
    assert read.ballot.candidate == "red" and read.ballot.cast_at == "2026-11-22T10:00:00.123Z"
    assert read.sequence == "1234".zfill(40)


def test_a_filled_blank_is_a_ballot():
    # A roll voter's vote is the one MODIFY the API makes: their blank, filled.
    read = read_ballot(record("MODIFY"))
    assert read.ballot.candidate == "red" and read.sequence == "1234".zfill(40)


def test_a_blank_counts_nothing():
    blank = DynamoDBRecord({"eventID": "e1", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "1234", "NewImage": {
        "poll_id": {"S": "demo"}, "voter_id": {"S": "v-1"}, "blank": {"BOOL": True}}}})
    assert read_ballot(blank) is None


def test_a_removal_counts_nothing():
    assert read_ballot(record("REMOVE")) is None


@pytest.mark.parametrize("changes", [
    {"candidate": None}, {"voter_id": None}, {"poll_id": "Not An Id"}, {"candidate": "x" * 64},
    {"cast_at": "2026-13-22T10:00:00.000Z"}, {"cast_at": "2026-11-22T10:00:00Z"}, {"cast_at": None},
    {"sequence": "12ab"}, {"sequence": "1" * 41},
])
def test_records_no_ballot_could_have_written_are_refused(changes):
    sequence = changes.pop("sequence", "1234")
    with pytest.raises(NotABallot):
        read_ballot(record(sequence=sequence, **changes))
