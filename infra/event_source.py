"""The tally function's event source mapping as the template deploys it, read from where the deploy reads it:
batch size and batching window from the handler's decorator (chalicelib/events/tally.py, through the app's event
sources, as `chalice package` does), retries, bisection, record age, tumbling window and parallelisation from
infra/stream.json. The local stream runner plays the mapping with these settings; capacity/ models them.
"""
from dataclasses import dataclass
from functools import lru_cache

from infra import piece


@dataclass(frozen=True)
class EventSourceMapping:
    batch_size: int
    batching_window_s: float
    max_retries: int
    bisect_on_error: bool
    max_record_age_s: int
    tumbling_window_s: int
    parallelization_factor: int


@lru_cache(maxsize=1)
def deployed() -> EventSourceMapping:
    from app import app

    (source,) = [s for s in app.event_sources if s.name == "tally_ballots"]
    events = piece("stream")["Resources"]["TallyBallots"]["Properties"]["Events"]
    mapping = events["TallyBallotsDynamodbEventSource"]["Properties"]
    return EventSourceMapping(
        batch_size=source.batch_size,
        batching_window_s=source.maximum_batching_window_in_seconds or 0,
        max_retries=mapping["MaximumRetryAttempts"],
        bisect_on_error=mapping["BisectBatchOnFunctionError"],
        max_record_age_s=mapping["MaximumRecordAgeInSeconds"],
        tumbling_window_s=mapping["TumblingWindowInSeconds"],
        parallelization_factor=mapping["ParallelizationFactor"],
    )
