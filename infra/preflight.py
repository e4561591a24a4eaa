"""`make preflight`: do this account's quotas carry the deployment and the audience it is sized for?

    python -m infra.preflight [--stack tally-prod] [--region eu-west-1] [--big-vote 1|after] [--params "A=b ..."]
                              [--peak 300] [--voters 50000]

It reads the account's figures, in the stack's Region:
  - AWS Lambda: GetAccountSettings (the concurrency quota and what is unreserved), and for an existing stack what
    its own functions hold already (reserved and provisioned concurrency, given back on update);
  - Amazon API Gateway: GetAccount (the account's throttle rate and burst);
  - Service Quotas: Amazon Cognito's UserAuthentication and UserCreation rates (applied values, else the
    defaults), and the quota codes of every quota it asks to raise;
  - Amazon DynamoDB: DescribeLimits (the table-level throughput a table may be warmed to);
  - Amazon SES: GetAccount (sandbox or production, the daily quota and rate) and the identity SesIdentityArn names.
It compares them with what the deployment needs: its parameters as `make deploy` sends them (infra/deployment.py,
the one source the capacity model reads too) and its audience's peak as capacity/ sizes it. Each line says
ok or SHORT with the quota's name, the account's figure and the need; a SHORT line says the request to make (the
`aws service-quotas` command when Service Quotas knows the quota's code) or the parameter to change. Exit 1 on any
shortfall; `make deploy` runs this first and stops there.

Two kinds of shortfall: a DEPLOY one would make CloudFormation fail (a reservation Lambda refuses, a warm throughput
over the table quota, an SES identity Cognito cannot send from); a PEAK one deploys but would not carry the expected
audience (votes refused with 429, sign-ins throttled, codes never mailed).
"""
import argparse
import math
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra import deployment

Clients = Callable[[str], object]


@dataclass(frozen=True)
class Finding:
    quota: str              # "Service: quota name", as Service Quotas names it
    have: Optional[float]   # the account's figure; None if it could not be read
    need: float
    why: str
    kind: str = "PEAK"      # DEPLOY: CloudFormation would fail; PEAK: the audience would not be carried
    request: str = ""       # what to do about a shortfall
    note: bool = False      # informative: cannot be read here, never a shortfall

    @property
    def short(self) -> bool:
        return not self.note and self.have is not None and self.need > self.have


def desired(need: float) -> int:
    """A figure to ask for: the need and a quarter more, rounded up to two significant digits."""
    value = need * 1.25
    step = 10 ** max(0, int(math.log10(value)) - 1) if value >= 1 else 1
    return int(math.ceil(value / step) * step)


class Account:
    """The account's figures, read through `clients` (service name -> boto3 client) and kept for the run."""

    def __init__(self, clients: Clients, region: str):
        self._clients = clients
        self.region = region
        self._quotas: Dict[str, List[dict]] = {}

    def client(self, service: str):
        return self._clients(service)

    def service_quotas(self, service_code: str) -> List[dict]:
        """The service's quotas: its applied values where the account has them, else AWS's defaults."""
        if service_code not in self._quotas:
            client = self.client("service-quotas")
            found: Dict[str, dict] = {}
            for call in ("list_aws_default_service_quotas", "list_service_quotas"):  # applied values win
                try:
                    for page in client.get_paginator(call).paginate(ServiceCode=service_code):
                        found.update({q["QuotaCode"]: q for q in page["Quotas"]})
                except (ClientError, BotoCoreError, NotImplementedError):
                    continue
            self._quotas[service_code] = list(found.values())
        return self._quotas[service_code]

    def quota(self, service_code: str, name: str) -> Optional[dict]:
        wanted = name.lower()
        return next((q for q in self.service_quotas(service_code) if wanted in q["QuotaName"].lower()), None)

    def request(self, service_code: str, name: str, need: float, where: str, at_least: float = 0) -> str:
        """The request to make for `need` (and at least `at_least`, a quota's usual figure): the Service Quotas
        command when its code is known, else where to ask."""
        value = max(desired(need), int(at_least))
        found = self.quota(service_code, name)
        if found and found.get("Adjustable", True):
            return (f"request {value:,}: aws service-quotas request-service-quota-increase --service-code "
                    f"{service_code} --quota-code {found['QuotaCode']} --desired-value {value} --region {self.region}")
        return f"request {value:,}: {where}"


