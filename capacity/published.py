"""What AWS publishes: on-demand list prices and default quotas, each figure with the page it comes from (the
field's `source`), and the Cognito feature plan each pool feature needs. Nothing here is measured or read from the
project: check each page before quoting a figure."""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Tuple


def src(url: str, default):
    """A published figure, with the page it is published on."""
    return field(default=default, metadata={"source": url})


def src_map(url: str, mapping: dict):
    """Published figures by key (instance type, architecture, plan), with the page they are published on."""
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
