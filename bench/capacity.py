"""What a vote, a voter and a month of a named event cost on AWS, and what the deployed stack takes: a model, not a
measurement.

It models the deployments infra/deployment.py describes (the one source `make deploy` and `make preflight` read too):
  defaults   the template as `make package` builds it, every parameter at its default, sized for "a try-out";
  big vote   the same template with infra/overrides/big-vote.json's Parameters (what `make deploy BIG_VOTE=1`
             deploys before a broadcast), the quotas its runbook requests, and its Audience: a weekly TV show with
             1,000,000 voters an episode, the poll created with the file's expected_peak_votes_per_s.
For each it prints the assumptions with their source (an AWS pricing or quota page, or "measured here" with the
command), then:
  1. the vote request at the origin, per million votes, by component, against the $4.50 budget of issue 5 (the
     scope that budget was set for: API Gateway, the API function, the ballot write, the stream and the tally,
     their logs and traces);
  2. the whole bill: per million votes (1. plus what leaves AWS with the answer), per million voters (their sign-up
     or sign-in, monthly active user, every request of their visit at the CDN and at the origin, their votes), and
     one month of the named event with every fixed component (the search domain's hours and storage, provisioned
     concurrency, the secret, alarms and custom metrics, KMS, log storage, WAF);
  3. what the audience needs at its peak (sign-ups, sign-ins, mail, API requests, function concurrency, CDN
     requests) against the quotas, and each component's throughput ceiling; reads never reach the stage;
  4. cold starts at the surge, with and without provisioned concurrency.
The optional WAF (infra/waf.json, off by default) is priced apart, as what turning it on adds. The last line is
one JSON object with every figure.

What the deployment is comes from the files, never from this script: memory, architecture, the log sample rate
(.chalice/config.json), batch size and batching window (app.py), the stream mapping (infra/stream.json), the
parameter defaults (every infra/*.json), the user pool's feature plan (cognito.json), the X-Ray sampling rule and
the access log's format and class (api.json), the functions' LoggingConfig and log retention (functions.json),
the alarms (alarms.json and any other piece), the custom metrics (chalicelib's EMF calls), the bucket rule
(chalicelib/domain/ballots.py), the vote page's files (dashboard/). Measured figures are flags whose default is
the recorded measurement (bench/RESULTS.md); published prices and quotas are the two dataclasses below.

A vote request, as the template deploys it:
  1 API Gateway REST request -> 1 invocation of the API function (billed: its CPU, scaled to the memory's share of
  a vCPU, plus the wait for DynamoDB) -> 1 conditional PutItem of a ~200-byte ballot = 1 WRU, whatever the answer
  (201, 200 or 409: a failed condition consumes the write too) -> for a new ballot, 1 stream record; Lambda reads
  the stream for free -> the tally function takes it in a batch (per shard, once per batching window): per batch
  1 UpdateItem per poll on the tallies table, 1 OpenSearch _bulk (the domain bills by the hour), 1 log line and
  1 EMF line. The tumbling window adds one closing invocation per shard per window.

A voter's visit (issue 19's budget): the join link opens the vote page (its files from the dashboard's CloudFront
distribution), GET /config and the poll's public document from the CDN (the document every few seconds while the
page is open: one origin request a second per poll whatever the audience), a sign-in or a token refresh at Cognito
(a new voter's SignUp, ConfirmSignUp and emailed code first), and at most a few requests that reach the API
function, the vote among them.

One poll's ceiling: a poll's ballots are spread over B buckets (partition keys), and DynamoDB places each key on
one of the table's P partitions by hash, so some partitions draw several of the poll's buckets. The busiest one
takes k_max x rate / B writes/s and a partition takes 1,000: the poll's ceiling is B x 1,000 / k_max. k_max is
read at 99% confidence from the exact distribution of the fullest bin when B keys fall into P partitions
(P = warm writes/s / 1,000, the fewest a table warmed to that figure can have).

Run:  .venv/bin/python -m bench.capacity [--rate 1000] [--big-vote-rate 10000] [...]
"""
import argparse
import ast
import gzip
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from chalicelib.domain.ballots import buckets_for
from infra import deployment as settings_of
from infra import project_root

ROOT = project_root()
BIG_VOTE = settings_of.BIG_VOTE_FILE
MILLION = 1_000_000
HOURS_PER_MONTH = 730
GB = 1024 ** 3
CONFIDENCE = 0.99
BUDGET_PER_MILLION = 4.50
# The big vote as docs/big-vote.md deploys it for a broadcast: open sign-up, mail through SES (the identity is the
# deployer's own; any one stands for it here).
BIG_VOTE_AS_DEPLOYED = {"SelfSignUp": "open",
                        "SesIdentityArn": "arn:aws:ses:us-east-1:111122223333:identity/votes@example.com"}


def src(url: str, default):
    return field(default=default, metadata={"source": url})


def src_map(url: str, mapping: dict):
    return field(default_factory=lambda: dict(mapping), metadata={"source": url})


