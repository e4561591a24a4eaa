"""What every DynamoDB adapter shares: turning throttling into a refusal the API can answer with 429."""
from contextlib import contextmanager
from typing import Iterator, Optional

from botocore.exceptions import ClientError

from ..domain.errors import Throttled

THROTTLING_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def refused_item(error: ClientError) -> Optional[dict]:
    """The stored item a refused conditional write answers with (ReturnValuesOnConditionCheckFailure ALL_OLD):
    DynamoDB's addition to the error, which botocore's types of an error do not know."""
    item = error.response.get("Item")
    return item if isinstance(item, dict) else None


@contextmanager
def throttling_as_refusal() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if error_code(error) in THROTTLING_CODES:
            raise Throttled("Too many requests right now; try again in a moment.") from error
        raise
