"""When to resend a request, and how long to wait first: the one policy every tool shares.

Resending is always safe: the API answers a resent ballot with 200 and the ballot that stands, so a retry never
counts anyone twice (openapi.yaml, at its top), and a resent roll change answers the entries done already as such.
What is worth a resend is an answer that says "not now" (429), a failure of the service (5xx) or a connection that
was lost. The wait is capped exponential backoff with full
jitter, so a crowd throttled together does not come back together, and never shorter than the server's
Retry-After.
"""
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable, Iterator, Mapping, Optional, Tuple

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LOST = None  # the status of an attempt whose connection failed before an answer came


def worth_resending(status: Optional[int]) -> bool:
    return status is LOST or status in RETRY_STATUSES


def retry_after_s(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float:
    """Retry-After as seconds to wait (delta-seconds or an HTTP date); 0 when absent or unreadable."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError):
        return 0.0


@dataclass
class Backoff:
    base_s: float = 0.25
    cap_s: float = 8.0
    give_up_after_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def delays(self) -> Iterator[float]:
        """Full jitter: uniform in [0, min(cap, base * 2^n)] before resend n + 1."""
        attempt = 0
        while True:
            yield self.rng.uniform(0, min(self.cap_s, self.base_s * 2 ** attempt))
            attempt += 1


Answer = Tuple[Optional[int], Mapping[str, str], object]  # (status or LOST, headers, body)


def send_until_answered(send: Callable[[], Answer], policy: Optional[Backoff] = None,
                        sleep: Callable[[float], None] = time.sleep,
                        clock: Callable[[], float] = time.monotonic,
                        on_retry: Callable[[Answer, float], None] = lambda answer, wait: None) -> Answer:
    """Send, and resend while the answer is worth resending and the time allowed lasts. Returns the last answer
    (which may still be a 429, a 5xx or LOST when the time ran out)."""
    policy = policy or Backoff()
    deadline = clock() + policy.give_up_after_s
    delays = policy.delays()
    while True:
        answer = send()
        if not worth_resending(answer[0]):
            return answer
        wait = max(next(delays), retry_after_s(answer[1]))
        if clock() + wait > deadline:
            return answer
        on_retry(answer, wait)
        sleep(wait)