@dataclass(frozen=True)
class Prices:
    """On-demand list prices, us-east-1, USD. This machine has no web access: check each page before quoting.
    Free tiers are not subtracted, but Cognito's 10,000 monthly active users (the issue asks for it)."""
    api_rest_per_million: float = src("https://aws.amazon.com/api-gateway/pricing/ (REST, first 333 M a month)",
                                      3.50)
    lambda_per_million_requests: float = src("https://aws.amazon.com/lambda/pricing/", 0.20)
    lambda_gb_second: Dict[str, float] = src_map("https://aws.amazon.com/lambda/pricing/ (first 6 B GB-s a month)",
                                                 {"arm64": 0.0000133334, "x86_64": 0.0000166667})
    lambda_provisioned_gb_second: Dict[str, float] = src_map(
        "https://aws.amazon.com/lambda/pricing/ (Provisioned Concurrency, per GB-s configured)",
        {"arm64": 0.0000033334, "x86_64": 0.0000041667})
    ddb_per_million_wru: float = src("https://aws.amazon.com/dynamodb/pricing/on-demand/", 0.625)
    ddb_per_million_rru: float = src("https://aws.amazon.com/dynamodb/pricing/on-demand/", 0.125)
    ddb_storage_gb_month: float = src("https://aws.amazon.com/dynamodb/pricing/on-demand/ (Standard table class)",
                                      0.25)
    ddb_pitr_gb_month: float = src("https://aws.amazon.com/dynamodb/pricing/on-demand/ (continuous backups)", 0.20)
    logs_per_gb: float = src("https://aws.amazon.com/cloudwatch/pricing/ (Logs ingestion, Standard class; Lambda "
                             "logs are vended logs, $0.50/GB for the first 10 TB)", 0.50)
    logs_infrequent_per_gb: float = src("https://aws.amazon.com/cloudwatch/pricing/ (Logs ingestion, Infrequent "
                                        "Access class: no metric filters or EMF, Logs Insights works)", 0.25)
    logs_storage_gb_month: float = src("https://aws.amazon.com/cloudwatch/pricing/ (Logs storage, archived)", 0.03)
    alarm_metric_month: float = src("https://aws.amazon.com/cloudwatch/pricing/ (standard-resolution alarm, per "
                                    "metric)", 0.10)
    custom_metric_month: float = src("https://aws.amazon.com/cloudwatch/pricing/ (custom metric, first 10,000; "
                                     "EMF lines are ingested as logs, priced with them)", 0.30)
    xray_per_million_traces: float = src("https://aws.amazon.com/xray/pricing/ (traces recorded)", 5.00)
    search_node_hour: Dict[str, float] = src_map("https://aws.amazon.com/opensearch-service/pricing/",
                                                 {"t3.small.search": 0.036, "m7g.large.search": 0.136,
                                                  "m7g.xlarge.search": 0.272, "m7g.2xlarge.search": 0.544})
    search_gp3_gb_month: float = src("https://aws.amazon.com/opensearch-service/pricing/ (gp3 storage)", 0.122)
    cognito_mau_tiers: Dict[str, List[Tuple[float, float]]] = src_map(
        "https://aws.amazon.com/cognito/pricing/ (user pools, direct and social sign-in: (MAUs up to, USD per MAU); "
        "the first 10,000 a month free on Lite and Essentials)",
        {"LITE": [(10_000, 0.0), (100_000, 0.0055), (1_000_000, 0.0046), (10_000_000, 0.00325), (math.inf, 0.0025)],
         "ESSENTIALS": [(10_000, 0.0), (math.inf, 0.015)],
         "PLUS": [(math.inf, 0.02)]})
    ses_per_thousand_emails: float = src("https://aws.amazon.com/ses/pricing/ (outbound email)", 0.10)
    cloudfront_per_10k_https: float = src("https://aws.amazon.com/cloudfront/pricing/ (HTTPS requests, United "
                                          "States, Europe)", 0.0100)
    cloudfront_per_gb_out: float = src("https://aws.amazon.com/cloudfront/pricing/ (data transfer out to the "
                                       "internet, first 10 TB, United States, Europe)", 0.085)
    origin_shield_per_10k: float = src("https://aws.amazon.com/cloudfront/pricing/ (Origin Shield requests, "
                                       "us-east-1)", 0.0075)
    internet_per_gb_out: float = src("https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer (out to the "
                                     "internet, first 10 TB; API Gateway and Cognito answers; origin to CloudFront "
                                     "is free)", 0.09)
    kms_per_10k_requests: float = src("https://aws.amazon.com/kms/pricing/", 0.03)
    kms_aws_managed_key_month: float = src("https://aws.amazon.com/kms/pricing/ (AWS managed keys: no monthly fee)",
                                           0.0)
    secret_month: float = src("https://aws.amazon.com/secrets-manager/pricing/", 0.40)
    secrets_per_10k_calls: float = src("https://aws.amazon.com/secrets-manager/pricing/", 0.05)
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
                                  "(concurrent executions per account and Region, adjustable; new accounts may "
                                  "start at 10)", 1_000)
    lambda_unreserved_minimum: int = src("https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html "
                                         "(reservations and provisioned concurrency leave this many unreserved, or "
                                         "all of a smaller account's)", 100)
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
    cognito_user_authentication_rps: int = src(
        "https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html (UserAuthentication: InitiateAuth, "
        "AdminInitiateAuth; their challenge answers have 3x apart; per account and Region, adjustable)", 120)
    cognito_user_creation_rps: int = src(
        "https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html (UserCreation: SignUp, ConfirmSignUp, "
        "AdminCreateUser, AdminConfirmSignUp together; adjustable)", 50)
    cognito_own_mail_per_day: int = src("https://docs.aws.amazon.com/cognito/latest/developerguide/"
                                        "user-pool-email.html (the default email configuration, per account)", 50)
    ses_sandbox_per_day: int = src("https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html "
                                   "(sandbox: verified recipients only, 200 a day, 1 a second)", 200)
    ses_production_per_day: int = src("https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html "
                                      "(a new production account's usual start; SES raises it with use or on "
                                      "request)", 50_000)
    ses_production_per_second: int = src("https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html", 14)
    cloudfront_requests_per_s: int = src("https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
                                         "cloudfront-limits.html (requests per second per distribution)", 250_000)
    search_vcpus: Dict[str, float] = src_map(
        "https://aws.amazon.com/opensearch-service/pricing/ (vCPUs; t3.small: 2 vCPUs at a 20% baseline each, "
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-credits-baseline-concepts.html)",
        {"t3.small.search": 0.4, "m7g.large.search": 2, "m7g.xlarge.search": 4, "m7g.2xlarge.search": 8})


# What each quota is called in Service Quotas, for the model's needs and `make preflight` (which reads the real
# figures): the need's key -> (service, quota name, Limits field with its default).
QUOTAS = {
    "lambda_concurrency": ("AWS Lambda", "Concurrent executions", "lambda_concurrency"),
    "api_requests_per_s": ("Amazon API Gateway", "Throttle rate", "api_account_rps"),
    "user_authentication_rps": ("Amazon Cognito user pools", "Rate of UserAuthentication requests",
                                "cognito_user_authentication_rps"),
    "user_creation_rps": ("Amazon Cognito user pools", "Rate of UserCreation requests", "cognito_user_creation_rps"),
    "ballot_table_writes_per_s": ("Amazon DynamoDB", "Table-level write throughput limit", "ddb_table_wcu_quota"),
    "cdn_requests_per_s": ("Amazon CloudFront", "Request rate per distribution", "cloudfront_requests_per_s"),
}


@dataclass(frozen=True)
class Deployment:
    """What the template deploys, read from the project's files (and the big-vote overrides, for that one)."""
    name: str
    architecture: str
    memory_mb: int
    tally_memory_mb: int
    log_sample_rate: float
    system_log_level: str
    log_retention_days: int
    batch_size: int
    batching_window_s: int
    tumbling_window_s: int
    parallelization_factor: int
    warm_writes: int
    warm_reads: int
    stage_rate_limit: int
    stage_burst_limit: int
    tally_reserved: int
    api_provisioned: int
    search_type: str
    search_nodes: int
    search_gb: int
    search_masters: int
    search_master_type: str
    xray_fixed_rate: float
    xray_reservoir: int
    poll_peak_votes_per_s: int
    account_api_rps: int
    account_api_burst: int
    account_lambda_concurrency: int
    account_user_authentication_rps: int
    account_user_creation_rps: int
    account_ses_per_day: int
    account_cdn_rps: int
    user_pool_tier: str
    self_sign_up: bool
    mails_with_ses: bool
    id_token_minutes: int
    waf_on: bool
    table_key: str
    tables: int
    secrets: int
    api_behind_cdn: bool
    alarm_metrics: int
    custom_metrics: int
    audience: settings_of.Audience

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


