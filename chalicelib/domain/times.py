"""One textual form for every instant Tally stores or returns.

Fixed width and always UTC, so that DynamoDB conditions can compare instants as strings.
"""
from datetime import datetime, timezone

from .errors import Invalid


def format_instant(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_instant(text: object, field: str) -> str:
    """Read a client's ISO 8601 instant and return it in Tally's stored form."""
    if not isinstance(text, str) or len(text) > 40:
        raise Invalid(f"{field} must be an ISO 8601 time such as 2026-11-22T10:00:00Z.")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{field} must be an ISO 8601 time such as 2026-11-22T10:00:00Z.") from None
    if moment.tzinfo is None:
        raise Invalid(f"{field} must say its time zone, for example 2026-11-22T10:00:00Z.")
    return format_instant(moment)


def utc_now() -> str:
    return format_instant(datetime.now(timezone.utc))
