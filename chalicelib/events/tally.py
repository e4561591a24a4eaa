"""The ballots stream's handler, as Chalice registers it for Lambda and as the local stream runner calls it."""
import os
from typing import Optional, cast

from chalice.app import Blueprint, DynamoDBEvent

bp = Blueprint(__name__)

# The real ARN exists only once the table does: the packaged template puts it in the event source mapping.
STREAM_ARN = os.environ.get(
    "TALLY_BALLOTS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/tally-ballots/stream/unset")


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=500, starting_position="TRIM_HORIZON",
                       maximum_batching_window_in_seconds=1)
def tally_ballots(event: DynamoDBEvent) -> dict:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from . import consumer
    # Chalice annotates an event's context as a dict; Lambda hands it its context object.
    return consumer.handle(event.to_dict(), cast(Optional[LambdaContext], event.context))
