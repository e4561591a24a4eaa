"""What a million votes cost on AWS, and how many votes a second the deployed stack takes: a model, not a measurement.

It prints its assumptions first (published on-demand prices, us-east-1, and the service limits in the
"Figures to design against" table of the architecture brief), then the cost of one million votes by component,
then the throughput ceiling of each layer. What the stack is configured with (memory, batch size, batching
window, the API stage's throttle) is read from .chalice/config.json, app.py and infra/api.json, so the model
follows the template. Everything else is a flag.

A vote, as the template deploys it:
  1 API Gateway REST request -> 1 invocation of the API function (--api-ms at the prod memory size)
  -> 1 conditional PutItem of a ~1 KB ballot = 1 WRU (the poll comes from the function's 5 s cache)
  -> 1 stream record; Lambda reading a DynamoDB stream for a trigger is free
  -> the tally function takes it in a batch of up to B records (per shard, once per batching window): per batch,
     1 UpdateItem per poll in the batch on the tallies table and 1 OpenSearch _bulk request (no per-request fee;
     the domain costs by the hour). With a tumbling window Lambda also makes one closing invocation per window.

Run:  .venv/bin/python bench/capacity.py [--rate 1000] [--api-ms 30] [--tally-ms 100] [--shards 4] [...]
The last line is a JSON object with every figure.
"""
import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MILLION = 1_000_000
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Prices:
    """On-demand list prices, us-east-1. Check them against the current price pages before quoting a figure."""
    api_rest_per_million: float = 3.50          # API Gateway REST, first 333 M requests a month
    lambda_per_million: float = 0.20            # Lambda requests
    lambda_gb_second: float = 0.0000166667      # Lambda duration, x86
    ddb_per_million_wru: float = 0.625          # DynamoDB on-demand write request units
    ddb_per_million_rru: float = 0.125          # DynamoDB on-demand read request units
    logs_per_gb: float = 0.50                   # CloudWatch Logs ingestion (EMF metrics ride in the logs)
    xray_per_million_traces: float = 5.00       # X-Ray traces recorded
    search_instance_hour: float = 0.036         # OpenSearch t3.small.search, per node-hour
    search_gp3_gb_month: float = 0.122          # OpenSearch gp3 storage
    cognito_per_mau: float = 0.0055             # Cognito Lite, per monthly active user above the free 10,000


@dataclass(frozen=True)
class Limits:
    """Default quotas and documented ceilings (the architecture brief's figures)."""
    api_account_rps: int = 10_000               # API Gateway, per account and region, shared by every API
    api_account_burst: int = 5_000
    lambda_concurrency: int = 1_000             # per account and region, shared by both functions
    lambda_scale_per_10s: int = 1_000           # each function adds up to 1,000 executions every 10 s
    ddb_new_table_wru: int = 4_000              # a new on-demand table takes this at once, then doubles its peak
    ddb_partition_wcu: int = 1_000              # per partition (and so per stream shard)
    stream_polls_per_second: int = 4            # Lambda polls each shard about 4 times a second
    stream_records_per_get: int = 1_000         # GetRecords returns at most 1,000 records (or 1 MB)
    max_batch: int = 10_000


@dataclass(frozen=True)
class Deployment:
    """Read from the project: what the template deploys."""
    memory_mb: int
    tally_memory_mb: int
    batch_size: int
    batching_window_s: int
    tumbling_window_s: int
    stage_rate_limit: int
    stage_burst_limit: int
    search_nodes: int
    search_gb: int


def read_deployment() -> Deployment:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    memory = stage.get("lambda_memory_size", 128)
    tally_memory = stage.get("lambda_functions", {}).get("tally_ballots", {}).get("lambda_memory_size", memory)
    from app import app  # the stream handler's batch settings, as Chalice packages them

    (source,) = [s for s in app.event_sources if s.name == "tally_ballots"]
    api = json.loads((ROOT / "infra" / "api.json").read_text())["Parameters"]
    stream = json.loads((ROOT / "infra" / "stream.json").read_text())["Resources"]
    mapping = stream["TallyBallots"]["Properties"]["Events"]["TallyBallotsDynamodbEventSource"]["Properties"]
    search = json.loads((ROOT / "infra" / "search.json").read_text())
    domain = search["Resources"]["SearchDomain"]["Properties"]
    return Deployment(
        memory_mb=memory, tally_memory_mb=tally_memory,
        batch_size=source.batch_size, batching_window_s=source.maximum_batching_window_in_seconds or 0,
        tumbling_window_s=mapping.get("TumblingWindowInSeconds", 0),
        stage_rate_limit=api["ApiRateLimit"]["Default"], stage_burst_limit=api["ApiBurstLimit"]["Default"],
        search_nodes=search["Parameters"]["SearchInstanceCount"]["Default"],
        search_gb=domain["EBSOptions"]["VolumeSize"],
    )


