"""One textual form for every instant Tally stores or returns.

Fixed width and always UTC, so that DynamoDB conditions can compare instants as strings.
"""
import re
from datetime import datetime, timedelta, timezone
from typing import TypeGuard

from .errors import Invalid


def format_instant(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# The stored form compares as a string only while the year has four digits; and an instant near either end of
# datetime's range cannot be moved to UTC at all.
EARLIEST_YEAR, LATEST_YEAR = 2000, 9998


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
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Invalid(f"{field} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
    return format_instant(moment)


_STORED_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def is_instant(text: object) -> TypeGuard[str]:
    """Whether text is an instant in Tally's stored form (and a real one: no 13th month)."""
    if not isinstance(text, str) or not _STORED_FORM.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def utc_now() -> str:
    return format_instant(datetime.now(timezone.utc))


def later(instant: str, seconds: float) -> str:
    """The instant `seconds` after a stored-form instant, in the stored form."""
    return format_instant(datetime.fromisoformat(instant) + timedelta(seconds=seconds))
