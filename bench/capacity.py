"""What a million votes cost on AWS, and how many votes a second the deployed stack takes: a model, not a measurement.

It models two deployments, both read from the project's own files:
  defaults   the template as `make package` builds it, with every parameter at its default, at 1,000 votes/s;
  big vote   the same template with the parameters of infra/overrides/big-vote.json (what docs/big-vote.md deploys
             before a broadcast vote) and the AWS quotas that runbook requests, at 10,000 votes/s, the poll created
             with the file's expected_peak_votes_per_s.
For each it prints the assumptions with their source (an AWS pricing or quota page, or "measured here" with the
command), the cost of one million vote requests by component, and the throughput ceiling of each component. The
optional WAF (infra/waf.json, off by default) is priced apart, as what turning it on adds. The last line is one
JSON object with every figure.

What the deployment is comes from the files, never from this script: memory, architecture, the log sample rate
(.chalice/config.json), batch size and batching window (app.py), the stream mapping (infra/stream.json), the
parameter defaults (infra/*.json), the X-Ray sampling rule and the access log's format and class (infra/api.json),
the functions' LoggingConfig (infra/functions.json), the bucket rule (chalicelib/domain/ballots.py). Measured figures
are flags whose default is the recorded measurement (bench/RESULTS.md); published prices and quotas are the two
dataclasses below.

A vote request, as the template deploys it:
  1 API Gateway REST request -> 1 invocation of the API function (billed: its CPU, scaled to the memory's share of
  a vCPU, plus the wait for DynamoDB) -> 1 conditional PutItem of a ~200-byte ballot = 1 WRU, whatever the answer
  (201, 200 or 409: a failed condition consumes the write too) -> for a new ballot, 1 stream record; Lambda reads
  the stream for free -> the tally function takes it in a batch (per shard, once per batching window): per batch
  1 UpdateItem per poll on the tallies table, 1 OpenSearch _bulk (the domain bills by the hour), 1 log line and
  1 EMF line. The tumbling window adds one closing invocation per shard per window.

One poll's ceiling: a poll's ballots are spread over B buckets (partition keys), and DynamoDB places each key on
one of the table's P partitions by hash, so some partitions draw several of the poll's buckets. The busiest one
takes k_max x rate / B writes/s and a partition takes 1,000: the poll's ceiling is B x 1,000 / k_max. k_max is
read at 99% confidence from the exact distribution of the fullest bin when B keys fall into P partitions
(P = warm writes/s / 1,000, the fewest a table warmed to that figure can have).

Run:  .venv/bin/python -m bench.capacity [--rate 1000] [--big-vote-rate 10000] [...]
"""
import argparse
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Dict, List, Tuple

from chalicelib.domain.ballots import DEFAULT_PEAK_VOTES_PER_S, buckets_for
from infra import project_root

ROOT = project_root()
BIG_VOTE = ROOT / "infra" / "overrides" / "big-vote.json"
MILLION = 1_000_000
HOURS_PER_MONTH = 730
GB = 1024 ** 3
CONFIDENCE = 0.99
BUDGET_PER_MILLION = 4.50


def src(url: str, default):
    return field(default=default, metadata={"source": url})


def src_map(url: str, mapping: dict):
    return field(default_factory=lambda: dict(mapping), metadata={"source": url})