def cost_per_million(args, deploy: Deployment, prices: Prices) -> List[Tuple[str, float, str]]:
    votes = MILLION
    seconds = votes / args.rate                              # how long a million votes take at the rate
    per_shard = args.rate / args.shards
    batch = min(deploy.batch_size, max(1.0, per_shard * max(deploy.batching_window_s, 1)))
    batches = votes / batch                                  # invocations that carry records
    closing = args.shards * seconds / deploy.tumbling_window_s if deploy.tumbling_window_s else 0
    tally_invocations = batches + closing
    api_gb = deploy.memory_mb / 1024
    tally_gb = deploy.tally_memory_mb / 1024
    warm = max(1.0, args.rate * args.api_ms / 1000)          # API function instances busy at the rate
    poll_reads = warm * args.polls_voted * seconds / args.poll_cache_s  # each instance, each poll, each period
    rows = [
        ("API Gateway REST requests", votes * prices.api_rest_per_million / MILLION, "1 request per vote"),
        ("Lambda API requests", votes * prices.lambda_per_million / MILLION, "1 invocation per vote"),
        ("Lambda API duration", votes * args.api_ms / 1000 * api_gb * prices.lambda_gb_second,
         f"{args.api_ms:g} ms at {deploy.memory_mb} MB per vote"),
        ("DynamoDB ballot writes", votes * args.ballot_wru * prices.ddb_per_million_wru / MILLION,
         f"{args.ballot_wru:g} WRU per conditional PutItem"),
        ("DynamoDB poll catalog reads", poll_reads * args.poll_rru * prices.ddb_per_million_rru / MILLION,
         f"{warm:.0f} warm API instances x {args.polls_voted:g} poll(s) x 1 consistent GetItem "
         f"({args.poll_rru:g} RRU) per {args.poll_cache_s:g} s"),
        ("DynamoDB stream reads", 0.0, "free for Lambda triggers"),
        ("Lambda tally requests", tally_invocations * prices.lambda_per_million / MILLION,
         f"{batches:,.0f} batches of {batch:,.0f} + {closing:,.0f} window-closing invocations "
         "(at most 1 per shard-window)"),
        ("Lambda tally duration", tally_invocations * args.tally_ms / 1000 * tally_gb * prices.lambda_gb_second,
         f"{args.tally_ms:g} ms at {deploy.tally_memory_mb} MB per invocation"),
        ("DynamoDB tally writes", batches * args.polls_per_batch * prices.ddb_per_million_wru / MILLION,
         f"{args.polls_per_batch:g} UpdateItem (1 WRU) per poll per batch"),
        ("OpenSearch domain (hours the votes take)",
         seconds / 3600 * (deploy.search_nodes * prices.search_instance_hour
                           + deploy.search_gb * prices.search_gp3_gb_month / HOURS_PER_MONTH),
         f"{deploy.search_nodes} node(s) + {deploy.search_gb} GB gp3 for {seconds / 3600:.2f} h; 1 _bulk per batch"),
        ("CloudWatch Logs", (votes * args.api_log_kb + tally_invocations * args.tally_log_kb) / 1024 / 1024
         * prices.logs_per_gb, f"{args.api_log_kb:g} KB per API invocation, {args.tally_log_kb:g} KB per batch"),
        ("X-Ray traces", votes * args.trace_share * prices.xray_per_million_traces / MILLION,
         f"{args.trace_share:.0%} of requests sampled"),
    ]
    return rows


