"""The model's measured and assumed figures: flags whose defaults are the recorded measurements (bench/RESULTS.md,
with the command that measured each) or an assumption said as one, and the defaults read from the project (the
access log's line, the vote page's weight)."""
import argparse

import capacity
from capacity.deployment import ROOT, access_log, page_weight, read_json

MEASURED_CPU = "measured here: .venv/bin/python -m bench.vote_cpu (bench/RESULTS.md)"



def parser() -> argparse.ArgumentParser:
    """The flags: a measured figure defaults to its recorded measurement, any other says it is assumed."""
    p = argparse.ArgumentParser(description=capacity.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=None,
                   help="votes/s with the template's defaults; by default the try-out's peak (infra/deployment.py)")
    p.add_argument("--big-vote-rate", type=float, default=None,
                   help="votes/s with the big-vote parameters; by default its Audience's peak (big-vote.json)")
    function_flags(p)
    storage_flags(p)
    visit_flags(p)
    return p


def function_flags(p: argparse.ArgumentParser) -> None:
    """The functions' CPU, memory, log lines and waits."""
    p.add_argument("--api-cpu-ms", type=float, default=3.29,
                   help=f"function CPU per warm vote, one core; {MEASURED_CPU}")
    p.add_argument("--resident-mb", type=float, default=67, help=f"RSS after importing app.py; {MEASURED_CPU}")
    p.add_argument("--vote-line-bytes", type=int, default=300, help=f"a sampled 'vote accepted' line; {MEASURED_CPU}")
    p.add_argument("--refusal-line-bytes", type=int, default=299, help=f"a 'vote refused' line; {MEASURED_CPU}")
    p.add_argument("--refusal-emf-bytes", type=int, default=228, help=f"its VotesRejected EMF line; {MEASURED_CPU}")
    p.add_argument("--lambda-context-bytes", type=int, default=200,
                   help="fields Lambda adds to each line that the test client has not (function ARN, correlation "
                        "and X-Ray ids, memory size): assumed from their lengths")
    p.add_argument("--import-ms", type=float, default=283.4,
                   help="a cold start's import of the precompiled package, one core; measured here: "
                        ".venv/bin/python -m bench.cold_start --zip build/package/deployment.zip")
    p.add_argument("--tally-us-per-record", type=float, default=19.5,
                   help="tally handler CPU per record, one core; measured here: .venv/bin/python -m bench.pipeline")
    p.add_argument("--cpu-factor", type=float, default=1.0,
                   help="a Lambda arm64 (Graviton) core against this machine's, for this code: assumed equal, "
                        "not measured")
    p.add_argument("--dynamodb-wait-ms", type=float, default=6,
                   help="a conditional PutItem's round trip from Lambda: assumed from 'single-digit millisecond' "
                        "(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Introduction.html)")
    p.add_argument("--tally-wait-ms", type=float, default=40,
                   help="a batch's waits: one UpdateItem + one OpenSearch _bulk: assumed")
    p.add_argument("--tally-idle-ms", type=float, default=3, help="a window's closing invocation, no records: assumed")


def storage_flags(p: argparse.ArgumentParser) -> None:
    """The votes' mix, the tables' reads and writes, the log lines and the results index."""
    p.add_argument("--refusal-share", type=float, default=0.02,
                   help="vote requests refused (409, 429, 400): assumed; the load test's mix has 5%%")
    p.add_argument("--resend-share", type=float, default=0.05,
                   help="vote requests that resend a ballot (200: no stream record): assumed")
    p.add_argument("--ballot-wru", type=float, default=1, help="WRU per ballot PutItem (items <= 1 KB: 1)")
    p.add_argument("--ballot-item-bytes", type=int, default=250, help="a stored ballot: keys, candidate, times")
    p.add_argument("--polls-per-batch", type=float, default=1, help="distinct polls in a batch")
    p.add_argument("--polls-voted", type=float, default=1, help="polls taking votes at once")
    p.add_argument("--poll-cache-s", type=float, default=5, help="TALLY_POLL_CACHE_SECONDS")
    p.add_argument("--poll-rru", type=float, default=1, help="RRU per consistent GetItem of a poll (<= 4 KB)")
    p.add_argument("--platform-line-bytes", type=int, default=300,
                   help="a JSON START/END/REPORT line, were SystemLogLevel INFO: assumed")
    p.add_argument("--batch-line-bytes", type=int, default=520, help="the tally's 'batch tallied' line: assumed")
    p.add_argument("--batch-emf-bytes", type=int, default=420, help="the tally's EMF line, 3 metrics: assumed")
    p.add_argument("--access-log-bytes", type=int, default=None,
                   help="a vote's API Gateway JSON access log line: by default infra/api.json's format rendered "
                        "with an accepted vote's values (VOTE_ACCESS_CONTEXT)")
    p.add_argument("--access-log-class", choices=("INFREQUENT_ACCESS", "STANDARD"), default=None,
                   help="the access-log group's class, by default as infra/api.json sets it: Infrequent Access halves "
                        "the price, and access logs need neither metric filters nor EMF (at STANDARD the budget does "
                        "not hold: see the total)")
    p.add_argument("--index-docs-per-vcpu", type=int, default=2500,
                   help="results-index ingest of ~300-byte ballots in _bulk requests per vCPU: ASSUMED, not "
                        "measured (no OpenSearch runs on these machines): load-test the stage's index before an event")


def visit_flags(p: argparse.ArgumentParser) -> None:
    """A voter's visit on the wire, the reads behind the CDN and an event's month."""
    p.add_argument("--answer-bytes", type=int, default=600,
                   help="a function request's answer on the wire: a vote's 187-byte body (VOTE_ACCESS_CONTEXT) and "
                        "~400 B of headers (CORS, security, Retry-After, request ids): assumed")
    p.add_argument("--document-bytes", type=int, default=1500,
                   help="the poll's public document as CloudFront sends it (compressed, with headers), 12 "
                        "candidates and their counts: assumed")
    p.add_argument("--config-bytes", type=int, default=800, help="GET /config's answer: assumed")
    p.add_argument("--cognito-exchange-bytes", type=int, default=4000,
                   help="one exchange with the user pool (tokens: ID, access, refresh): assumed")
    p.add_argument("--origin-document-rps", type=float, default=1,
                   help="origin requests a second for one poll's public document, whatever the audience: its "
                        "max-age of ~1 s behind Origin Shield (issue 19; bench/audience.py measures the local "
                        "stand-in)")
    p.add_argument("--origin-config-rps", type=float, default=1, help="origin requests a second for /config: assumed")
    p.add_argument("--edge-locations", type=int, default=50,
                   help="edge locations that ask Origin Shield for the document during an event: assumed")
    p.add_argument("--event-open-hours", type=float, default=2, help="hours the poll is watched per event: assumed")
    p.add_argument("--kms-callers", type=float, default=2,
                   help="function environments touching the tables outside events (the month's baseline): assumed")


def model_inputs(argv=None) -> argparse.Namespace:
    """The model's inputs: the flags, and what the defaults of some of them are read from (infra/api.json's access
    log, the vote page's files)."""
    p = parser()
    args = p.parse_args(argv)
    args.parser = p
    line_bytes, log_class = access_log(read_json(ROOT / "infra" / "api.json"))
    args.access_log_bytes = line_bytes if args.access_log_bytes is None else args.access_log_bytes
    args.access_log_class = log_class if args.access_log_class is None else args.access_log_class
    args.page_weight = page_weight()
    return args