def lambda_checks(account: Account, settings: deployment.Settings, need: float, stack: Optional[str]) -> List[Finding]:
    reply = account.client("lambda").get_account_settings()
    limit = reply["AccountLimit"]["ConcurrentExecutions"]
    unreserved = reply["AccountLimit"]["UnreservedConcurrentExecutions"]
    held = own_concurrency(account, stack) if stack else 0
    reserved = int(settings.number("TallyReservedConcurrency"))
    provisioned = int(settings.number("ApiProvisionedConcurrency"))
    minimum = min(100, limit)  # what Lambda keeps unreserved: 100, or all of a smaller account's
    findings = []
    if reserved or provisioned:
        available = unreserved + held
        findings.append(Finding(
            "AWS Lambda: Concurrent executions (unreserved)", available - minimum, reserved + provisioned,
            f"TallyReservedConcurrency {reserved} + ApiProvisionedConcurrency {provisioned} from the {available:,} "
            f"unreserved{f' (with the {held} {stack} holds now)' if held else ''}, and Lambda keeps {minimum} "
            "unreserved", kind="DEPLOY",
            request=(f"keep TallyReservedConcurrency + ApiProvisionedConcurrency at {max(0, available - minimum)} "
                     "or less (PARAMS=...), or "
                     + account.request("lambda", "Concurrent executions",
                                       limit - (available - minimum) + reserved + provisioned,
                                       "Service Quotas > AWS Lambda > Concurrent executions"))))
    findings.append(Finding(
        "AWS Lambda: Concurrent executions", limit, need,
        f"the expected peak ({settings.audience.peak_votes_per_s:,.0f} votes/s) with the reservations",
        request=account.request("lambda", "Concurrent executions", need,
                                "Service Quotas > AWS Lambda > Concurrent executions",
                                at_least=1000)  # what established accounts have: ask for it, not for a few more
        + f", or size the deployment for this account: PEAK={max_peak(settings, limit, need)}"))
    return findings


def max_peak(settings: deployment.Settings, have: float, need: float) -> int:
    """The expected peak the account's figure would carry, at the need's rate per vote."""
    return max(1, int(settings.audience.peak_votes_per_s * have / need)) if need else 0


def own_concurrency(account: Account, stack: str) -> int:
    """What this stack's functions hold already, which an update gives back before it takes the new figures."""
    client = account.client("lambda")
    held = 0
    try:
        held += client.get_function_concurrency(FunctionName=f"{stack}-tally").get("ReservedConcurrentExecutions", 0)
        for config in client.list_provisioned_concurrency_configs(FunctionName=f"{stack}-api").get(
                "ProvisionedConcurrencyConfigs", []):
            held += config.get("RequestedProvisionedConcurrentExecutions", 0)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    return held


def api_checks(account: Account, settings: deployment.Settings, need: float) -> List[Finding]:
    throttle = account.client("apigateway").get_account()["throttleSettings"]
    rate, burst = throttle["rateLimit"], throttle["burstLimit"]
    stage_rate, stage_burst = settings.number("ApiRateLimit"), settings.number("ApiBurstLimit")
    where = "Service Quotas > Amazon API Gateway > Throttle rate"
    return [
        Finding("Amazon API Gateway: Throttle rate", rate, max(stage_rate, need),
                f"the stage's ApiRateLimit {stage_rate:,.0f} (the account caps every stage) and the peak's "
                f"{need:,.0f} requests/s", request=account.request("apigateway", "Throttle rate", max(stage_rate, need),
                                                                   where)),
        Finding("Amazon API Gateway: Throttle burst rate", burst, stage_burst, "the stage's ApiBurstLimit",
                request=account.request("apigateway", "Throttle burst", stage_burst,
                                        "Service Quotas > Amazon API Gateway > Throttle burst rate")),
        Finding("Tally stage: ApiRateLimit", stage_rate, need,
                "the peak's votes, the visits' other function requests and the reads the CDN passes on",
                request=f"deploy with PARAMS=ApiRateLimit={desired(need)} (and raise the account's rate with it)"),
    ]


def cognito_checks(account: Account, needs: Dict[str, float], limits) -> List[Finding]:
    findings = []
    for key, name, default in (
            ("user_authentication_rps", "Rate of UserAuthentication requests", limits.cognito_user_authentication_rps),
            ("user_creation_rps", "Rate of UserCreation requests", limits.cognito_user_creation_rps)):
        found = account.quota("cognito-idp", name.removeprefix("Rate of ").removesuffix(" requests"))
        have = found["Value"] if found else default
        findings.append(Finding(
            f"Amazon Cognito user pools: {name}", have, needs[key],
            ("" if found else f"(Service Quotas gave no figure: AWS's default {default}) ") + needs[f"{key}_why"],
            request=account.request("cognito-idp", name.removeprefix("Rate of ").removesuffix(" requests"),
                                    needs[key], f"Service Quotas > Amazon Cognito user pools > {name}")))
    return findings