def alarm_metrics(resources: Dict[str, dict]) -> int:
    """Alarm metrics the template bills for: one per metric alarm, one per metric in a metric-math alarm."""
    found = 0
    for resource in resources.values():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            queries = resource["Properties"].get("Metrics")
            found += sum(1 for q in queries if "MetricStat" in q) if queries else 1
    return found


def custom_metrics() -> int:
    """The EMF metrics the functions emit, each a custom metric per set of dimension values: every name given to
    observability.count(...), plus VotesRejected once per refusal kind (its `reason` dimension)."""
    from chalicelib.domain.errors import TallyError

    names = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "count"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                names.add(node.args[0].value)
    import chalicelib.api  # noqa: F401  (every refusal kind the API can name is defined by then)

    kinds, pending = set(), [TallyError]
    while pending:
        kind = pending.pop()
        kinds.add(kind)
        pending += kind.__subclasses__()
    return len(names) + len(kinds)


def api_behind_cdn(resources: Dict[str, dict]) -> bool:
    """Whether a distribution of the template fronts the API for writes too (infra/cdn.json: the whole API under
    /api/), so that every function request, the vote included, is also a CloudFront request."""
    for resource in resources.values():
        if resource.get("Type") != "AWS::CloudFront::Distribution":
            continue
        config = resource["Properties"]["DistributionConfig"]
        api = {o["Id"] for o in config["Origins"] if "${RestAPI}" in json.dumps(o.get("DomainName"))}
        behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
        if any(b["TargetOriginId"] in api and "POST" in b.get("AllowedMethods", []) for b in behaviours):
            return True
    return False


def present(resource: dict, waf_on: bool) -> bool:
    """Whether a resource the template declares is made with these parameters (the WAF's, conditionally)."""
    return not resource.get("Condition", "").startswith("WafOn") or waf_on


def read_deployment(big_vote: bool = False, settings: Optional[settings_of.Settings] = None) -> Deployment:
    settings = settings or (settings_of.settings("big-vote", BIG_VOTE_AS_DEPLOYED) if big_vote
                            else settings_of.settings("defaults"))
    config = _json(ROOT / ".chalice" / "config.json")
    stage = config["stages"]["prod"]
    env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}
    tally_stage = stage.get("lambda_functions", {}).get("tally_ballots", {})
    from infra.build_template import load_pieces
    from infra.event_source import deployed  # the tally function's event source mapping, as deployed

    mapping = deployed()
    pieces = load_pieces()
    resources = pieces["Resources"]
    parameters = settings.parameters
    limits = Limits()
    quotas = {"api_account_rps": limits.api_account_rps, "api_account_burst": limits.api_account_burst,
              "lambda_concurrent_executions": limits.lambda_concurrency,
              "cognito_user_authentication_rps": limits.cognito_user_authentication_rps,
              "cognito_user_creation_rps": limits.cognito_user_creation_rps,
              "ses_max_24_hour_send": limits.ses_production_per_day,
              "cloudfront_requests_per_s": limits.cloudfront_requests_per_s}
    if settings.mode == "big-vote":
        quotas.update({name: ask["request"] for name, ask in settings_of.big_vote_file()["Quotas"].items()})
    logging_config = resources["APIHandler"]["Properties"]["LoggingConfig"]
    rule = resources["ApiTraceSampling"]["Properties"]["SamplingRule"]
    pool = resources["UserPool"]["Properties"]
    client = resources["UserPoolClient"]["Properties"]
    tables = {name: r for name, r in resources.items() if r.get("Type") == "AWS::DynamoDB::Table"}
    return Deployment(
        name=settings.name,
        architecture=stage.get("lambda_architecture", "x86_64"),
        memory_mb=stage.get("lambda_memory_size", 128),
        tally_memory_mb=tally_stage.get("lambda_memory_size", stage.get("lambda_memory_size", 128)),
        log_sample_rate=float(env.get("POWERTOOLS_LOGGER_SAMPLE_RATE", 1.0)),
        system_log_level=logging_config.get("SystemLogLevel", "INFO"),
        log_retention_days=resources["ApiHandlerLogGroup"]["Properties"]["RetentionInDays"],
        batch_size=mapping.batch_size, batching_window_s=mapping.batching_window_s,
        tumbling_window_s=mapping.tumbling_window_s, parallelization_factor=mapping.parallelization_factor,
        warm_writes=int(parameters["BallotsWarmWriteUnitsPerSecond"]),
        warm_reads=int(parameters["BallotsWarmReadUnitsPerSecond"]),
        stage_rate_limit=int(parameters["ApiRateLimit"]), stage_burst_limit=int(parameters["ApiBurstLimit"]),
        tally_reserved=int(parameters["TallyReservedConcurrency"]),
        api_provisioned=int(parameters["ApiProvisionedConcurrency"]),
        search_type=parameters["SearchInstanceType"], search_nodes=int(parameters["SearchInstanceCount"]),
        search_gb=resources["SearchDomain"]["Properties"]["EBSOptions"]["VolumeSize"],
        search_masters=int(parameters["SearchDedicatedMasterCount"]),
        search_master_type=parameters["SearchDedicatedMasterType"],
        xray_fixed_rate=rule["FixedRate"], xray_reservoir=rule["ReservoirSize"],
        poll_peak_votes_per_s=settings.poll_peak_votes_per_s,
        account_api_rps=quotas["api_account_rps"], account_api_burst=quotas["api_account_burst"],
        account_lambda_concurrency=quotas["lambda_concurrent_executions"],
        account_user_authentication_rps=quotas["cognito_user_authentication_rps"],
        account_user_creation_rps=quotas["cognito_user_creation_rps"],
        account_ses_per_day=quotas["ses_max_24_hour_send"],
        account_cdn_rps=quotas["cloudfront_requests_per_s"],
        user_pool_tier=pool.get("UserPoolTier", "ESSENTIALS"),  # Cognito's default plan for a new pool
        self_sign_up=parameters["SelfSignUp"] == "open",
        mails_with_ses=bool(parameters["SesIdentityArn"]),
        id_token_minutes=int(parameters[client["IdTokenValidity"]["Ref"]]),
        waf_on=parameters["Waf"] == "on",
        table_key="aws-managed" if all(t["Properties"].get("SSESpecification", {}).get("SSEEnabled")
                                       for t in tables.values()) else "aws-owned",
        tables=len(tables),
        secrets=sum(1 for r in resources.values() if r.get("Type") == "AWS::SecretsManager::Secret"
                    and present(r, parameters["Waf"] == "on")),
        api_behind_cdn=api_behind_cdn(resources),
        alarm_metrics=alarm_metrics(resources),
        custom_metrics=custom_metrics(),
        audience=settings.audience,
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


_HTML_REFERENCES = re.compile(r'(?:src|href)="([^"#?:]+\.(?:js|css|svg))"')
_JS_IMPORTS = re.compile(r'(?:import\s[^"\']*?from\s*|import\s*\(\s*|import\s+)["\'](\.{1,2}/[^"\']+\.js)["\']')


def page_weight(page: str = "vote.html") -> Dict[str, float]:
    """The vote page a join link opens, as CloudFront serves it compressed: the page, what it references and every
    module its scripts import (statically or not), gzip-compressed, from dashboard/. Vendored files exist once
    `make dashboard` has run; without them they are counted as missing."""
    base = ROOT / "dashboard"
    pending, seen, missing = [base / page], set(), []
    while pending:
        path = pending.pop().resolve()
        if path in seen:
            continue
        if not path.exists():
            missing.append(str(path.relative_to(base.resolve())))
            continue
        seen.add(path)
        text = path.read_text(errors="replace")
        pattern = _HTML_REFERENCES if path.suffix == ".html" else _JS_IMPORTS if path.suffix == ".js" else None
        for reference in (pattern.findall(text) if pattern else []):
            pending.append(path.parent / reference)
    compressed = sum(len(gzip.compress(p.read_bytes(), 6)) for p in seen)
    return {"files": len(seen), "bytes": compressed, "missing": sorted(missing)}


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


# --- the vote request at the origin -----------------------------------------------------------------------------

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


def access_log_price(args, prices: Prices) -> float:
    return prices.logs_per_gb if args.access_log_class == "STANDARD" else prices.logs_infrequent_per_gb


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
        ("CloudWatch Logs, API function", api_log_bytes / GB * prices.logs_per_gb,
         f"{deploy.log_sample_rate:.1%} of votes logged ({args.vote_line_bytes + args.lambda_context_bytes} B), "
         f"every refusal ({args.refusal_share:.0%}: line + EMF), "
         + ("no platform lines (SystemLogLevel WARN)" if not platform_lines else f"{platform_lines} platform lines")),
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
        ("CloudWatch Logs, tally function", tally_log_bytes / GB * prices.logs_per_gb,
         "1 line + 1 EMF line (BallotsCounted and two more) per batch"),
        ("X-Ray traces, tally", tally_traces * prices.xray_per_million_traces / MILLION,
         f"{tally_traces:,.0f} traces: Lambda's own sampling of stream invocations"),
        ("DynamoDB poll reads", poll_reads * args.poll_rru * prices.ddb_per_million_rru / MILLION,
         f"{environments:,.0f} API environments x 1 GetItem per poll per {args.poll_cache_s:g} s"),
    ]


