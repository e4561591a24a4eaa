"""Logger, Metrics and Tracer as module singletons, the Powertools way.

Logs are JSON with the API Gateway request id as correlation id; a voter appears in them only as a hash of
the token's sub. Metrics go out as EMF. Tracing is on where POWERTOOLS_TRACE_DISABLED is not set (prod), and
the X-Ray SDK is only imported there.
"""
import hashlib

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "Tally"

logger = Logger(service="tally")
metrics = Metrics(namespace=NAMESPACE, service="tally")
tracer = Tracer(service="tally")


def voter_ref(sub: str) -> str:
    """A stable handle for a voter in logs that does not identify them."""
    return hashlib.sha256(sub.encode()).hexdigest()[:16]


def count(name: str, value: float = 1, unit: str = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)


def count_rejection(reason: str) -> None:
    # A dimension of its own, so it must not join the request's other metrics.
    with single_metric(name="VotesRejected", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="reason", value=reason)