def ceilings(args, deploy: Deployment, limits: Limits) -> List[Tuple[str, float, str]]:
    api_s = args.api_ms / 1000
    tally_concurrency = args.shards  # ParallelizationFactor 1: one invocation per shard at a time
    per_shard_read = limits.stream_polls_per_second * limits.stream_records_per_get
    per_shard_consumer = deploy.batch_size / (args.tally_ms / 1000)
    per_shard = min(limits.ddb_partition_wcu, per_shard_read, per_shard_consumer)
    return [
        ("API stage throttle (template parameter ApiRateLimit)", deploy.stage_rate_limit,
         f"burst {deploy.stage_burst_limit}; above it API Gateway answers 429"),
        ("API Gateway account default", limits.api_account_rps,
         f"burst {limits.api_account_burst}; shared by every API in the account and region"),
        ("Lambda concurrency / API duration", (limits.lambda_concurrency - tally_concurrency) / api_s,
         f"({limits.lambda_concurrency} - {tally_concurrency} tally) / {args.api_ms:g} ms; "
         f"a cold function adds {limits.lambda_scale_per_10s} executions per 10 s"),
        ("DynamoDB ballots table, new on-demand", limits.ddb_new_table_wru / args.ballot_wru,
         "writes at once; on-demand doubles its previous peak within 30 min"),
        ("DynamoDB, one poll (one partition key)", limits.ddb_partition_wcu / args.ballot_wru,
         "a poll's ballots share the partition key poll_id: 1,000 WCU/s until DynamoDB splits the item "
         "collection for heat (random voter ids let it), which takes minutes"),
        ("Stream consumer, per shard", per_shard,
         f"min(partition writes {limits.ddb_partition_wcu}, reads {per_shard_read}, "
         f"{deploy.batch_size} records / {args.tally_ms:g} ms = {per_shard_consumer:,.0f})"),
        (f"Stream consumer, {args.shards} shards", per_shard * args.shards,
         "shards follow the table's partitions; more partitions, more shards"),
        ("Results index ingest (assumed)", args.search_docs_per_s * deploy.search_nodes,
         f"{args.search_docs_per_s:,} docs/s per node: NOT measured (no OpenSearch runs here); "
         "a slower index delays results, not votes"),
    ]


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000, help="sustained votes/s (amortizes the hourly domain)")
    parser.add_argument("--api-ms", type=float, default=30, help="billed duration of a warm vote, ms")
    parser.add_argument("--tally-ms", type=float, default=100, help="billed duration of a tally batch, ms")
    parser.add_argument("--shards", type=int, default=4, help="stream shards (= table partitions; ~4 when new)")
    parser.add_argument("--polls-per-batch", type=float, default=1, help="distinct polls in a batch")
    parser.add_argument("--ballot-wru", type=float, default=1, help="WRU per ballot PutItem (items <= 1 KB: 1)")
    parser.add_argument("--poll-rru", type=float, default=2, help="RRU per consistent GetItem of a poll (<= 8 KB)")
    parser.add_argument("--polls-voted", type=float, default=1, help="polls taking votes at the same time")
    parser.add_argument("--poll-cache-s", type=float, default=5, help="TALLY_POLL_CACHE_SECONDS")
    parser.add_argument("--api-log-kb", type=float, default=1.0, help="log bytes per API invocation, KB")
    parser.add_argument("--tally-log-kb", type=float, default=2.0, help="log bytes per tally invocation, KB")
    parser.add_argument("--trace-share", type=float, default=0.05, help="share of requests X-Ray records")
    parser.add_argument("--search-docs-per-s", type=int, default=1500, help="assumed index ingest per node")
    args = parser.parse_args(argv)
    prices, limits, deploy = Prices(), Limits(), read_deployment()

    print("Assumptions")
    print("  prices, on demand, us-east-1 (USD):")
    for name, value in asdict(prices).items():
        print(f"    {name:<28} {value:g}")
    print("  limits (account defaults and documented ceilings):")
    for name, value in asdict(limits).items():
        print(f"    {name:<28} {value:,}")
    print("  the deployment (.chalice/config.json prod, app.py, infra/*.json):")
    for name, value in asdict(deploy).items():
        print(f"    {name:<28} {value:,}")
    print("  the model's inputs (flags):")
    for name, value in vars(args).items():
        print(f"    {name:<28} {value:g}")
    print("  not per vote, so not below: Cognito bills per monthly active voter "
          f"(${prices.cognito_per_mau}/MAU above 10,000), storage per GB-month, the dashboard's S3 and CloudFront.")

    rows = cost_per_million(args, deploy, prices)
    total = sum(cost for _, cost, _ in rows)
    print(f"\nCost of 1,000,000 votes at {args.rate:,.0f} votes/s (USD)")
    for name, cost, note in sorted(rows, key=lambda r: -r[1]):
        print(f"  {name:<42} {cost:>8.4f}  {cost / total:>6.1%}  {note}")
    print(f"  {'total':<42} {total:>8.4f}  ${total / MILLION * 1000:.5f} per thousand votes")

    print("\nTotal per million votes by sustained rate (the OpenSearch domain costs by the hour, whatever the traffic)")
    for rate in (10, 100, 1000, 3000):
        at_rate = argparse.Namespace(**{**vars(args), "rate": rate})
        cost = sum(c for _, c, _ in cost_per_million(at_rate, deploy, prices))
        print(f"  {rate:>6,} votes/s: ${cost:8.4f} per million votes")
    monthly = deploy.search_nodes * prices.search_instance_hour * HOURS_PER_MONTH \
        + deploy.search_gb * prices.search_gp3_gb_month
    print(f"  the domain alone: ${monthly:.2f} a month")

    limits_rows = ceilings(args, deploy, limits)
    print("\nThroughput ceilings (votes/s)")
    for name, value, note in limits_rows:
        print(f"  {name:<54} {value:>9,.0f}  {note}")
    accept = min(value for name, value, _ in limits_rows if not name.startswith(("Stream", "Results", "DynamoDB, one")))
    per_poll = min(accept, limits.ddb_partition_wcu / args.ballot_wru)
    results = min(value for name, value, _ in limits_rows if name.startswith(("Stream consumer, " + str(args.shards),
                                                                              "Results")))
    print(f"  => votes accepted, all polls: {accept:,.0f}/s; one poll at once: {per_poll:,.0f}/s; "
          f"results keep up to: {results:,.0f}/s")
    summary = {"cost_per_million_usd": round(total, 4), "by_component": {n: round(c, 5) for n, c, _ in rows},
               "ceilings_votes_per_s": {n: round(v) for n, v, _ in limits_rows},
               "accepted_votes_per_s": round(accept), "one_poll_votes_per_s": round(per_poll),
               "results_keep_up_to_votes_per_s": round(results), "inputs": vars(args), "deployment": asdict(deploy)}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
