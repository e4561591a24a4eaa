"""Tally's Chalice app: routes and handlers registered here, everything else in chalicelib."""
from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware, CORSConfig

from chalicelib.api import auth, headers, polls, public, results, roll, votes
from chalicelib.events import tally
from chalicelib.observability import logger, metrics, tracer

app = Chalice(app_name="tally", configure_logs=False)  # Powertools owns logging
# The dashboard is served from another origin: let it send If-None-Match and read ETag, and cache the preflight.
app.api.cors = CORSConfig(allow_origin="*", allow_headers=["If-None-Match"], expose_headers=["ETag", "Retry-After"],
                          max_age=600)
# Outermost first: logging context, then the trace, then metrics flushed at the end of every invocation.
app.register_middleware(ConvertToMiddleware(
    logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)), "http")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)), "dynamodb")
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler), "all")
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")
headers.install(app)  # outside auth, so that its refusals carry the headers too
auth.install(app)
app.register_blueprint(public.bp)
app.register_blueprint(polls.bp)
app.register_blueprint(roll.bp)
app.register_blueprint(votes.bp)
app.register_blueprint(results.bp)
app.register_blueprint(tally.bp)