def dynamodb_checks(account: Account, settings: deployment.Settings, peak: float) -> List[Finding]:
    """A table cannot be warmed past the table-level quota; at the parameters' defaults (what every new on-demand
    table has, free) there is nothing to check."""
    limits = account.client("dynamodb").describe_limits()
    specs = deployment.template_parameters()
    findings = []
    for kind, parameter, quota, need in (
            ("write", "BallotsWarmWriteUnitsPerSecond", "TableMaxWriteCapacityUnits", peak),
            ("read", "BallotsWarmReadUnitsPerSecond", "TableMaxReadCapacityUnits", 0)):
        warm = settings.number(parameter)
        raised = warm > specs[parameter]["Default"]
        if not raised and need <= warm:
            continue
        findings.append(Finding(
            f"Amazon DynamoDB: Table-level {kind} throughput limit", limits[quota], max(warm if raised else 0, need),
            f"{parameter} {warm:,.0f} (a table cannot be warmed past the quota)"
            + (f" and the peak's {need:,.0f} {kind}s/s" if need else ""), kind="DEPLOY" if raised else "PEAK",
            request=account.request("dynamodb", f"Table-level {kind} throughput", max(warm, need),
                                    f"Service Quotas > Amazon DynamoDB > Table-level {kind} throughput limit")))
    return findings


def ses_account(account: Account) -> Tuple[Optional[bool], float, float]:
    """(production access or None when unknown, 24-hour quota, messages a second)."""
    try:
        reply = account.client("sesv2").get_account()
        quota = reply["SendQuota"]
        return reply["ProductionAccessEnabled"], quota["Max24HourSend"], quota["MaxSendRate"]
    except (ClientError, NotImplementedError):
        quota = account.client("ses").get_send_quota()  # the v1 API: no sandbox flag
        return None, quota["Max24HourSend"], quota["MaxSendRate"]


def mail_checks(account: Account, settings: deployment.Settings, per_day: float, per_second: float,
                limits) -> List[Finding]:
    arn = settings.parameters["SesIdentityArn"]
    if not arn:
        return [Finding("Amazon Cognito: its own email (default configuration)", limits.cognito_own_mail_per_day,
                        per_day, "codes and invitations a day; Cognito's own mail sends at most 50 a day per account "
                        "and cannot be raised",
                        request="mail through SES: verify an address, leave the SES sandbox, deploy with "
                                "PARAMS=SesIdentityArn=arn:aws:ses:<region>:<account>:identity/<address> "
                                "(docs/deploying.md, Mail)")]
    production, day, rate = ses_account(account)
    region = arn.split(":")[3]
    identity = arn.split("identity/", 1)[1]
    findings = []
    verified = identity_verified(account, identity)
    findings.append(Finding(f"Amazon SES: identity {identity}", 1 if verified else 0, 1,
                            f"SesIdentityArn names it; Cognito sends from it only once it is verified "
                            f"(in {region})", kind="DEPLOY",
                            request=f"verify it: aws sesv2 create-email-identity --email-identity {identity} "
                                    f"--region {region}, then follow the mailed link"))
    if region != account.region:
        findings.append(Finding("Amazon SES: identity Region", None, 0,
                                f"the identity is in {region}, the stack in {account.region}: Cognito takes an SES "
                                "identity in its own Region or in one of the few it documents as alternates",
                                note=True))
    if production is False:
        findings.append(Finding("Amazon SES: production access", 0, 1,
                                "in the sandbox SES mails verified addresses only (200 a day, 1 a second): no "
                                "voter would get a code", kind="PEAK",
                                request="SES console > Account dashboard > Request production access"))
    findings.append(Finding("Amazon SES: Sending quota (24 hours)", day, per_day, "a code per new voter and an "
                            "invitation per invited one, a day", request=account.request(
                                "ses", "Sending quota", per_day, "Service Quotas > Amazon SES > Sending quota")))
    findings.append(Finding("Amazon SES: Maximum send rate", rate, per_second, "codes a second at the busiest sign-up",
                            request=account.request("ses", "Maximum send rate", per_second,
                                                    "Service Quotas > Amazon SES > Maximum send rate")))
    return findings