# --- the whole bill ------------------------------------------------------------------------------------------------

def cognito_mau_usd(users: float, tier: str, prices: Prices) -> float:
    """Monthly active users at the plan's tiered price, the free tier included."""
    cost, below = 0.0, 0.0
    for up_to, price in prices.cognito_mau_tiers[tier]:
        cost += max(0.0, min(users, up_to) - below) * price
        below = up_to
        if users <= up_to:
            break
    return cost


def function_request_usd(args, deploy: Deployment, prices: Prices, limits: Limits) -> Dict[str, float]:
    """One request of a visit that reaches the API function, other than the vote (GET /votes/mine and the like):
    API Gateway, an invocation as long as a vote's, one consistent GetItem, its access log line, its answer."""
    gb_s = prices.lambda_gb_second[deploy.architecture]
    return {
        "api": prices.api_rest_per_million / MILLION,
        "lambda": prices.lambda_per_million_requests / MILLION
        + api_billed_ms(args, deploy, limits) / 1000 * deploy.memory_mb / 1024 * gb_s,
        "read": prices.ddb_per_million_rru / MILLION,
        "log": (args.access_log_bytes + limits.logs_event_overhead_bytes) / GB * access_log_price(args, prices),
        **({"cdn": prices.cloudfront_per_10k_https / 10_000 + prices.origin_shield_per_10k / 10_000,
            "out": args.answer_bytes / GB * prices.cloudfront_per_gb_out} if deploy.api_behind_cdn else
           {"out": args.answer_bytes / GB * prices.internet_per_gb_out}),
    }


def waf_acls_on_the_api(deploy: Deployment) -> int:
    """Web ACLs a function request passes with Waf on: the regional one on the stage, and the distribution's."""
    return 2 if deploy.api_behind_cdn else 1


def per_million_votes(rate: float, args, deploy: Deployment, prices: Prices, limits: Limits) -> List[Row]:
    rows = cost_per_million(rate, args, deploy, prices, limits)
    if deploy.api_behind_cdn:
        rows.append(("CloudFront requests, the votes", MILLION * prices.cloudfront_per_10k_https / 10_000,
                     "each vote is a request to the distribution (/api/*, never cached), then to the stage"))
        rows.append(("CloudFront data out, the votes' answers", MILLION * args.answer_bytes / GB
                     * prices.cloudfront_per_gb_out,
                     f"{args.answer_bytes} B an answer (body and headers); the stage to CloudFront is free"))
    else:
        rows.append(("Data transfer out, the votes' answers", MILLION * args.answer_bytes / GB
                     * prices.internet_per_gb_out,
                     f"{args.answer_bytes} B an answer (body and headers), API Gateway to the internet"))
    if deploy.waf_on:
        acls = waf_acls_on_the_api(deploy)
        rows.append(("WAF requests", acls * prices.waf_per_million_requests,
                     f"each vote inspected by {acls} web ACL(s)"))
    return rows


def visit(args, deploy: Deployment) -> Dict[str, float]:
    """One voter's visit, request by request, at the CDN and at the origin."""
    audience = deploy.audience
    page = args.page_weight
    documents = audience.visit_minutes * 60 / audience.poll_document_every_s
    new = 1.0  # the first event's voters, every one new: the visit a deployer plans for
    token_refreshes = audience.visit_minutes / deploy.id_token_minutes
    return {
        "cdn_page_requests": page["files"], "cdn_page_bytes": page["bytes"],
        "cdn_config_requests": 1, "cdn_document_requests": documents,
        "cdn_document_bytes": documents * args.document_bytes,
        "function_requests": audience.function_requests_per_visit,
        "votes": audience.votes_per_voter,
        # A new voter: SignUp and ConfirmSignUp (UserCreation) and a sign-in (InitiateAuth and its SRP answer);
        # a returning one is signed in already on the device (a refresh) or signs in once.
        "user_creation_requests": 2 * new if deploy.self_sign_up else new,
        "user_authentication_requests": 1 + token_refreshes,
        "mails": new,
        "cognito_bytes": args.cognito_exchange_bytes * (1 + 2 * new + token_refreshes),
    }