@dataclass(frozen=True)
class Prices:
    """On-demand list prices, us-east-1, USD. This machine has no web access: check each page before quoting."""
    api_rest_per_million: float = src("https://aws.amazon.com/api-gateway/pricing/ (REST, first 333 M a month)",
                                      3.50)
    lambda_per_million_requests: float = src("https://aws.amazon.com/lambda/pricing/", 0.20)
    lambda_gb_second: Dict[str, float] = src_map("https://aws.amazon.com/lambda/pricing/ (first 6 B GB-s a month)",
                                                 {"arm64": 0.0000133334, "x86_64": 0.0000166667})
    ddb_per_million_wru: float = src("https://aws.amazon.com/dynamodb/pricing/on-demand/", 0.625)
    ddb_per_million_rru: float = src("https://aws.amazon.com/dynamodb/pricing/on-demand/", 0.125)
    logs_per_gb: float = src("https://aws.amazon.com/cloudwatch/pricing/ (Logs ingestion, Standard class; Lambda "
                             "logs are vended logs, $0.50/GB for the first 10 TB)", 0.50)
    logs_infrequent_per_gb: float = src("https://aws.amazon.com/cloudwatch/pricing/ (Logs ingestion, Infrequent "
                                        "Access class: no metric filters or EMF, Logs Insights works)", 0.25)
    xray_per_million_traces: float = src("https://aws.amazon.com/xray/pricing/ (traces recorded)", 5.00)
    search_node_hour: Dict[str, float] = src_map("https://aws.amazon.com/opensearch-service/pricing/",
                                                 {"t3.small.search": 0.036, "m7g.large.search": 0.136,
                                                  "m7g.xlarge.search": 0.272, "m7g.2xlarge.search": 0.544})
    search_gp3_gb_month: float = src("https://aws.amazon.com/opensearch-service/pricing/ (gp3 storage)", 0.122)
    waf_web_acl_month: float = src("https://aws.amazon.com/waf/pricing/ (web ACL, per month, prorated hourly)", 5.00)
    waf_rule_month: float = src("https://aws.amazon.com/waf/pricing/ (rule in a web ACL, per month)", 1.00)
    waf_per_million_requests: float = src("https://aws.amazon.com/waf/pricing/ (requests inspected, up to 1,500 WCU "
                                          "and the default body size)", 0.60)


