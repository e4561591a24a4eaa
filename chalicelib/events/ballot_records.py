"""Reading one ballots-stream record, in Lambda's event shape, into a StreamBallot."""
from typing import Optional

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName

from ..domain.ballots import Ballot
from ..domain.polls import is_valid_id
from ..domain.stream import StreamBallot, sequence_key
from ..domain.times import parse_instant


class NotABallot(ValueError):
    """A record on the ballots stream that no ballot could have written: it goes to the dead letters."""


def read_ballot(record: DynamoDBRecord) -> Optional[StreamBallot]:
    """The new ballot in the record, or None for records with nothing to count (ballots never change)."""
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return None
    image = record.dynamodb.new_image or {}
    poll_id, voter_id = image.get("poll_id"), image.get("voter_id")
    candidate, cast_at = image.get("candidate"), image.get("cast_at")
    if not (is_valid_id(poll_id) and is_valid_id(candidate) and isinstance(voter_id, str) and voter_id):
        raise NotABallot(f"record {record.event_id} has no poll_id, voter_id and candidate of a ballot")
    try:
        if parse_instant(cast_at, "cast_at") != cast_at:
            raise ValueError(cast_at)
        sequence = sequence_key(record.dynamodb.sequence_number or "")
    except ValueError:
        raise NotABallot(f"record {record.event_id} has no valid cast_at or sequence number") from None
    return StreamBallot(sequence=sequence,
                        ballot=Ballot(poll_id=poll_id, voter_id=voter_id, candidate=candidate, cast_at=cast_at))
