"""Domain refusals as Chalice errors, so every failure has the API's shape: {"Code", "Message"}."""
import functools

from chalice import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    TooManyRequestsError,
)

from ..domain import errors

_AS_HTTP = {
    errors.Invalid: BadRequestError,
    errors.Forbidden: ForbiddenError,
    errors.NotFound: NotFoundError,
    errors.Conflict: ConflictError,
    errors.Throttled: TooManyRequestsError,
}


def answers_refusals(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except errors.TallyError as refusal:
            raise _AS_HTTP[type(refusal)](str(refusal)) from None
    return wrapper
