"""Vote routes: cast one ballot per poll, and read your own back."""
from chalice import Response

from .. import runtime
from ..domain.ballots import ballot_view
from ..domain.errors import Invalid, TallyError
from ..observability import count_rejection, log_sampled, logger, tracer
from .auth import secret_ballot
from .errors import Blueprint
from .requests import caller, json_object, optional_id, query

bp = Blueprint(__name__)


@bp.route("/votes/{candidate}", methods=["POST"])
@secret_ballot
def cast_vote(candidate: str) -> Response:
    request = bp.current_request
    try:
        body = json_object(request, optional=True)
        extra = set(body) - {"poll_id"}
        if extra:
            raise Invalid(f"Unknown fields: {', '.join(sorted(extra))}. A vote's body holds only poll_id.")
        ballot, created = runtime.get().votes.cast(
            sub=caller(request).sub,
            candidate=candidate,
            poll_id=optional_id(body.get("poll_id"), "poll_id"),
        )
    except TallyError as refusal:
        reason = type(refusal).__name__.lower()
        count_rejection(reason)
        tracer.put_annotation(key="outcome", value=reason)
        # Not the refusal's message: "You already voted for red" would name the ballot.
        logger.info("vote refused", extra={"reason": reason})
        raise
    outcome = "accepted" if created else "repeated"
    tracer.put_annotation(key="poll_id", value=ballot.poll_id)
    tracer.put_annotation(key="outcome", value=outcome)
    # Counted exactly by the tally consumer (BallotsCounted), not by an EMF line per vote; logged for the sampled
    # share of invocations only. The ballot is secret: a vote's log lines name neither the voter nor the candidate.
    log_sampled("vote " + outcome, poll_id=ballot.poll_id)
    return Response(body=ballot_view(ballot), status_code=201 if created else 200)


@bp.route("/votes/mine", methods=["GET"])
@secret_ballot
def my_vote() -> dict:
    request = bp.current_request
    params = query(request, "poll_id")
    ballot = runtime.get().votes.mine(caller(request).sub, params.get("poll_id"))
    return ballot_view(ballot)