def per_million_voters(args, deploy: Deployment, prices: Prices, limits: Limits, vote_usd: float) -> List[Row]:
    """A million voters of a first event, each new and on one visit, their votes included: what they cost beyond
    the search domain and the other fixed components of the month."""
    audience = deploy.audience
    v = visit(args, deploy)
    fn = function_request_usd(args, deploy, prices, limits)
    others = v["function_requests"] - v["votes"]
    cdn_requests = v["cdn_page_requests"] + v["cdn_config_requests"] + v["cdn_document_requests"]
    cdn_bytes = v["cdn_page_bytes"] + v["cdn_document_bytes"] + args.config_bytes
    rows = [
        (f"Cognito monthly active users ({deploy.user_pool_tier})",
         cognito_mau_usd(MILLION, deploy.user_pool_tier, prices),
         f"1,000,000 MAUs, the first 10,000 free; every voter who signs up, signs in or refreshes is one "
         f"(Essentials would be ${cognito_mau_usd(MILLION, 'ESSENTIALS', prices):,.0f})"),
        ("Cognito requests", 0.0, "sign-up, sign-in and refresh are not billed per request (quotas apply)"),
        ("Email: sign-up codes" + (" (SES)" if deploy.mails_with_ses else " (Cognito's own, 50 a day)"),
         MILLION * v["mails"] * prices.ses_per_thousand_emails / 1000 if deploy.mails_with_ses else 0.0,
         f"{v['mails']:.0%} new voters, one code each"
         + ("" if deploy.mails_with_ses else ": free but capped, so a public sign-up needs SesIdentityArn")),
        ("CloudFront requests, the visit", MILLION * cdn_requests * prices.cloudfront_per_10k_https / 10_000,
         f"{v['cdn_page_requests']:.0f} page files + config + {v['cdn_document_requests']:.0f} reads of the poll's "
         f"document ({audience.visit_minutes:g} min, one every {audience.poll_document_every_s:g} s)"),
        ("CloudFront data out, the visit", MILLION * cdn_bytes / GB * prices.cloudfront_per_gb_out,
         f"{cdn_bytes / 1024:,.0f} KiB: the page {v['cdn_page_bytes'] / 1024:,.0f} KiB gzip, the document "
         f"{args.document_bytes} B a read"),
        ("Function requests besides the vote", MILLION * others * sum(fn.values()),
         f"{others:g} a visit (of {v['function_requests']:g}, issue 19's budget): "
         + ("CloudFront and its Origin Shield (an uncached GET), " if deploy.api_behind_cdn else "")
         + "API Gateway, Lambda, 1 GetItem, access log, answer"),
        ("Data transfer out, sign-in", MILLION * v["cognito_bytes"] / GB * prices.internet_per_gb_out,
         f"{args.cognito_exchange_bytes} B an exchange with the user pool"),
        (f"Their votes ({audience.votes_per_voter:g} each)", MILLION * audience.votes_per_voter * vote_usd / MILLION,
         "the whole bill per vote, above"),
    ]
    if deploy.waf_on:
        inspected = others * waf_acls_on_the_api(deploy) + v["user_authentication_requests"] + v[
            "user_creation_requests"]
        rows.append(("WAF requests, the visit", MILLION * inspected * prices.waf_per_million_requests / MILLION,
                     "the function requests (each by every web ACL on its way) and the user pool's"))
    return rows


def provisioned_usd_per_hour(deploy: Deployment, prices: Prices) -> float:
    return (deploy.api_provisioned * deploy.memory_mb / 1024 * 3600
            * prices.lambda_provisioned_gb_second[deploy.architecture])


def month(args, deploy: Deployment, defaults: Deployment, prices: Prices, limits: Limits,
          vote_usd: float, voter_rows: List[Row]) -> List[Row]:
    """One month of the audience's event: its events at these settings for big_vote_hours_per_event each (the
    template's defaults the rest of the month; the defaults' own month is all at the defaults), and every fixed
    component."""
    audience = deploy.audience
    own = deploy.name == defaults.name
    hours = HOURS_PER_MONTH if own else min(HOURS_PER_MONTH, audience.events_per_month
                                            * audience.big_vote_hours_per_event)
    rest = HOURS_PER_MONTH - hours
    voters = audience.voters * audience.events_per_month
    votes = voters * audience.votes_per_voter
    per_voter = {name: cost / MILLION for name, cost, _ in voter_rows}
    priced_apart = [name for name in per_voter if name.startswith(("Cognito monthly", "Their votes"))]
    # A new voter's visit (the rows above) is mailed a code; a returning voter's is not.
    new_only = [name for name in per_voter if name.startswith("Email")]
    visits = (sum(cost for name, cost in per_voter.items() if name not in priced_apart + new_only) * voters
              + sum(per_voter[name] for name in new_only) * audience.monthly_active_users)

    def domain(d: Deployment, h: float) -> float:
        nodes = d.search_nodes * prices.search_node_hour[d.search_type]
        masters = d.search_masters * prices.search_node_hour.get(d.search_master_type, 0.0)
        return h * (nodes + masters)

    storage = max(deploy.search_nodes, defaults.search_nodes) * deploy.search_gb * prices.search_gp3_gb_month
    ballot_gb = votes * args.ballot_item_bytes / GB
    vote_rows = cost_per_million(args.rate, args, deploy, prices, limits)
    log_gb = votes / MILLION * sum(
        cost / (access_log_price(args, prices) if name.startswith("API Gateway access") else prices.logs_per_gb)
        for name, cost, _ in vote_rows if name.startswith(("CloudWatch Logs", "API Gateway access logs")))
    environments = max(1.0, audience.peak_votes_per_s * api_billed_ms(args, deploy, limits) / 1000)
    busy = max(environments, deploy.api_provisioned)
    # DynamoDB asks KMS for a table's key about every 5 minutes for each caller that uses it.
    kms_requests = 12 * deploy.tables * (HOURS_PER_MONTH * args.kms_callers + hours * busy * (not own))
    secret_calls = audience.events_per_month * busy + HOURS_PER_MONTH  # once per cold start
    shield = args.edge_locations * audience.polls_open * audience.events_per_month * args.event_open_hours * 3600
    return [
        (f"Cognito monthly active users ({deploy.user_pool_tier})",
         cognito_mau_usd(audience.monthly_active_users, deploy.user_pool_tier, prices),
         f"{audience.monthly_active_users:,.0f} MAUs: an event's {audience.voters:,} voters"
         + (f", then {audience.new_voter_share:.0%} new at each of {audience.events_per_month - 1} more"
            if audience.events_per_month > 1 else "") + "; the first 10,000 free"),
        ("The votes, whole bill", votes * vote_usd / MILLION, f"{votes:,.0f} votes at ${vote_usd:.4f} per million"),
        ("The visits: CDN, function requests, mail, sign-in", visits,
         f"{voters:,.0f} visits, as per million voters above but for the MAUs and the votes"),
        ("OpenSearch domain hours", domain(deploy, hours) + domain(defaults, rest),
         f"{deploy.search_nodes} x {deploy.search_type} for {hours:,.0f} h"
         + (f", {defaults.search_nodes} x {defaults.search_type} for {rest:,.0f} h" if rest else "")
         + (f", {deploy.search_masters} masters" if deploy.search_masters else "")),
        ("OpenSearch storage", storage, f"{deploy.search_gb} GB gp3 a node"),
        ("Lambda provisioned concurrency", provisioned_usd_per_hour(deploy, prices) * hours,
         f"{deploy.api_provisioned} environments x {deploy.memory_mb} MB for {hours:,.0f} h"
         if deploy.api_provisioned else "none (ApiProvisionedConcurrency 0)"),
        ("DynamoDB storage and backups", ballot_gb * (prices.ddb_storage_gb_month + prices.ddb_pitr_gb_month),
         f"{ballot_gb:.2f} GB of ballots ({args.ballot_item_bytes} B each) with point-in-time recovery"),
        ("KMS requests (AWS managed key)" if deploy.table_key == "aws-managed" else "KMS (AWS owned key)",
         kms_requests * prices.kms_per_10k_requests / 10_000 if deploy.table_key == "aws-managed" else 0.0,
         f"~{kms_requests:,.0f}: the tables' key, about every 5 min per caller "
         "(https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html); the key is free and its "
         "every use is in CloudTrail, which is why the tables keep it" if deploy.table_key == "aws-managed"
         else "free, and not in CloudTrail"),
        ("Secrets Manager", deploy.secrets * prices.secret_month + secret_calls * prices.secrets_per_10k_calls / 10_000,
         f"{deploy.secrets} secret (the voter key), read once per cold start"),
        ("CloudWatch alarms", deploy.alarm_metrics * prices.alarm_metric_month,
         f"{deploy.alarm_metrics} alarm metrics in the template"),
        ("CloudWatch custom metrics", deploy.custom_metrics * prices.custom_metric_month,
         f"{deploy.custom_metrics} EMF metrics (names x dimension values) from chalicelib"),
        ("CloudWatch Logs storage", log_gb * prices.logs_storage_gb_month * deploy.log_retention_days / 30,
         f"{log_gb:.2f} GB ingested, kept {deploy.log_retention_days} days"),
        ("CloudFront Origin Shield", shield * prices.origin_shield_per_10k / 10_000,
         f"~{args.edge_locations} edge locations x {audience.polls_open} poll(s) asking once a second, "
         f"{args.event_open_hours:g} h an event"),
        ("WAF web ACLs and rules" if deploy.waf_on else "WAF (off)",
         waf_acls_on_the_api(deploy) * (prices.waf_web_acl_month + prices.waf_rule_month) if deploy.waf_on else 0.0,
         "Waf on" if deploy.waf_on else "parameter Waf off: priced apart below"),
    ]


