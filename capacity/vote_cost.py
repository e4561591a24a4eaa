"""The vote request at the origin, per million votes, by component: the scope of issue 5's $4.50 budget (API
Gateway, the API function, the ballot write, the stream and the tally, their logs and traces); and what the API
function's memory buys. Pure computation on the model's inputs, the deployment and the published figures."""
import math
from typing import Dict, List, Tuple

from capacity.deployment import Deployment
from capacity.published import Limits, Prices

MILLION = 1_000_000
GB = 1024 ** 3
BUDGET_PER_MILLION = 4.50
Row = Tuple[str, float, str]  # (component, USD, how it is counted)


def api_billed_ms(args, deploy: Deployment, limits: Limits, memory_mb: int = 0) -> float:
    memory_mb = memory_mb or deploy.memory_mb
    cpu = args.api_cpu_ms * args.cpu_factor * max(1.0, limits.lambda_mb_per_vcpu / memory_mb)
    return math.ceil(cpu + args.dynamodb_wait_ms)  # Lambda bills by the millisecond, rounded up


def cold_start_s(args, deploy: Deployment, limits: Limits, memory_mb: int = 0) -> float:
    memory_mb = memory_mb or deploy.memory_mb
    return args.import_ms * args.cpu_factor * max(1.0, limits.lambda_mb_per_vcpu / memory_mb) / 1000


def stream_shape(rate: float, args, deploy: Deployment) -> Dict[str, float]:
    shards = deploy.partitions
    per_shard = rate / shards
    batch = max(1.0, min(deploy.batch_size, per_shard * max(deploy.batching_window_s, 1)))
    seconds = MILLION / rate
    batches = MILLION * (1 - args.refusal_share - args.resend_share) / batch  # only new ballots reach the stream
    closing = shards * seconds / deploy.tumbling_window_s if deploy.tumbling_window_s else 0.0
    return {"shards": shards, "batch": batch, "batches": batches, "closing": closing, "seconds": seconds}


def tally_billed_ms(batch: float, args, deploy: Deployment, limits: Limits) -> float:
    cpu = batch * args.tally_us_per_record / 1000 * args.cpu_factor * max(1.0, limits.lambda_mb_per_vcpu
                                                                          / deploy.tally_memory_mb)
    return math.ceil(cpu + args.tally_wait_ms)


def access_log_price(args, prices: Prices) -> float:
    return prices.logs_per_gb if args.access_log_class == "STANDARD" else prices.logs_infrequent_per_gb


def platform_lines(deploy: Deployment) -> int:
    """Lines Lambda writes per invocation: START, END and REPORT are INFO-level system logs."""
    return 0 if deploy.system_log_level == "WARN" else 3


def api_log_bytes(votes: float, args, deploy: Deployment, limits: Limits) -> float:
    """What `votes` vote requests write to the API function's log: the sampled 'vote accepted' lines, every
    refusal's line and EMF line, and the platform's lines."""
    overhead = limits.logs_event_overhead_bytes
    accepted_share = 1 - args.refusal_share
    return votes * (
        accepted_share * deploy.log_sample_rate * (args.vote_line_bytes + args.lambda_context_bytes + overhead)
        + args.refusal_share * (args.refusal_line_bytes + args.lambda_context_bytes + args.refusal_emf_bytes
                                + 2 * overhead)
        + platform_lines(deploy) * (args.platform_line_bytes + overhead))


def tally_log_bytes(shape: Dict[str, float], args, deploy: Deployment, limits: Limits) -> float:
    """What the tally function writes for a stream of this shape: a line and an EMF line a batch, and the
    platform's lines for every invocation, the window closings included."""
    overhead = limits.logs_event_overhead_bytes
    tally_invocations = shape["batches"] + shape["closing"]
    return shape["batches"] * (args.batch_line_bytes + args.batch_emf_bytes + 2 * overhead) \
        + tally_invocations * platform_lines(deploy) * (args.platform_line_bytes + overhead)


def stream_traces(invocations: float, seconds: float, limits: Limits) -> float:
    """Traces of the stream's invocations over `seconds`: Lambda's own sampling, as nothing upstream decides."""
    rate = invocations / seconds
    return seconds * min(rate, limits.lambda_xray_per_second
                         + limits.lambda_xray_rate * max(0.0, rate - limits.lambda_xray_per_second))


