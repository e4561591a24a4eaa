"""One request to the API and its answer: (status, headers, body), with status LOST when no answer came. 4xx and
5xx are answers to show, not exceptions; tally_client.resend decides which are worth sending again."""
import http.client
import json
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

from tally_client.resend import LOST

RawAnswer = Tuple[Optional[int], Dict[str, str], bytes]  # (status or LOST, headers, body)
Answer = Tuple[Optional[int], Dict[str, str], Any]  # the body decoded


class Failure(Exception):
    """Something the person can act on, said in their terms: a tool prints it as is."""


class Unreachable(Failure):
    """No answer came from the API: a tool adds how it is pointed at another one."""


def send_raw(api: str, method: str, path: str, token: Optional[str] = None, body: Optional[dict] = None,
             timeout: float = 30) -> RawAnswer:
    """One request; returns (status, headers, the body's bytes), with status LOST and the reason as the body's
    text when no answer came. For answers that are not JSON (the results CSV)."""
    request = urllib.request.Request(api.rstrip("/") + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), error.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:  # no answer, or half of one
        return LOST, {}, str(getattr(error, "reason", error) or type(error).__name__).encode()


def send(api: str, method: str, path: str, token: Optional[str] = None, body: Optional[dict] = None,
         timeout: float = 30) -> Answer:
    """One request; returns (status, headers, decoded JSON), with status LOST when no answer came."""
    status, headers, raw = send_raw(api, method, path, token, body, timeout)
    if status is LOST:
        return LOST, {}, {"Code": "ConnectionLost", "Message": raw.decode(errors="replace")}
    try:
        return status, headers, json.loads(raw) if raw else {}
    except ValueError:
        # A proxy or a crashed server may answer with HTML; keep the API's error shape for the caller.
        return status, headers, {"Code": "NotJson", "Message": raw.decode(errors="replace")[:300]}


def unreachable(api: str, body: dict) -> Unreachable:
    """What to raise for an answer that never came (`body` as send gives it for LOST)."""
    return Unreachable(f"Cannot reach the API at {api} ({body['Message']}).")


def call(api: str, method: str, path: str, token: Optional[str] = None,
         body: Optional[dict] = None) -> Tuple[int, Any]:
    """One request; returns (status, decoded JSON); no answer at all raises Unreachable."""
    status, _, answer = send(api, method, path, token, body)
    if status is LOST:
        raise unreachable(api, answer)
    return status, answer