@dataclass(frozen=True)
class Limits:
    """Default quotas and documented ceilings."""
    api_account_rps: int = src("https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html "
                               "(throttle quota per account and Region, adjustable)", 10_000)
    api_account_burst: int = src("https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html", 5_000)
    lambda_concurrency: int = src("https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html "
                                  "(concurrent executions per account and Region, adjustable)", 1_000)
    lambda_unreserved_minimum: int = src("https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
                                         100)
    lambda_scale_per_10s: int = src("https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html "
                                    "(each function, every 10 s)", 1_000)
    lambda_mb_per_vcpu: int = src("https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html "
                                  "(1,769 MB = one vCPU)", 1_769)
    ddb_partition_wcu: int = src("https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                                 "warm-throughput-scenarios.html (per partition)", 1_000)
    ddb_partition_rcu: int = src("https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                                 "warm-throughput-scenarios.html (per partition)", 3_000)
    ddb_table_wcu_quota: int = src("https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                                   "ServiceQuotas.html (per table, on-demand too, adjustable)", 40_000)
    stream_polls_per_second: int = src("https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html "
                                       "(4 polls a second per shard)", 4)
    stream_records_per_get: int = src("https://docs.aws.amazon.com/amazondynamodbstreams/latest/APIReference/"
                                      "API_GetRecords.html", 1_000)
    logs_event_overhead_bytes: int = src("https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"
                                         "API_PutLogEvents.html (26 bytes per event)", 26)
    lambda_xray_per_second: int = src("https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html "
                                      "(no upstream decision: 1 request/s, then 5%)", 1)
    lambda_xray_rate: float = src("https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html", 0.05)
    cognito_sign_ins_per_second: int = src("https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html "
                                           "(UserAuthentication, per pool, adjustable)", 120)
    search_vcpus: Dict[str, float] = src_map(
        "https://aws.amazon.com/opensearch-service/pricing/ (vCPUs; t3.small: 2 vCPUs at a 20% baseline each, "
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-credits-baseline-concepts.html)",
        {"t3.small.search": 0.4, "m7g.large.search": 2, "m7g.xlarge.search": 4, "m7g.2xlarge.search": 8})


@dataclass(frozen=True)
class Deployment:
    """What the template deploys, read from the project's files (and the big-vote overrides, for that one)."""
    name: str
    architecture: str
    memory_mb: int
    tally_memory_mb: int
    log_sample_rate: float
    system_log_level: str
    batch_size: int
    batching_window_s: int
    tumbling_window_s: int
    parallelization_factor: int
    warm_writes: int
    warm_reads: int
    stage_rate_limit: int
    stage_burst_limit: int
    tally_reserved: int
    search_type: str
    search_nodes: int
    search_gb: int
    xray_fixed_rate: float
    xray_reservoir: int
    poll_peak_votes_per_s: int
    account_api_rps: int
    account_api_burst: int
    account_lambda_concurrency: int

    @property
    def partitions(self) -> int:
        """The fewest partitions a table warmed to these figures has (and about as many stream shards)."""
        return max(math.ceil(self.warm_writes / Limits().ddb_partition_wcu),
                   math.ceil(self.warm_reads / Limits().ddb_partition_rcu))

    @property
    def buckets(self) -> int:
        return buckets_for(self.poll_peak_votes_per_s)


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def read_deployment(big_vote: bool = False) -> Deployment:
    config = _json(ROOT / ".chalice" / "config.json")
    stage = config["stages"]["prod"]
    env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}
    tally_stage = stage.get("lambda_functions", {}).get("tally_ballots", {})
    from infra.event_source import deployed  # the tally function's event source mapping, as deployed

    mapping = deployed()
    infra = {name: _json(ROOT / "infra" / f"{name}.json")
             for name in ("api", "functions", "search", "stream", "tables")}
    parameters = {name: spec["Default"]
                  for piece in infra.values() for name, spec in piece.get("Parameters", {}).items()}
    quotas = {"api_account_rps": Limits().api_account_rps, "api_account_burst": Limits().api_account_burst,
              "lambda_concurrent_executions": Limits().lambda_concurrency}
    peak = DEFAULT_PEAK_VOTES_PER_S
    if big_vote:
        overrides = _json(BIG_VOTE)
        parameters.update(overrides["Parameters"])
        quotas.update({name: ask["request"] for name, ask in overrides["Quotas"].items()})
        peak = overrides["Poll"]["expected_peak_votes_per_s"]
    logging_config = infra["functions"]["Resources"]["APIHandler"]["Properties"]["LoggingConfig"]
    rule = infra["api"]["Resources"]["ApiTraceSampling"]["Properties"]["SamplingRule"]
    return Deployment(
        name="big vote" if big_vote else "defaults",
        architecture=stage.get("lambda_architecture", "x86_64"),
        memory_mb=stage.get("lambda_memory_size", 128),
        tally_memory_mb=tally_stage.get("lambda_memory_size", stage.get("lambda_memory_size", 128)),
        log_sample_rate=float(env.get("POWERTOOLS_LOGGER_SAMPLE_RATE", 1.0)),
        system_log_level=logging_config.get("SystemLogLevel", "INFO"),
        batch_size=mapping.batch_size, batching_window_s=mapping.batching_window_s,
        tumbling_window_s=mapping.tumbling_window_s, parallelization_factor=mapping.parallelization_factor,
        warm_writes=int(parameters["BallotsWarmWriteUnitsPerSecond"]),
        warm_reads=int(parameters["BallotsWarmReadUnitsPerSecond"]),
        stage_rate_limit=int(parameters["ApiRateLimit"]), stage_burst_limit=int(parameters["ApiBurstLimit"]),
        tally_reserved=int(parameters["TallyReservedConcurrency"]),
        search_type=parameters["SearchInstanceType"], search_nodes=int(parameters["SearchInstanceCount"]),
        search_gb=infra["search"]["Resources"]["SearchDomain"]["Properties"]["EBSOptions"]["VolumeSize"],
        xray_fixed_rate=rule["FixedRate"], xray_reservoir=rule["ReservoirSize"],
        poll_peak_votes_per_s=peak,
        account_api_rps=quotas["api_account_rps"], account_api_burst=quotas["api_account_burst"],
        account_lambda_concurrency=quotas["lambda_concurrent_executions"],
    )


# An accepted vote's request context, as API Gateway fills in the access log format: the line a vote costs.
VOTE_ACCESS_CONTEXT = {
    "$context.requestId": "6c0b8e2c-1f9a-4a8e-9d1c-3b7a2f5e8d90", "$context.requestTimeEpoch": "1764540000123",
    "$context.httpMethod": "POST", "$context.resourcePath": "/votes/{candidate}", "$context.status": "201",
    "$context.responseLatency": "31", "$context.integrationLatency": "28", "$context.responseLength": "187",
    "$context.error.responseType": "-",
}


def access_log(api_piece: dict) -> Tuple[int, str]:
    """(bytes of a vote's access log line, the log group's class), from infra/api.json's stage settings."""
    line = api_piece["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]["Format"]
    for variable in sorted(VOTE_ACCESS_CONTEXT, key=len, reverse=True):
        line = line.replace(variable, VOTE_ACCESS_CONTEXT[variable])
    if "$context." in line:
        raise ValueError(f"the access log format uses a variable the model has no value for: {line}")
    group = api_piece["Resources"]["ApiAccessLogGroup"]["Properties"]
    return len(line.encode()), group.get("LogGroupClass", "STANDARD")


# --- one poll on the table's partitions -------------------------------------------------------------------------

def fullest_bin_at_most(keys: int, bins: int, k: int) -> float:
    """P(no bin holds more than k) when `keys` keys fall uniformly into `bins` bins:
    keys!/bins^keys x [x^keys] (sum_{j<=k} x^j/j!)^bins, by repeated squaring of a truncated polynomial."""
    def multiply(a: List[float], b: List[float]) -> List[float]:
        out = [0.0] * (keys + 1)
        for i, x in enumerate(a):
            if x:
                for j, y in enumerate(b[:keys + 1 - i]):
                    out[i + j] += x * y
        return out
    term = [1 / math.factorial(j) if j <= k else 0.0 for j in range(keys + 1)]
    result, exponent = [1.0] + [0.0] * keys, bins
    while exponent:
        if exponent & 1:
            result = multiply(result, term)
        term, exponent = multiply(term, term), exponent >> 1
    return result[keys] * math.exp(math.lgamma(keys + 1) - keys * math.log(bins))


def fullest_partition(buckets: int, partitions: int, confidence: float = CONFIDENCE) -> int:
    """The number of a poll's buckets the busiest partition holds, at the given confidence."""
    return next(k for k in range(1, buckets + 1) if fullest_bin_at_most(buckets, partitions, k) >= confidence)


# --- the model ----------------------------------------------------------------------------------------------------

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


Row = Tuple[str, float, str]


def cost_per_million(rate: float, args, deploy: Deployment, prices: Prices, limits: Limits) -> List[Row]:
    votes = MILLION
    shape = stream_shape(rate, args, deploy)
    seconds = shape["seconds"]
    gb_s = prices.lambda_gb_second[deploy.architecture]
    api_ms = api_billed_ms(args, deploy, limits)
    api_gb = deploy.memory_mb / 1024
    environments = max(1.0, rate * api_ms / 1000)
    tally_ms = tally_billed_ms(shape["batch"], args, deploy, limits)
    tally_gb = deploy.tally_memory_mb / 1024
    overhead = limits.logs_event_overhead_bytes
    accepted_share = 1 - args.refusal_share
    platform_lines = 0 if deploy.system_log_level == "WARN" else 3  # START, END, REPORT: INFO-level system logs
    api_log_bytes = votes * (
        accepted_share * deploy.log_sample_rate * (args.vote_line_bytes + args.lambda_context_bytes + overhead)
        + args.refusal_share * (args.refusal_line_bytes + args.lambda_context_bytes + args.refusal_emf_bytes
                                + 2 * overhead)
        + platform_lines * (args.platform_line_bytes + overhead))
    tally_invocations = shape["batches"] + shape["closing"]
    tally_log_bytes = shape["batches"] * (args.batch_line_bytes + args.batch_emf_bytes + 2 * overhead) \
        + tally_invocations * platform_lines * (args.platform_line_bytes + overhead)
    api_traces = min(votes, deploy.xray_reservoir * seconds
                     + deploy.xray_fixed_rate * max(0.0, votes - deploy.xray_reservoir * seconds))
    tally_rate = tally_invocations / seconds
    tally_traces = seconds * min(tally_rate, limits.lambda_xray_per_second
                                 + limits.lambda_xray_rate * max(0.0, tally_rate - limits.lambda_xray_per_second))
    poll_reads = environments * args.polls_voted * seconds / args.poll_cache_s
    node_hour = prices.search_node_hour[deploy.search_type]
    access_log_price = prices.logs_per_gb if args.access_log_class == "STANDARD" else prices.logs_infrequent_per_gb
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
         environments * cold_start_s(args, deploy, limits) * api_gb * gb_s,
         f"{environments:,.0f} environments x {cold_start_s(args, deploy, limits):.2f} s, once each"),
        ("CloudWatch Logs, API function", api_log_bytes / GB * prices.logs_per_gb,
         f"{deploy.log_sample_rate:.1%} of votes logged ({args.vote_line_bytes + args.lambda_context_bytes} B), "
         f"every refusal ({args.refusal_share:.0%}: line + EMF), "
         + ("no platform lines (SystemLogLevel WARN)" if not platform_lines else f"{platform_lines} platform lines")),
        ("X-Ray traces, API", api_traces * prices.xray_per_million_traces / MILLION,
         f"{api_traces:,.0f} traces: {deploy.xray_reservoir}/s + {deploy.xray_fixed_rate:.2%} (sampling rule)"),
        ("RESERVED: API Gateway access logs", votes * (args.access_log_bytes + overhead) / GB * access_log_price,
         f"{args.access_log_bytes} B JSON line per request, log group class {args.access_log_class} (infra/api.json)"),
        ("Lambda tally requests", tally_invocations * prices.lambda_per_million_requests / MILLION,
         f"{shape['batches']:,.0f} batches of {shape['batch']:,.0f} + {shape['closing']:,.0f} window closings"),
        ("Lambda tally duration", (shape["batches"] * tally_ms + shape["closing"] * args.tally_idle_ms) / 1000
         * tally_gb * gb_s,
         f"{tally_ms:g} ms a batch, {args.tally_idle_ms:g} ms a closing, {deploy.tally_memory_mb} MB"),
        ("DynamoDB tally writes", shape["batches"] * args.polls_per_batch * prices.ddb_per_million_wru / MILLION,
         f"{args.polls_per_batch:g} UpdateItem (1 WRU) per poll per batch"),
        ("CloudWatch Logs, tally function", tally_log_bytes / GB * prices.logs_per_gb,
         "1 line + 1 EMF line (BallotsCounted and two more) per batch"),
        ("X-Ray traces, tally", tally_traces * prices.xray_per_million_traces / MILLION,
         f"{tally_traces:,.0f} traces: Lambda's own sampling of stream invocations"),
        ("DynamoDB poll reads", poll_reads * args.poll_rru * prices.ddb_per_million_rru / MILLION,
         f"{environments:,.0f} API environments x 1 GetItem per poll per {args.poll_cache_s:g} s"),
        ("OpenSearch domain, for the time the votes take",
         seconds / 3600 * (deploy.search_nodes * node_hour + deploy.search_nodes * deploy.search_gb
                           * prices.search_gp3_gb_month / HOURS_PER_MONTH),
         f"{deploy.search_nodes} x {deploy.search_type} + {deploy.search_gb} GB gp3 each, {seconds / 3600:.3f} h"),
    ]