# --- what the audience needs at its peak ------------------------------------------------------------------------

@dataclass(frozen=True)
class Need:
    key: str
    need: float
    have: float
    why: str

    @property
    def ok(self) -> bool:
        return self.need <= self.have


def needs(args, deploy: Deployment, limits: Limits) -> List[Need]:
    """What the audience's peak needs of each quota, with the figure the model assumes the account has (the
    default, or for the big vote what its runbook requests). `make preflight` asks for the account's real ones."""
    a = deploy.audience
    window_s = a.sign_in_minutes * 60
    billed_s = api_billed_ms(args, deploy, limits) / 1000
    others = a.voters * max(0, a.function_requests_per_visit - a.votes_per_voter) / window_s
    function_rps = a.peak_votes_per_s + others
    reads = a.polls_open * args.origin_document_rps + args.origin_config_rps
    concurrency = math.ceil(function_rps * billed_s)
    kept = deploy.tally_reserved + deploy.api_provisioned
    minimum = limits.lambda_unreserved_minimum if kept else 0
    lambda_need = max(kept + minimum, deploy.tally_reserved + max(concurrency, deploy.api_provisioned))
    joins_per_s = a.sign_ups / (a.sign_up_days * 86_400) * a.peak_to_average
    creation = joins_per_s * (2 if deploy.self_sign_up else 1) + a.invitations_per_day / 86_400 * a.peak_to_average
    authentication = a.voters * (1 + a.visit_minutes / deploy.id_token_minutes) / window_s * a.peak_to_average
    watching = min(a.voters, a.peak_votes_per_s * a.visit_minutes * 60 / a.votes_per_voter)
    return [
        Need("lambda_concurrency", lambda_need, deploy.account_lambda_concurrency,
             f"{deploy.tally_reserved} reserved for the tally + the API's {max(concurrency, deploy.api_provisioned)} "
             f"({function_rps:,.0f} function requests/s x {billed_s * 1000:g} ms"
             + (f", {deploy.api_provisioned} provisioned" if deploy.api_provisioned else "") + ")"
             + (f"; reservations leave {minimum} unreserved" if minimum else "")),
        Need("api_requests_per_s", function_rps + reads, min(deploy.stage_rate_limit, deploy.account_api_rps),
             f"{a.peak_votes_per_s:,.0f} votes/s + {others:,.0f}/s other function requests (the visits' "
             f"{a.function_requests_per_visit - a.votes_per_voter:g} more, over the {a.sign_in_minutes:g} min before) "
             f"+ {reads:g}/s reads the CDN passes on; the stage's ApiRateLimit {deploy.stage_rate_limit:,} and the "
             f"account's {deploy.account_api_rps:,}"),
        Need("user_authentication_rps", authentication, deploy.account_user_authentication_rps,
             f"{a.voters:,} voters signing in (or refreshing) over {a.sign_in_minutes:g} min, "
             f"{a.peak_to_average:g}x the average at the busiest"),
        Need("user_creation_rps", creation, deploy.account_user_creation_rps,
             f"{a.sign_ups:,.0f} new voters over {a.sign_up_days:g} day(s), "
             + ("SignUp + ConfirmSignUp each" if deploy.self_sign_up else "one AdminCreateUser each (invited)")
             + f", {a.peak_to_average:g}x the average at the busiest"),
        Need("mails_per_day", a.sign_ups / max(1.0, a.sign_up_days) + a.invitations_per_day,
             (deploy.account_ses_per_day if deploy.mails_with_ses else limits.cognito_own_mail_per_day),
             "a code per new voter and an invitation per invited one, on an average day of the sign-ups; "
             + ("SES in production" if deploy.mails_with_ses else "Cognito's own mail: set SesIdentityArn")),
        Need("ballot_table_writes_per_s", a.peak_votes_per_s, deploy.warm_writes,
             f"1 write a vote; the ballots table's warm throughput (quota {limits.ddb_table_wcu_quota:,} a table)"),
        Need("cdn_requests_per_s", watching / a.poll_document_every_s + (function_rps if deploy.api_behind_cdn
                                                                         else 0), deploy.account_cdn_rps,
             f"{watching:,.0f} pages open at the peak, each reading the poll's document every "
             f"{a.poll_document_every_s:g} s (the origin sees {reads:g}/s)"
             + (f", and the {function_rps:,.0f} function requests/s the distribution passes to the stage"
                if deploy.api_behind_cdn else "")),
    ]


def reads_at_peak(args, deploy: Deployment) -> Dict[str, float]:
    """The audience's reads at the peak: at the CDN, one per open page every few seconds; at the origin, one a
    second per poll's document and /config's, whatever the audience (issue 19's CloudFront behaviour)."""
    n = {need.key: need for need in needs(args, deploy, Limits())}
    origin = deploy.audience.polls_open * args.origin_document_rps + args.origin_config_rps
    function = n["api_requests_per_s"].need - origin
    cdn = n["cdn_requests_per_s"].need - (function if deploy.api_behind_cdn else 0)
    return {"cdn_per_s": round(cdn), "origin_per_s": origin,
            "function_per_s": round(function), "origin_share_of_stage": origin / deploy.stage_rate_limit,
            "stage_headroom_per_s": round(deploy.stage_rate_limit - function - origin)}


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


