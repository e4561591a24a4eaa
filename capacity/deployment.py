"""The deployment the model reads, from the project's files and never from the model: the template's parameters
as infra/deployment.py settles them (the defaults, or the big vote's), what the pieces of infra/ declare with them,
.chalice/config.json, the stream mapping, the custom metrics in chalicelib, the access log's format and the vote
page's files. Each setting the model takes is a field of Deployment, read from where `make package` reads it."""
import ast
import gzip
import importlib
import json
import math
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import chalicelib
from capacity.published import Limits
from chalicelib.domain.ballots import buckets_for
from infra import deployment as settings_of
from infra import project_root

ROOT = project_root()
# The big vote as docs/big-vote.md deploys it for a broadcast: open sign-up, mail through SES (the identity is the
# deployer's own; any one stands for it here).
BIG_VOTE_AS_DEPLOYED = {"SelfSignUp": "open",
                        "SesIdentityArn": "arn:aws:ses:us-east-1:111122223333:identity/votes@example.com"}


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


def read_json(path: Path) -> dict:
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
    # Every refusal kind is defined once every module of chalicelib is imported, whatever imported what before
    # (chalicelib.api alone does not reach domain/roll.py's NotOnRoll).
    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
    # Only chalicelib's own kinds: a test (or any importer) may define subclasses of its own in the same process.
    kinds, pending = set(), [TallyError]
    while pending:
        kind = pending.pop()
        if kind.__module__.startswith("chalicelib."):
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
    """The deployment `make deploy` makes with these settings (by default the template's defaults, or the big vote
    as docs/big-vote.md deploys it), each field read from the file that sets it."""
    from infra.build_template import load_pieces  # every infra/*.json, merged as the template merges them

    settings = settings or (settings_of.settings("big-vote", BIG_VOTE_AS_DEPLOYED) if big_vote
                            else settings_of.settings("defaults"))
    resources = load_pieces()["Resources"]
    return Deployment(name=settings.name, poll_peak_votes_per_s=settings.poll_peak_votes_per_s,
                      audience=settings.audience, custom_metrics=custom_metrics(), **functions_config(),
                      **stream_mapping(), **parameter_settings(settings.parameters, resources),
                      **template_settings(resources, settings.parameters), **account_quotas(settings))


def functions_config() -> Dict[str, Any]:
    """The functions' memory, architecture and log sample rate, from .chalice/config.json's prod stage."""
    config = read_json(ROOT / ".chalice" / "config.json")
    stage = config["stages"]["prod"]
    env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}
    tally_stage = stage.get("lambda_functions", {}).get("tally_ballots", {})
    return {"architecture": stage.get("lambda_architecture", "x86_64"),
            "memory_mb": stage.get("lambda_memory_size", 128),
            "tally_memory_mb": tally_stage.get("lambda_memory_size", stage.get("lambda_memory_size", 128)),
            "log_sample_rate": float(env.get("POWERTOOLS_LOGGER_SAMPLE_RATE", 1.0))}


def stream_mapping() -> Dict[str, Any]:
    """The tally function's event source mapping, as deployed (infra/event_source.py)."""
    from infra.event_source import deployed

    mapping = deployed()
    return {"batch_size": mapping.batch_size, "batching_window_s": mapping.batching_window_s,
            "tumbling_window_s": mapping.tumbling_window_s, "parallelization_factor": mapping.parallelization_factor}