def identity_verified(account: Account, identity: str) -> bool:
    try:
        reply = account.client("sesv2").get_email_identity(EmailIdentity=identity)
        return bool(reply.get("VerifiedForSendingStatus"))
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotFoundException":
            return False
        raise
    except NotImplementedError:
        reply = account.client("ses").get_identity_verification_attributes(Identities=[identity])
        return reply["VerificationAttributes"].get(identity, {}).get("VerificationStatus") == "Success"


def check(settings: deployment.Settings, clients: Clients, region: str, stack: Optional[str] = None) -> List[Finding]:
    # The capacity model sizes what the audience needs: one sizing for its report and here.
    from capacity.deployment import read_deployment
    from capacity.inputs import model_inputs
    from capacity.peak import needs as sized_needs
    from capacity.published import Limits

    args = model_inputs([])
    limits = Limits()
    deploy = read_deployment(settings=settings)
    sized = sized_needs(args, deploy, limits)
    needs = {**{n.key: n.need for n in sized}, **{f"{n.key}_why": n.why for n in sized}}
    account = Account(clients, region)
    joins_per_s = needs["user_creation_rps"] / (2 if deploy.self_sign_up else 1)
    findings = (lambda_checks(account, settings, needs["lambda_concurrency"], stack)
                + api_checks(account, settings, needs["api_requests_per_s"])
                + cognito_checks(account, needs, limits)
                + dynamodb_checks(account, settings, settings.audience.peak_votes_per_s)
                + mail_checks(account, settings, needs["mails_per_day"], joins_per_s, limits))
    findings.append(Finding("Amazon CloudFront: Request rate per distribution", None, needs["cdn_requests_per_s"],
                            needs["cdn_requests_per_s_why"] + f"; AWS's default is {limits.cloudfront_requests_per_s:,}"
                            " a second, which no API here reads: above it, ask AWS Support", note=True))
    return findings


def report(findings: List[Finding], settings: deployment.Settings, out=print) -> int:
    a = settings.audience
    out(f"Preflight: {settings.name}, sized for {a.name} ({a.peak_votes_per_s:,.0f} votes/s at the peak, "
        f"{a.voters:,} voters)")
    for f in findings:
        status = "note " if f.note else ("SHORT" if f.short else "ok   ")
        have = "?" if f.have is None else f"{f.have:,.0f}"
        out(f"  {status} {f.quota}: {have} for {f.need:,.0f} needed{f' ({f.kind})' if f.short else ''}: {f.why}")
        if f.short:
            out(f"        -> {f.request}")
    short = [f for f in findings if f.short]
    if short:
        out(f"{len(short)} shortfall(s): fix them (or size the deployment with PEAK= and PARAMS=) and run "
            "`make preflight` again; `make deploy` stops here.")
        return 1
    out("No shortfall.")
    return 0


def mode_of(big_vote: Optional[str]) -> str:
    if not big_vote or big_vote in ("0", "no"):
        return "defaults"
    return "after" if big_vote == "after" else "big-vote"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stack", help="an existing stack to update: what its functions hold is given back")
    p.add_argument("--region", help="the stack's Region (default: AWS_REGION, then the profile's)")
    p.add_argument("--big-vote", help="1: the big vote's parameters and audience (infra/overrides/big-vote.json); "
                                      "after: its parameters set back")
    p.add_argument("--params", help='parameter overrides, "Name=value Name2=value2"')
    p.add_argument("--peak", type=float, help="the expected peak, votes/s (default: the audience's)")
    p.add_argument("--voters", type=int, help="voters of one event (default: the audience's)")
    p.add_argument("--invitations-per-day", type=int, help="roll invitations mailed a day, besides sign-up codes")
    return p


def settings_from(args) -> deployment.Settings:
    return deployment.settings(mode_of(args.big_vote), deployment.parse_overrides(args.params),
                               peak_votes_per_s=args.peak, voters=args.voters,
                               invitations_per_day=args.invitations_per_day)


def main(argv=None, session: Optional[boto3.session.Session] = None) -> int:
    args = parser().parse_args(argv)
    session = session or boto3.session.Session(region_name=args.region)
    if not session.region_name:
        raise SystemExit("no Region: give REGION=... (or --region), or set AWS_REGION")
    settings = settings_from(args)
    return report(check(settings, session.client, session.region_name, args.stack), settings)


if __name__ == "__main__":
    sys.exit(main())