def cold_starts(args, deploy: Deployment, limits: Limits) -> Dict[str, float]:
    """The surge from zero: the environments its peak keeps busy, how many start cold, and the votes that wait."""
    need = math.ceil(deploy.audience.peak_votes_per_s * api_billed_ms(args, deploy, limits) / 1000)
    cold = max(0, need - deploy.api_provisioned)
    init = cold_start_s(args, deploy, limits)
    return {"environments_at_peak": need, "provisioned": deploy.api_provisioned, "cold": cold,
            "init_s": round(init, 2),
            "votes_waiting_on_a_cold_start": round(deploy.audience.peak_votes_per_s * init) if cold else 0}


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


def print_rows(title: str, rows: List[Row]) -> float:
    total = sum(cost for _, cost, _ in rows)
    print(title)
    for name, cost, note in sorted(rows, key=lambda r: -r[1]):
        share = cost / total if total else 0
        print(f"  {name:<48} {cost:>12,.4f}  {share:>6.1%}  {note}")
    print(f"  {'total':<48} {total:>12,.4f}")
    return total


def scenario(rate: float, args, deploy: Deployment, defaults: Deployment, prices: Prices, limits: Limits) -> Dict:
    rows = cost_per_million(rate, args, deploy, prices, limits)
    total = sum(cost for _, cost, _ in rows)
    limit_rows = ceilings(args, deploy, limits)
    value = {name: v for name, v, _ in limit_rows}
    accept = min(value[n] for n in ("API stage throttle (ApiRateLimit)", "API Gateway account quota",
                                    "Lambda concurrency / API duration", "DynamoDB ballots table, warm writes"))
    one_poll = min(accept, value["DynamoDB, one poll"])
    results = min(value["Stream consumer"], value["Results index ingest"])
    tally_writes_per_poll = deploy.partitions * (limits.stream_polls_per_second + 1)
    spare = BUDGET_PER_MILLION - total
    print(f"\n== {deploy.name} ({deploy.audience.name}): {rate:,.0f} votes/s ==")
    print_rows(f"1. The vote request at the origin, per 1,000,000 votes (USD), {deploy.architecture}, API function "
               f"{deploy.memory_mb} MB", rows)
    print(f"  budget {BUDGET_PER_MILLION:.2f}: {'within' if spare >= 0 else 'OVER'} by ${abs(spare):.4f}"
          f" (that is {spare * GB / MILLION / prices.logs_per_gb:,.0f} more log bytes per request)")
    vote_rows = per_million_votes(rate, args, deploy, prices, limits)
    vote_usd = print_rows("2. The whole bill per 1,000,000 votes (USD)", vote_rows)
    voter_rows = per_million_voters(args, deploy, prices, limits, vote_usd)
    voter_usd = print_rows("   per 1,000,000 voters of a first event, each new and on one visit, their votes included"
                           " (USD)",
                           voter_rows)
    month_rows = month(args, deploy, defaults, prices, limits, vote_usd, voter_rows)
    month_usd = print_rows(f"   a month of {deploy.audience.name}: {deploy.audience.events_per_month} event(s) "
                           f"(USD)", month_rows)
    need_rows = needs(args, deploy, limits)
    print("3. What the audience needs at its peak, against the quotas the model assumes (make preflight reads the "
          "account's)")
    for n in need_rows:
        print(f"  {'ok   ' if n.ok else 'SHORT'} {n.key:<28} {n.need:>12,.0f} of {n.have:>10,.0f}  {n.why}")
    print("   Throughput ceilings (votes/s)")
    for name, v, note in limit_rows:
        print(f"  {name:<48} {v:>12,.0f}  {note}")
    print(f"  => accepted, all polls: {accept:,.0f}/s; one poll: {one_poll:,.0f}/s; results keep up to: "
          f"{results:,.0f}/s; one poll's counters take {tally_writes_per_poll:,} of "
          f"{limits.ddb_partition_wcu:,} writes/s on the tallies table at most")
    reads = reads_at_peak(args, deploy)
    print(f"   Reads at the peak: {reads['cdn_per_s']:,.0f}/s at the CDN, {reads['origin_per_s']:g}/s reach the "
          f"stage ({reads['origin_share_of_stage']:.3%} of ApiRateLimit {deploy.stage_rate_limit:,}, beside "
          f"{reads['function_per_s']:,.0f}/s of votes and other function requests): reads never reach the limit")
    surge = cold_starts(args, deploy, limits)
    print(f"4. Cold starts at the surge: {surge['environments_at_peak']} environments busy at the peak, "
          f"{surge['provisioned']} provisioned, {surge['cold']} start cold ({surge['init_s']} s each"
          + (f": the ~{surge['votes_waiting_on_a_cold_start']:,} votes of the first {surge['init_s']} s wait on "
             "them)" if surge["cold"] else ")")
          + (f"; provisioned concurrency costs ${provisioned_usd_per_hour(deploy, prices):.2f} an hour while set"
             if deploy.api_provisioned else ""))
    visit_figures = visit(args, deploy)
    return {"rate_votes_per_s": rate, "cost_per_million_usd": round(total, 4),
            "within_budget": total <= BUDGET_PER_MILLION,
            "by_component": {n: round(c, 5) for n, c, _ in rows},
            "whole_bill": {
                "per_million_votes_usd": round(vote_usd, 4),
                "per_million_votes": {n: round(c, 5) for n, c, _ in vote_rows},
                "per_million_voters_usd": round(voter_usd, 2),
                "per_million_voters": {n: round(c, 4) for n, c, _ in voter_rows},
                "month": {"event": deploy.audience.name, "events": deploy.audience.events_per_month,
                          "usd": round(month_usd, 2), "by_component": {n: round(c, 2) for n, c, _ in month_rows}},
            },
            "visit": {k: round(v, 2) for k, v in visit_figures.items()},
            "needs": {n.key: {"need": round(n.need, 1), "assumed_quota": n.have, "ok": n.ok, "why": n.why}
                      for n in need_rows},
            "reads_at_peak": reads,
            "ceilings_votes_per_s": {n: round(v) for n, v, _ in limit_rows},
            "accepted_votes_per_s": round(accept), "one_poll_votes_per_s": round(one_poll),
            "results_keep_up_to_votes_per_s": round(results),
            "api_billed_ms": api_billed_ms(args, deploy, limits), "cold_start_s": cold_start_s(args, deploy, limits),
            "cold_starts_at_surge": surge,
            "provisioned_usd_per_hour": round(provisioned_usd_per_hour(deploy, prices), 4),
            "partitions": deploy.partitions, "buckets": deploy.buckets,
            "deployment": asdict(deploy)}


