"""What the audience needs at its peak (sign-ups, sign-ins, mail, API requests, function concurrency, CDN
requests) against the quotas, each component's throughput ceiling, and the cold starts at the surge. Pure
computation; `make preflight` (infra/preflight.py) sizes its needs with `needs`."""
import math
from dataclasses import dataclass
from typing import Dict, List

from capacity.deployment import Deployment
from capacity.partitions import CONFIDENCE, fullest_partition
from capacity.published import Limits
from capacity.vote_cost import Row, api_billed_ms, cold_start_s, tally_billed_ms


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


def throughput(ceiling_rows: List[Row], deploy: Deployment, limits: Limits) -> Dict[str, float]:
    """What the ceilings add up to: the votes/s accepted over all polls and on one poll, what the results keep up
    with, and the writes a second one poll's counters take on the tallies table at most."""
    value = {name: v for name, v, _ in ceiling_rows}
    accept = min(value[n] for n in ("API stage throttle (ApiRateLimit)", "API Gateway account quota",
                                    "Lambda concurrency / API duration", "DynamoDB ballots table, warm writes"))
    return {"accept": accept, "one_poll": min(accept, value["DynamoDB, one poll"]),
            "results": min(value["Stream consumer"], value["Results index ingest"]),
            "tally_writes_per_poll": deploy.partitions * (limits.stream_polls_per_second + 1)}