def parameter_settings(parameters: Dict[str, Any], resources: Dict[str, dict]) -> Dict[str, Any]:
    """The settings the template's parameters give: the model sizes and prices what they deploy."""
    client = resources["UserPoolClient"]["Properties"]
    return {"warm_writes": int(parameters["BallotsWarmWriteUnitsPerSecond"]),
            "warm_reads": int(parameters["BallotsWarmReadUnitsPerSecond"]),
            "stage_rate_limit": int(parameters["ApiRateLimit"]), "stage_burst_limit": int(parameters["ApiBurstLimit"]),
            "tally_reserved": int(parameters["TallyReservedConcurrency"]),
            "api_provisioned": int(parameters["ApiProvisionedConcurrency"]),
            "search_type": parameters["SearchInstanceType"], "search_nodes": int(parameters["SearchInstanceCount"]),
            "search_masters": int(parameters["SearchDedicatedMasterCount"]),
            "search_master_type": parameters["SearchDedicatedMasterType"],
            "self_sign_up": parameters["SelfSignUp"] == "open",
            "mails_with_ses": bool(parameters["SesIdentityArn"]),
            "id_token_minutes": int(parameters[client["IdTokenValidity"]["Ref"]]),
            "waf_on": parameters["Waf"] == "on"}


def template_settings(resources: Dict[str, dict], parameters: Dict[str, Any]) -> Dict[str, Any]:
    """The settings the template's resources fix whatever the parameters: logs, tracing, the pool's plan, the
    tables' key, the secrets, the distribution and the alarms."""
    rule = resources["ApiTraceSampling"]["Properties"]["SamplingRule"]
    tables = {name: r for name, r in resources.items() if r.get("Type") == "AWS::DynamoDB::Table"}
    return {
        "system_log_level": resources["APIHandler"]["Properties"]["LoggingConfig"].get("SystemLogLevel", "INFO"),
        "log_retention_days": resources["ApiHandlerLogGroup"]["Properties"]["RetentionInDays"],
        "search_gb": resources["SearchDomain"]["Properties"]["EBSOptions"]["VolumeSize"],
        "xray_fixed_rate": rule["FixedRate"], "xray_reservoir": rule["ReservoirSize"],
        # Cognito's default plan for a new pool
        "user_pool_tier": resources["UserPool"]["Properties"].get("UserPoolTier", "ESSENTIALS"),
        "table_key": "aws-managed" if all(t["Properties"].get("SSESpecification", {}).get("SSEEnabled")
                                          for t in tables.values()) else "aws-owned",
        "tables": len(tables),
        "secrets": sum(1 for r in resources.values() if r.get("Type") == "AWS::SecretsManager::Secret"
                       and present(r, parameters["Waf"] == "on")),
        "api_behind_cdn": api_behind_cdn(resources),
        "alarm_metrics": alarm_metrics(resources)}


def account_quotas(settings: settings_of.Settings) -> Dict[str, int]:
    """The account's quotas the model assumes: AWS's defaults, or for the big vote what its runbook requests
    (infra/overrides/big-vote.json's Quotas). `make preflight` reads the real ones."""
    limits = Limits()
    quotas = {"api_account_rps": limits.api_account_rps, "api_account_burst": limits.api_account_burst,
              "lambda_concurrent_executions": limits.lambda_concurrency,
              "cognito_user_authentication_rps": limits.cognito_user_authentication_rps,
              "cognito_user_creation_rps": limits.cognito_user_creation_rps,
              "ses_max_24_hour_send": limits.ses_production_per_day,
              "cloudfront_requests_per_s": limits.cloudfront_requests_per_s}
    if settings.mode == "big-vote":
        quotas.update({name: ask["request"] for name, ask in settings_of.big_vote_file()["Quotas"].items()})
    return {"account_api_rps": quotas["api_account_rps"], "account_api_burst": quotas["api_account_burst"],
            "account_lambda_concurrency": quotas["lambda_concurrent_executions"],
            "account_user_authentication_rps": quotas["cognito_user_authentication_rps"],
            "account_user_creation_rps": quotas["cognito_user_creation_rps"],
            "account_ses_per_day": quotas["ses_max_24_hour_send"],
            "account_cdn_rps": quotas["cloudfront_requests_per_s"]}


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


def waf_piece() -> dict:
    """The optional WAF's piece of the template (infra/waf.json): its web ACLs, their rules, the parameter's default."""
    return read_json(ROOT / "infra" / "waf.json")
