"""Reading a request: its JSON body and the verified caller the auth middleware attached."""
import json
from typing import Callable, Optional

from chalice.app import Request

from ..adapters.cognito_tokens import Caller
from ..domain.errors import Invalid
from .marks import View, mark

MAX_BODY_BYTES = 16 * 1024
# A roll change carries up to 1,000 entries of up to 128 characters (domain/roll.py), each of which JSON may
# escape to 6 bytes (\uXXXX): its routes take the largest body a well-formed change can be.
MAX_ROLL_BODY_BYTES = 800 * 1024
LARGEST_BODY_BYTES = MAX_ROLL_BODY_BYTES  # what any route takes: the local server reads no more


def body_limit(max_bytes: int) -> Callable[[View], View]:
    """Let a view take a body up to `max_bytes` instead of MAX_BODY_BYTES (api/auth.py enforces it)."""
    return lambda view: mark(view, tally_max_body_bytes=max_bytes)


def kib(n: int) -> str:
    return f"{n} bytes ({n // 1024} KiB)"


def json_object(request: Request, optional: bool = False) -> dict:
    raw = request.raw_body
    if not raw or not raw.strip():
        if optional:
            return {}
        raise Invalid("The request needs a JSON object as its body.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid(f"The body is not valid JSON: {error}.") from None
    except RecursionError:
        # 16 KiB of "[" nests deeper than the parser's stack allows; no body Tally reads nests more than twice.
        raise Invalid("The body's JSON nests too deeply.") from None
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    return body


def query(request: Request, *names: str) -> dict:
    """The query parameters, refusing any the route does not take (a misspelt one would be ignored silently)."""
    params = dict(request.query_params or {})
    extra = set(params) - set(names)
    if extra:
        taken = ", ".join(names) if names else "none"
        unknown = ", ".join(sorted(repr(e) for e in extra))
        raise Invalid(f"Unknown query parameters: {unknown}. This route takes {taken}.")
    return params


def caller(request: Request) -> Caller:
    who: Caller = request.context["tally_caller"]  # set by api/auth.py
    return who


def operator(request: Request) -> Caller:
    """The caller, if they are an operator now: services/operators.py asks the user pool, not only the token."""
    from .. import runtime

    who = caller(request)
    runtime.get().operators.confirm(who.username, who.groups)
    return who


def optional_id(value: object, name: str) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string.")
    return value
