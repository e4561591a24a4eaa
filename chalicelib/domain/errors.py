"""What can go wrong in a use case, in words a client can act on.

The API layer maps each kind to one HTTP status; the domain never speaks HTTP.
"""


class TallyError(Exception):
    """Base of every refusal the domain or a service can give."""


class Invalid(TallyError):
    """The request is malformed or breaks a rule of its own (400)."""


class Forbidden(TallyError):
    """The caller is known but may not do this (403)."""


class NotFound(TallyError):
    """An unknown poll, candidate or ballot (404)."""


class Conflict(TallyError):
    """The request clashes with the current state (409)."""


class Throttled(TallyError):
    """A dependency asked us to slow down (429); retry_after_s when it says for how long."""

    def __init__(self, message: str, retry_after_s: int = 0):
        super().__init__(message)
        self.retry_after_s = retry_after_s
