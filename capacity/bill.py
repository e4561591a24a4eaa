"""The whole bill: per million votes (the vote at the origin and what leaves AWS with the answer), per million
voters (their sign-up or sign-in, monthly active user, every request of their visit at the CDN and at the origin,
their votes), one month of the named event with every fixed component, the optional WAF apart and a roll's import.
Pure computation."""
from typing import Dict, List

from capacity.deployment import Deployment
from capacity.published import Limits, Prices
from capacity.vote_cost import GB, MILLION, Row, access_log_price, api_billed_ms, cost_per_million
from infra.deployment import Audience

HOURS_PER_MONTH = 730


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


def event_hours(deploy: Deployment, defaults: Deployment) -> float:
    """Hours of the month at these settings: all of them for the defaults; for the big vote, its events'."""
    if deploy.name == defaults.name:
        return HOURS_PER_MONTH
    return min(HOURS_PER_MONTH, deploy.audience.events_per_month * deploy.audience.big_vote_hours_per_event)


def visits_usd(voter_rows: List[Row], audience: Audience) -> float:
    """The month's visits, priced as per million voters but for the monthly active users and the votes (priced
    apart): every visit makes the same requests, but only a new voter is mailed a code."""
    voters = audience.voters * audience.events_per_month
    per_voter = {name: cost / MILLION for name, cost, _ in voter_rows}
    priced_apart = [name for name in per_voter if name.startswith(("Cognito monthly", "Their votes"))]
    new_only = [name for name in per_voter if name.startswith("Email")]
    return (sum(cost for name, cost in per_voter.items() if name not in priced_apart + new_only) * voters
            + sum(per_voter[name] for name in new_only) * audience.monthly_active_users)


def search_domain_usd(d: Deployment, hours: float, prices: Prices) -> float:
    nodes = d.search_nodes * prices.search_node_hour[d.search_type]
    masters = d.search_masters * prices.search_node_hour.get(d.search_master_type, 0.0)
    return hours * (nodes + masters)


def logs_gb(votes: float, args, deploy: Deployment, prices: Prices, limits: Limits) -> float:
    """GB of logs `votes` votes write (both functions' and the access log), from their rows' ingestion costs."""
    vote_rows = cost_per_million(args.rate, args, deploy, prices, limits)
    return votes / MILLION * sum(
        cost / (access_log_price(args, prices) if name.startswith("API Gateway access") else prices.logs_per_gb)
        for name, cost, _ in vote_rows if name.startswith(("CloudWatch Logs", "API Gateway access logs")))


def month(args, deploy: Deployment, defaults: Deployment, prices: Prices, limits: Limits,
          vote_usd: float, voter_rows: List[Row]) -> List[Row]:
    """One month of the audience's event: its events at these settings for big_vote_hours_per_event each (the
    template's defaults the rest of the month; the defaults' own month is all at the defaults), and every fixed
    component."""
    audience = deploy.audience
    own = deploy.name == defaults.name
    hours = event_hours(deploy, defaults)
    rest = HOURS_PER_MONTH - hours
    voters = audience.voters * audience.events_per_month
    votes = voters * audience.votes_per_voter
    storage = max(deploy.search_nodes, defaults.search_nodes) * deploy.search_gb * prices.search_gp3_gb_month
    ballot_gb = votes * args.ballot_item_bytes / GB
    log_gb = logs_gb(votes, args, deploy, prices, limits)
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
        ("The visits: CDN, function requests, mail, sign-in", visits_usd(voter_rows, audience),
         f"{voters:,.0f} visits, as per million voters above but for the MAUs and the votes"),
        ("OpenSearch domain hours",
         search_domain_usd(deploy, hours, prices) + search_domain_usd(defaults, rest, prices),
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


def waf(piece: dict, prices: Prices, vote_costs: Dict[str, float], deploy: Deployment) -> Dict:
    """The optional WAF (its piece of the template, infra/waf.json) as its own figure: off by default, so not in any
    total above. Every request a web ACL sees is billed, whatever its rules decide: a vote passes the
    distribution's ACL and the stage's (the regional ACL's rule skips what CloudFront forwards, but inspects it), a
    sign-in the user pool's. `vote_costs`: each scenario's vote at the origin, per million votes."""
    acls = [r for r in piece["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    rules = sum(len(acl["Properties"]["Rules"]) for acl in acls)
    fixed = len(acls) * prices.waf_web_acl_month + rules * prices.waf_rule_month
    per_vote = waf_acls_on_the_api(deploy) * prices.waf_per_million_requests
    with_waf = {name: round(cost + per_vote, 4) for name, cost in vote_costs.items()}
    return {"default": piece["Parameters"]["Waf"]["Default"], "web_acls": len(acls), "rules": rules,
            "fixed_usd_per_month": round(fixed, 2), "per_million_requests_usd": prices.waf_per_million_requests,
            "per_million_votes_usd": per_vote, "cost_per_million_votes_with_waf_usd": with_waf}


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
    return {"write_units_per_voter": round(units, 2), "usd_per_10000_voters": round(per_10k, 4)}