def waf(prices: Prices, summary: Dict, deploy: Deployment) -> Dict:
    """The optional WAF (infra/waf.json) as its own figure: off by default, so not in any total above. Every
    request a web ACL sees is billed, whatever its rules decide: a vote passes the distribution's ACL and the
    stage's (the regional ACL's rule skips what CloudFront forwards, but inspects it), a sign-in the user pool's."""
    piece = _json(ROOT / "infra" / "waf.json")
    acls = [r for r in piece["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    rules = sum(len(acl["Properties"]["Rules"]) for acl in acls)
    fixed = len(acls) * prices.waf_web_acl_month + rules * prices.waf_rule_month
    per_vote = waf_acls_on_the_api(deploy) * prices.waf_per_million_requests
    with_waf = {name: round(summary[name]["cost_per_million_usd"] + per_vote, 4) for name in ("defaults", "big_vote")}
    default = piece["Parameters"]["Waf"]["Default"]
    print(f"\nWAF (infra/waf.json; parameter Waf, default {default}: in none of the totals above)")
    print(f"  with Waf on: ${prices.waf_per_million_requests:.2f} per million requests each web ACL inspects; a vote "
          f"passes {waf_acls_on_the_api(deploy)}, so a million votes cost ${with_waf['defaults']:.4f} (defaults) and "
          f"${with_waf['big_vote']:.4f} (big vote) at the origin")
    print(f"  and ${fixed:.2f} a month, prorated hourly: {len(acls)} web ACL(s) x ${prices.waf_web_acl_month:.2f} + "
          f"{rules} rule(s) x ${prices.waf_rule_month:.2f} (the distribution's ACL is made in us-east-1)")
    return {"default": default, "web_acls": len(acls), "rules": rules, "fixed_usd_per_month": round(fixed, 2),
            "per_million_requests_usd": prices.waf_per_million_requests, "per_million_votes_usd": per_vote,
            "cost_per_million_votes_with_waf_usd": with_waf}


def roll_import(prices: Prices) -> Dict:
    """A roll poll's one-off cost: putting its voters on the roll. Each voter is two items of a transaction (the
    blank ballot and the roll entry, each under 1 KB, 2 write units each as transactional writes), and every
    VOTERS_PER_TRANSACTION voters share one more item, the roll's size (adapters/dynamo_roll.py); bench/roll_import.py
    measured the same 4.04 units per voter. A vote in a roll poll fills its blank with one UpdateItem under 1 KB:
    1 write unit, as an open poll's PutItem, so the totals above hold for both kinds of poll. The roll's lookups
    (AdminGetUser) are not billed per request, but each account looked up is a monthly active user that month."""
    from chalicelib.adapters.dynamo_roll import VOTERS_PER_TRANSACTION

    units = 2 * 2 + 2 / VOTERS_PER_TRANSACTION
    per_10k = 10_000 * units * prices.ddb_per_million_wru / MILLION
    print(f"\nA roll (roll polls only, once per poll): {units:.2f} write units per voter, ${per_10k:.4f} per 10,000 "
          "voters; each account it looks up (AdminGetUser) counts as a monthly active user that month")
    return {"write_units_per_voter": round(units, 2), "usd_per_10000_voters": round(per_10k, 4)}


def feature_plans() -> Dict[str, str]:
    """Which Cognito feature plan each pool feature needs (https://docs.aws.amazon.com/cognito/latest/developerguide/
    cognito-sign-in-feature-plans.html): what this pool uses is all in Lite."""
    return {
        "sign-up with emailed codes, verified-email recovery": "LITE",
        "SRP sign-in, refresh tokens, token revocation": "LITE",
        "TOTP MFA (SOFTWARE_TOKEN_MFA), required for operators": "LITE",
        "groups (operators)": "LITE",
        "mail through SES (EmailConfiguration DEVELOPER)": "LITE",
        "managed login pages, passwordless sign-in, email-message MFA, password history, access-token "
        "customization (not used)": "ESSENTIALS",
        "threat protection: compromised credentials, adaptive authentication; user-activity log export "
        "(not used)": "PLUS",
    }


def print_assumptions(args, prices: Prices, limits: Limits) -> None:
    print("Assumptions")
    for title, table in (("prices, on demand, us-east-1 (USD)", prices), ("limits and quotas", limits)):
        print(f"  {title}:")
        for spec in fields(table):
            print(f"    {spec.name:<32} {str(getattr(table, spec.name))[:60]:<60} {spec.metadata['source']}")
    print("  measured here, or assumed (flags):")
    for action in args.parser._actions:
        if action.dest in ("help", "parser"):
            continue
        print(f"    {action.dest:<32} {str(getattr(args, action.dest))[:40]!s:<12} {action.help}")
    print("  not priced: the warm-throughput raise (charged once, https://aws.amazon.com/dynamodb/pricing/on-demand/), "
          "the dashboard bucket's storage and CloudFront's reads of it (cents), free tiers but Cognito's.")
    print("  the user pool's feature plan: " + "; ".join(f"{k}: {v}" for k, v in feature_plans().items()))


MEASURED_CPU = "measured here: .venv/bin/python -m bench.vote_cpu (bench/RESULTS.md)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=None,
                   help="votes/s with the template's defaults; by default the try-out's peak (infra/deployment.py)")
    p.add_argument("--big-vote-rate", type=float, default=None,
                   help="votes/s with the big-vote parameters; by default its Audience's peak (big-vote.json)")
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
    return p


def model_inputs(argv=None) -> argparse.Namespace:
    """The model's inputs: the flags, and what the defaults of some of them are read from (infra/api.json's access
    log, the vote page's files)."""
    p = parser()
    args = p.parse_args(argv)
    args.parser = p
    line_bytes, log_class = access_log(_json(ROOT / "infra" / "api.json"))
    args.access_log_bytes = line_bytes if args.access_log_bytes is None else args.access_log_bytes
    args.access_log_class = log_class if args.access_log_class is None else args.access_log_class
    args.page_weight = page_weight()
    return args


def main(argv=None) -> Dict:
    args = model_inputs(argv)
    prices, limits = Prices(), Limits()
    defaults, big = read_deployment(), read_deployment(big_vote=True)
    args.rate = defaults.audience.peak_votes_per_s if args.rate is None else args.rate
    args.big_vote_rate = big.audience.peak_votes_per_s if args.big_vote_rate is None else args.big_vote_rate
    print_assumptions(args, prices, limits)
    summary = {"defaults": scenario(args.rate, args, defaults, defaults, prices, limits),
               "big_vote": scenario(args.big_vote_rate, args, big, defaults, prices, limits)}
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
    summary["waf"] = waf(prices, summary, defaults)
    summary["roll_import"] = roll_import(prices)
    summary["feature_plans"] = feature_plans()
    summary["inputs"] = {k: v for k, v in vars(args).items() if k != "parser"}
    print(json.dumps(summary, default=str))
    return summary


if __name__ == "__main__":
    main()