def cost_per_million(rate: float, args, deploy: Deployment, prices: Prices, limits: Limits) -> List[Row]:
    """A million vote requests at the origin, at `rate` votes/s: the scope of the $4.50 budget. The search
    domain bills by the hour whether votes come or not: it is in the month, not here."""
    votes = MILLION
    shape = stream_shape(rate, args, deploy)
    seconds = shape["seconds"]
    gb_s = prices.lambda_gb_second[deploy.architecture]
    api_ms = api_billed_ms(args, deploy, limits)
    api_gb = deploy.memory_mb / 1024
    environments = max(1.0, rate * api_ms / 1000)
    # Provisioned environments are initialised before the votes come (and billed by the hour, in the month).
    cold = max(0.0, environments - deploy.api_provisioned)
    tally_ms = tally_billed_ms(shape["batch"], args, deploy, limits)
    tally_gb = deploy.tally_memory_mb / 1024
    overhead = limits.logs_event_overhead_bytes
    lines = platform_lines(deploy)
    tally_invocations = shape["batches"] + shape["closing"]
    api_traces = min(votes, deploy.xray_reservoir * seconds
                     + deploy.xray_fixed_rate * max(0.0, votes - deploy.xray_reservoir * seconds))
    tally_traces = stream_traces(tally_invocations, seconds, limits)
    poll_reads = environments * args.polls_voted * seconds / args.poll_cache_s
    return [
        ("API Gateway REST requests", votes * prices.api_rest_per_million / MILLION, "1 request per vote"),
        ("DynamoDB ballot writes", votes * args.ballot_wru * prices.ddb_per_million_wru / MILLION,
         f"{args.ballot_wru:g} WRU per conditional PutItem, 201, 200 and 409 alike"),
        ("Lambda API requests", votes * prices.lambda_per_million_requests / MILLION, "1 invocation per vote"),
        ("Lambda API duration", votes * api_ms / 1000 * api_gb * gb_s,
         f"{api_ms:g} ms billed at {deploy.memory_mb} MB {deploy.architecture}: "
         f"{args.api_cpu_ms:g} ms CPU x {limits.lambda_mb_per_vcpu}/{deploy.memory_mb} + "
         f"{args.dynamodb_wait_ms:g} ms DynamoDB"),
        ("Lambda API cold starts (init is billed)",
         cold * cold_start_s(args, deploy, limits) * api_gb * gb_s,
         f"{cold:,.0f} of {environments:,.0f} environments x {cold_start_s(args, deploy, limits):.2f} s, once each"
         + (f" ({deploy.api_provisioned} provisioned)" if deploy.api_provisioned else "")),
        ("CloudWatch Logs, API function", api_log_bytes(votes, args, deploy, limits) / GB * prices.logs_per_gb,
         f"{deploy.log_sample_rate:.1%} of votes logged ({args.vote_line_bytes + args.lambda_context_bytes} B), "
         f"every refusal ({args.refusal_share:.0%}: line + EMF), "
         + ("no platform lines (SystemLogLevel WARN)" if not lines else f"{lines} platform lines")),
        ("X-Ray traces, API", api_traces * prices.xray_per_million_traces / MILLION,
         f"{api_traces:,.0f} traces: {deploy.xray_reservoir}/s + {deploy.xray_fixed_rate:.2%} (sampling rule)"),
        ("API Gateway access logs", votes * (args.access_log_bytes + overhead) / GB * access_log_price(args, prices),
         f"{args.access_log_bytes} B JSON line per request, log group class {args.access_log_class} (infra/api.json)"),
        ("Lambda tally requests", tally_invocations * prices.lambda_per_million_requests / MILLION,
         f"{shape['batches']:,.0f} batches of {shape['batch']:,.0f} + {shape['closing']:,.0f} window closings"),
        ("Lambda tally duration", (shape["batches"] * tally_ms + shape["closing"] * args.tally_idle_ms) / 1000
         * tally_gb * gb_s,
         f"{tally_ms:g} ms a batch, {args.tally_idle_ms:g} ms a closing, {deploy.tally_memory_mb} MB"),
        ("DynamoDB tally writes", shape["batches"] * args.polls_per_batch * prices.ddb_per_million_wru / MILLION,
         f"{args.polls_per_batch:g} UpdateItem (1 WRU) per poll per batch"),
        ("CloudWatch Logs, tally function", tally_log_bytes(shape, args, deploy, limits) / GB * prices.logs_per_gb,
         "1 line + 1 EMF line (BallotsCounted and two more) per batch"),
        ("X-Ray traces, tally", tally_traces * prices.xray_per_million_traces / MILLION,
         f"{tally_traces:,.0f} traces: Lambda's own sampling of stream invocations"),
        ("DynamoDB poll reads", poll_reads * args.poll_rru * prices.ddb_per_million_rru / MILLION,
         f"{environments:,.0f} API environments x 1 GetItem per poll per {args.poll_cache_s:g} s"),
    ]


def memory_options(args, deploy: Deployment, prices: Prices, limits: Limits) -> List[Dict[str, float]]:
    """What the API function's memory buys: warm latency, cold start and cost, at the measured CPU per vote."""
    gb_s = prices.lambda_gb_second[deploy.architecture]
    rows = []
    for memory in (128, 256, 512, 1024, 1769):
        billed = api_billed_ms(args, deploy, limits, memory)
        rows.append({"memory_mb": memory, "warm_billed_ms": billed,
                     "cold_start_s": round(cold_start_s(args, deploy, limits, memory), 2),
                     "duration_usd_per_million": round(MILLION * billed / 1000 * memory / 1024 * gb_s, 4),
                     "memory_headroom": round(memory / args.resident_mb, 2)})
    return rows
