"""What every DynamoDB adapter shares: turning throttling into a refusal the API can answer with 429."""
from contextlib import contextmanager

from botocore.exceptions import ClientError

from ..domain.errors import Throttled

THROTTLING_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


@contextmanager
def throttling_as_refusal():
    try:
        yield
    except ClientError as error:
        if error_code(error) in THROTTLING_CODES:
            raise Throttled("Too many requests right now; try again in a moment.") from error
        raise
