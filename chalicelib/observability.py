"""Logger, Metrics and Tracer as module singletons, the Powertools way.

Logs are JSON with the API Gateway request id as correlation id; a voter appears in them only as a keyed
pseudonym of the token's sub (domain/voters.py: VoterKeys.log_ref), never the sub or the username.
Metrics go out as EMF. Tracing is on where POWERTOOLS_TRACE_DISABLED is not set (prod), and
the X-Ray SDK is only imported there.

What a vote costs in logs is kept small on purpose (docs/big-vote.md, capacity/vote_cost.py):
- An accepted or repeated vote is logged only on the sampled share of invocations: Powertools' log sampling
  (POWERTOOLS_LOGGER_SAMPLE_RATE, set per stage in .chalice/config.json) raises the logger to DEBUG for that
  share, and `log_sampled` writes the line then. It writes it at INFO, not DEBUG, because on AWS Lambda's own
  log-level filter (the functions' LoggingConfig, ApplicationLogLevel INFO) drops DEBUG lines after they are
  written, sampled or not.
- Every refusal and every error is logged at INFO or above, always.
- Accepted votes are counted exactly by the tally consumer (metric BallotsCounted: the new ballots each batch
  adds to the counters), not by an EMF line per vote. An invocation with no metric prints nothing.
"""
import logging
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "Tally"

logger = Logger(service="tally")
metrics = Metrics(namespace=NAMESPACE, service="tally")
tracer = Tracer(service="tally")

# Most API invocations add no metric now (an accepted vote is counted by the consumer): Powertools' flush would
# warn about it through `warnings`, which reaches the function's log. An empty flush is the normal case here.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)


def count_rejection(reason: str) -> None:
    # A dimension of its own, so it must not join the request's other metrics.
    with single_metric(name="VotesRejected", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="reason", value=reason)


def sampled() -> bool:
    """Whether this invocation is in the sampled share (or the logger runs at DEBUG anyway)."""
    return logger.log_level <= logging.DEBUG


def log_sampled(message: str, **extra: object) -> None:
    """An INFO line for the sampled share of invocations only: routine successes, not refusals or errors."""
    if sampled():
        logger.info(message, extra=extra)