def ceilings(args, deploy: Deployment, limits: Limits) -> List[Row]:
    api_s = api_billed_ms(args, deploy, limits) / 1000
    shards = deploy.partitions
    per_shard_read = limits.stream_polls_per_second * limits.stream_records_per_get
    batch_s = tally_billed_ms(deploy.batch_size, args, deploy, limits) / 1000
    per_shard_consumer = deploy.batch_size / batch_s
    per_shard = min(limits.ddb_partition_wcu, per_shard_read, per_shard_consumer)
    executions = shards * deploy.parallelization_factor
    tally_can_run = min(executions, deploy.tally_reserved) if deploy.tally_reserved else executions
    buckets, k = deploy.buckets, fullest_partition(deploy.buckets, shards)
    unreserved = deploy.account_lambda_concurrency - deploy.tally_reserved
    docs = args.index_docs_per_vcpu * limits.search_vcpus[deploy.search_type]
    return [
        ("API stage throttle (ApiRateLimit)", deploy.stage_rate_limit,
         f"burst {deploy.stage_burst_limit:,}; above it API Gateway answers 429"),
        ("API Gateway account quota", deploy.account_api_rps,
         f"burst {deploy.account_api_burst:,}; shared by every API in the account and Region"
         + ("" if deploy.account_api_rps == limits.api_account_rps else " (raised on request)")),
        ("Lambda concurrency / API duration", unreserved / api_s,
         f"({deploy.account_lambda_concurrency:,} - {deploy.tally_reserved} reserved for tally) / {api_s * 1000:g} ms; "
         f"{min(unreserved, limits.lambda_scale_per_10s):,} at once, +{limits.lambda_scale_per_10s:,} per 10 s"),
        ("DynamoDB ballots table, warm writes", deploy.warm_writes / args.ballot_wru,
         f"WarmThroughput {deploy.warm_writes:,} WCU/s; per-table quota {limits.ddb_table_wcu_quota:,}"),
        ("DynamoDB, one poll", buckets * limits.ddb_partition_wcu / k,
         f"{buckets} buckets on {shards} partitions: the busiest holds {k} at {CONFIDENCE:.0%} "
         f"({buckets} x {limits.ddb_partition_wcu:,} / {k})"),
        ("Stream consumer", per_shard * tally_can_run,
         f"{shards} shards x min(partition {limits.ddb_partition_wcu:,}, reads {per_shard_read:,}, "
         f"{deploy.batch_size} records / {batch_s * 1000:g} ms = {per_shard_consumer:,.0f})"
         + (f"; only {tally_can_run} executions reserved" if tally_can_run < executions else
            f"; {deploy.tally_reserved or 'no'} executions reserved")),
        ("Results index ingest", docs,
         f"{args.index_docs_per_vcpu:,} docs/s per vCPU (ASSUMED, not measured) x "
         f"{limits.search_vcpus[deploy.search_type]:g} vCPU of one {deploy.search_type} (one primary shard)"),
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


def scenario(rate: float, args, deploy: Deployment, prices: Prices, limits: Limits) -> Dict:
    rows = cost_per_million(rate, args, deploy, prices, limits)
    total = sum(cost for _, cost, _ in rows)
    reserved = sum(cost for name, cost, _ in rows if name.startswith("RESERVED"))
    limit_rows = ceilings(args, deploy, limits)
    value = {name: v for name, v, _ in limit_rows}
    accept = min(value[n] for n in ("API stage throttle (ApiRateLimit)", "API Gateway account quota",
                                    "Lambda concurrency / API duration", "DynamoDB ballots table, warm writes"))
    one_poll = min(accept, value["DynamoDB, one poll"])
    results = min(value["Stream consumer"], value["Results index ingest"])
    tally_writes_per_poll = deploy.partitions * (limits.stream_polls_per_second + 1)
    spare = BUDGET_PER_MILLION - total
    print(f"\n== {deploy.name}: {rate:,.0f} votes/s ==")
    print(f"Cost of 1,000,000 vote requests (USD), {deploy.architecture}, API function {deploy.memory_mb} MB")
    for name, cost, note in sorted(rows, key=lambda r: -r[1]):
        print(f"  {name:<44} {cost:>8.4f}  {cost / total:>6.1%}  {note}")
    print(f"  {'total':<44} {total:>8.4f}  budget {BUDGET_PER_MILLION:.2f}: "
          f"{'within' if spare >= 0 else 'OVER'} by ${abs(spare):.4f}"
          f" (that is {spare * GB / MILLION / prices.logs_per_gb:,.0f} more log bytes per request)")
    print("Throughput ceilings (votes/s)")
    for name, v, note in limit_rows:
        print(f"  {name:<44} {v:>9,.0f}  {note}")
    print(f"  => accepted, all polls: {accept:,.0f}/s; one poll: {one_poll:,.0f}/s; results keep up to: "
          f"{results:,.0f}/s; one poll's counters take {tally_writes_per_poll:,} of "
          f"{limits.ddb_partition_wcu:,} writes/s on the tallies table at most")
    return {"rate_votes_per_s": rate, "cost_per_million_usd": round(total, 4),
            "reserved_access_logs_usd": round(reserved, 4), "within_budget": total <= BUDGET_PER_MILLION,
            "by_component": {n: round(c, 5) for n, c, _ in rows},
            "ceilings_votes_per_s": {n: round(v) for n, v, _ in limit_rows},
            "accepted_votes_per_s": round(accept), "one_poll_votes_per_s": round(one_poll),
            "results_keep_up_to_votes_per_s": round(results),
            "api_billed_ms": api_billed_ms(args, deploy, limits), "cold_start_s": cold_start_s(args, deploy, limits),
            "partitions": deploy.partitions, "buckets": deploy.buckets,
            "deployment": asdict(deploy)}


def waf(prices: Prices, summary: Dict) -> Dict:
    """The optional WAF (infra/waf.json) as its own figure: off by default, so not in any total above. Every
    request the web ACL sees is billed, whatever the rule decides: one per vote on the API, plus the vote page's
    other requests and each sign-in's few calls to the user pool, which scale with voters rather than votes."""
    piece = _json(ROOT / "infra" / "waf.json")
    rules = len(piece["Resources"]["WafWebAcl"]["Properties"]["Rules"])
    fixed = prices.waf_web_acl_month + rules * prices.waf_rule_month
    per_vote = prices.waf_per_million_requests  # 1 API request per vote, as in the totals
    with_waf = {name: round(summary[name]["cost_per_million_usd"] + per_vote, 4) for name in ("defaults", "big_vote")}
    default = piece["Parameters"]["Waf"]["Default"]
    print(f"\nWAF (infra/waf.json; parameter Waf, default {default}: in none of the totals above)")
    print(f"  with Waf on: +${per_vote:.4f} per million requests it inspects (API and user pool alike), so a million "
          f"votes cost ${with_waf['defaults']:.4f} (defaults) and ${with_waf['big_vote']:.4f} (big vote): "
          f"{'within' if max(with_waf.values()) <= BUDGET_PER_MILLION else 'over'} the ${BUDGET_PER_MILLION:.2f} "
          "budget")
    print(f"  and ${fixed:.2f} a month, prorated hourly: the web ACL ${prices.waf_web_acl_month:.2f} + {rules} "
          f"rule(s) x ${prices.waf_rule_month:.2f}")
    return {"default": default, "rules": rules, "fixed_usd_per_month": round(fixed, 2),
            "per_million_requests_usd": per_vote, "cost_per_million_votes_with_waf_usd": with_waf}


def roll_import(prices: Prices) -> Dict:
    """A roll poll's one-off cost: putting its voters on the roll. Each voter is two items of a transaction (the
    blank ballot and the roll entry, each under 1 KB, 2 write units each as transactional writes), and every
    VOTERS_PER_TRANSACTION voters share one more item, the roll's size (adapters/dynamo_roll.py); bench/roll_import.py
    measured the same 4.04 units per voter. A vote in a roll poll fills its blank with one UpdateItem under 1 KB:
    1 write unit, as an open poll's PutItem, so the totals above hold for both kinds of poll."""
    from chalicelib.adapters.dynamo_roll import VOTERS_PER_TRANSACTION

    units = 2 * 2 + 2 / VOTERS_PER_TRANSACTION
    per_10k = 10_000 * units * prices.ddb_per_million_wru / MILLION
    print(f"\nA roll (roll polls only, once per poll): {units:.2f} write units per voter, ${per_10k:.4f} per 10,000 "
          "voters; the user pool lookups (AdminGetUser) are not billed")
    return {"write_units_per_voter": round(units, 2), "usd_per_10000_voters": round(per_10k, 4)}


def print_assumptions(args, prices: Prices, limits: Limits) -> None:
    print("Assumptions")
    for title, table in (("prices, on demand, us-east-1 (USD)", prices), ("limits and quotas", limits)):
        print(f"  {title}:")
        for spec in fields(table):
            print(f"    {spec.name:<30} {getattr(table, spec.name)!s:<32} {spec.metadata['source']}")
    print("  measured here, or assumed (flags):")
    for action in args.parser._actions:
        if action.dest in ("help", "parser"):
            continue
        print(f"    {action.dest:<30} {getattr(args, action.dest)!s:<10} {action.help}")
    print("  not per vote, so not below: Cognito (per monthly active user), the warm-throughput raise (charged once,"
          " https://aws.amazon.com/dynamodb/pricing/on-demand/), storage, the dashboard's S3 and CloudFront.")


MEASURED_CPU = "measured here: .venv/bin/python -m bench.vote_cpu (bench/RESULTS.md)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=1000, help="votes/s with the template's defaults")
    p.add_argument("--big-vote-rate", type=float, default=10_000, help="votes/s with the big-vote parameters")
    p.add_argument("--api-cpu-ms", type=float, default=2.86,
                   help=f"function CPU per warm vote, one core; {MEASURED_CPU}")
    p.add_argument("--resident-mb", type=float, default=67, help=f"RSS after importing app.py; {MEASURED_CPU}")
    p.add_argument("--vote-line-bytes", type=int, default=327, help=f"a sampled 'vote accepted' line; {MEASURED_CPU}")
    p.add_argument("--refusal-line-bytes", type=int, default=326, help=f"a 'vote refused' line; {MEASURED_CPU}")
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
    p.add_argument("--refusal-share", type=float, default=0.02,
                   help="vote requests refused (409, 429, 400): assumed; the load test's mix has 5%%")
    p.add_argument("--resend-share", type=float, default=0.05,
                   help="vote requests that resend a ballot (200: no stream record): assumed")
    p.add_argument("--ballot-wru", type=float, default=1, help="WRU per ballot PutItem (items <= 1 KB: 1)")
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
    return p


def main(argv=None) -> Dict:
    p = parser()
    args = p.parse_args(argv)
    args.parser = p
    line_bytes, log_class = access_log(_json(ROOT / "infra" / "api.json"))
    args.access_log_bytes = line_bytes if args.access_log_bytes is None else args.access_log_bytes
    args.access_log_class = log_class if args.access_log_class is None else args.access_log_class
    prices, limits = Prices(), Limits()
    print_assumptions(args, prices, limits)
    defaults, big = read_deployment(), read_deployment(big_vote=True)
    summary = {"defaults": scenario(args.rate, args, defaults, prices, limits),
               "big_vote": scenario(args.big_vote_rate, args, big, prices, limits)}
    summary["big_vote_at_default_rate"] = {
        "rate_votes_per_s": args.rate,
        "cost_per_million_usd": round(sum(c for _, c, _ in cost_per_million(args.rate, args, big, prices, limits)), 4)}
    options = memory_options(args, defaults, prices, limits)
    print("\nThe API function's memory, at the measured CPU per vote (why it is "
          f"{defaults.memory_mb} MB)")
    for row in options:
        print(f"  {row['memory_mb']:>5} MB: warm vote billed {row['warm_billed_ms']:>4.0f} ms, cold start "
              f"{row['cold_start_s']:.2f} s, ${row['duration_usd_per_million']:.4f} per million, "
              f"{row['memory_headroom']:.1f}x the resident memory")
    summary["memory_options"] = options
    summary["waf"] = waf(prices, summary)
    summary["roll_import"] = roll_import(prices)
    summary["inputs"] = {k: v for k, v in vars(args).items() if k != "parser"}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
