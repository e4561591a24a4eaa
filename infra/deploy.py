"""`make deploy`: one command from the working tree to a running stack, and what to do next.

    python -m infra.deploy --stack tally-prod --bucket my-artifacts [--region eu-west-1] [--big-vote 1|after]
                           [--params "SearchDomainName=tally-prod AlarmEmail=ops@example.com"]

In order:
  1. preflight (infra/preflight.py) on the parameters this deploy will send: stop on any shortfall;
  2. package (infra/build_template.py, as `make package`): build/package/sam.json and deployment.zip;
  3. the artifacts bucket: created in the stack's Region if it does not exist (public access blocked), refused if
     it is in another Region (Lambda takes its code from its own Region) or not the account's;
  4. upload the code under its SHA-256 (an unchanged zip is not uploaded again, and leaves the functions as they
     are) and the template, which names the code by its S3 URI; the template goes by URL: at ~84 KB it is over
     CloudFormation's 51,200-byte limit for an inline body;
  5. create the stack (with termination protection, so a stray delete-stack cannot take the ledger's stack) or
     update it: parameters this deploy does not set keep the stack's current values (UsePreviousValue), as
     `aws cloudformation deploy` does; the capabilities the template needs (IAM roles, the SAM transform);
  6. wait, printing the stack's events as they come; a failure prints the reasons and exits 1;
  7. print the outputs and the next steps (the first operator, the dashboard, the alarm mail, the big vote's).

Parameters: the template's defaults, then the big vote's (BIG_VOTE=1: infra/overrides/big-vote.json; BIG_VOTE=after:
its parameters back to their defaults but the warm throughput, which cannot go down), then PARAMS. infra/deployment.py
is the one place that says what they are; the preflight and the capacity model read it too.
"""
import argparse
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

import boto3
from botocore.exceptions import ClientError

from infra import deployment, preflight, project_root

ROOT = project_root()
PACKAGE = ROOT / "build" / "package"
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,49}$")  # the functions' names are <stack>-api and <stack>-tally
# The search domain's name is unique in the account and Region: a new stack takes its own name for it when it can.
SEARCH_DOMAIN = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE", "DELETE_FAILED",
          "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_COMPLETE"}
# A stack in one of these cannot take an update: the deployer must act first.
STUCK = {"ROLLBACK_COMPLETE": "its first create failed and rolled back; delete it (after turning its termination "
                              "protection off), then deploy again",
         "ROLLBACK_FAILED": "its rollback failed; see its events, fix, delete it, then deploy again",
         "DELETE_FAILED": "a delete failed; see its events",
         "UPDATE_ROLLBACK_FAILED": "an update's rollback failed: continue it (continue-update-rollback) first",
         "REVIEW_IN_PROGRESS": "it holds a change set only; execute or delete it first"}


class DeployError(Exception):
    pass


@dataclass(frozen=True)
class Plan:
    stack: str
    bucket: str
    region: str
    settings: deployment.Settings
    explicit: Dict[str, str]  # the parameters this deploy sets; the others keep the stack's values on update


def explicit_parameters(mode: str, overrides: Dict[str, str]) -> Dict[str, str]:
    """What this deploy sets, as strings: the mode's parameters (the big vote's, or their defaults after it) and
    the deployer's own. Everything else is the template's default on create and the stack's value on update."""
    big = deployment.big_vote_file()["Parameters"]
    values = deployment.parameters(mode, overrides)
    chosen = set(overrides) | (set(big) if mode != "defaults" else set())
    return {name: str(values[name]) for name in sorted(chosen)}


def capabilities(template: dict) -> List[str]:
    named = any(r.get("Type") == "AWS::IAM::Role" and "RoleName" in r.get("Properties", {})
                for r in template["Resources"].values())
    found = ["CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"]
    if template.get("Transform"):
        found.append("CAPABILITY_AUTO_EXPAND")  # the SAM transform expands the Serverless resources
    return found


def stack_of(cloudformation, stack: str) -> Optional[dict]:
    try:
        return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response["Error"]["Message"]:
            return None
        raise


def ensure_bucket(s3, bucket: str, region: str, out: Callable[[str], None]) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(f"bucket {bucket} exists but this account may not use it: name another BUCKET=") from None
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
        create = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        out(f"created bucket s3://{bucket} in {region} (public access blocked)")
        return
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    if location != region:
        raise DeployError(f"bucket {bucket} is in {location}, the stack in {region}: Lambda takes its code from a "
                          "bucket in its own Region; name a bucket there")


def upload(s3, bucket: str, key: str, body: bytes) -> bool:
    """Put the object unless one is there already under this content-addressed key; True if it was put."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return True


def template_url(bucket: str, region: str, key: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def stage_template(s3, plan: Plan, package: Path, out) -> Tuple[dict, str]:
    """Upload the code and the template that names it; return the template and its URL."""
    code = (package / "deployment.zip").read_bytes()
    digest = hashlib.sha256(code).hexdigest()
    code_key = f"{plan.stack}/code/{digest}.zip"
    put = upload(s3, plan.bucket, code_key, code)
    out(f"code: s3://{plan.bucket}/{code_key} ({len(code) / 1e6:.1f} MB, {'uploaded' if put else 'already there'})")
    template = json.loads((package / "sam.json").read_text())
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{plan.bucket}/{code_key}"
    body = json.dumps(template, separators=(",", ":"), sort_keys=True).encode()
    template_key = f"{plan.stack}/templates/{hashlib.sha256(body).hexdigest()}.json"
    upload(s3, plan.bucket, template_key, body)
    out(f"template: s3://{plan.bucket}/{template_key} ({len(body):,} bytes; CloudFormation takes at most 51,200 "
        "inline, so it goes by URL)")
    return template, template_url(plan.bucket, plan.region, template_key)


def parameters_to_send(template: dict, plan: Plan, existing: Optional[dict]) -> List[dict]:
    declared = template.get("Parameters", {})
    previous = {p["ParameterKey"] for p in (existing or {}).get("Parameters", [])}
    sent = []
    for name in sorted(declared):
        if name in plan.explicit:
            sent.append({"ParameterKey": name, "ParameterValue": plan.explicit[name]})
        elif existing and name in previous:
            sent.append({"ParameterKey": name, "UsePreviousValue": True})
        elif existing is None or name not in previous:
            # A new stack (or a parameter new to it) takes infra/deployment.py's value: the template's default
            # unless the mode sets it; but a new stack's search domain is named after it, so that a second stack in
            # the account does not meet the first one's default name.
            value = plan.settings.parameters.get(name, declared[name].get("Default"))
            if name == "SearchDomainName" and existing is None and SEARCH_DOMAIN.match(plan.stack):
                value = plan.stack
            if value is not None:
                sent.append({"ParameterKey": name, "ParameterValue": str(value)})
    unknown = sorted(set(plan.explicit) - set(declared))
    if unknown:
        raise DeployError(f"the template has no parameter {', '.join(unknown)}")
    return sent


def effective_parameters(existing: Optional[dict], explicit: Dict[str, str]) -> Dict[str, str]:
    """What the stack will run with: the stack's current values (of the parameters the template still has), then
    what this deploy sets."""
    declared = deployment.template_parameters()
    current = {p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])
               if "ParameterValue" in p and p["ParameterKey"] in declared}
    return {**current, **explicit}


def start(cloudformation, plan: Plan, template: dict, url: str, existing: Optional[dict], out) -> bool:
    """Create or update the stack; False if an update had nothing to change."""
    request = {"StackName": plan.stack, "TemplateURL": url,
               "Parameters": parameters_to_send(template, plan, existing), "Capabilities": capabilities(template)}
    if existing is None:
        cloudformation.create_stack(**request, EnableTerminationProtection=True,
                                    Tags=[{"Key": "app", "Value": "tally"}])
        out(f"creating stack {plan.stack} in {plan.region}: the first create takes 20 to 40 minutes (the search "
            "domain 15-30, the CloudFront distribution 5-15)")
        return True
    try:
        cloudformation.update_stack(**request)
    except ClientError as error:
        if "No updates are to be performed" in error.response["Error"]["Message"]:
            out(f"stack {plan.stack}: nothing to change")
            return False
        raise
    out(f"updating stack {plan.stack}")
    return True


def event_ids(cloudformation, stack: str) -> Set[str]:
    return {e["EventId"] for e in cloudformation.describe_stack_events(StackName=stack)["StackEvents"]}


def wait(cloudformation, stack: str, out, seen: Set[str] = frozenset(), timeout_s: float = 5400, poll_s: float = 15,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> dict:
    """Until the stack settles: the events since `seen` printed as they come; DeployError with the reasons if it
    failed."""
    before, printed, deadline = set(seen), set(), clock() + timeout_s
    while True:
        events = [e for e in cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
                  if e["EventId"] not in before]  # this deploy's
        for event in reversed(events):  # oldest first
            if event["EventId"] in printed:
                continue
            printed.add(event["EventId"])
            reason = f": {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            out(f"  {event['LogicalResourceId']:<40} {event['ResourceStatus']}{reason}")
        found = stack_of(cloudformation, stack)
        if found is None:
            raise DeployError(f"stack {stack} is gone (its create failed and was deleted)")
        status = found["StackStatus"]
        if status in DONE:
            return found
        if status in FAILED:
            reasons = [f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}" for e in events
                       if e["ResourceStatus"].endswith("FAILED") and e.get("ResourceStatusReason")]
            # A rollback keeps what DeletionPolicy Retain keeps (the tables, the user pool, the voter key), each
            # still deletion-protected: say what is left, so that a second attempt does not leave more of it.
            kept = sorted({f"{e['LogicalResourceId']} ({e.get('ResourceType', '?')}): {e['PhysicalResourceId']}"
                           for e in events if e["ResourceStatus"] == "DELETE_SKIPPED" and e.get("PhysicalResourceId")})
            raise DeployError(f"stack {stack} is {status}:\n  " + "\n  ".join(reasons or ["(no reason given)"])
                              + ("\nKept by the rollback (DeletionPolicy Retain; remove them with protection off if "
                                 "nothing is in them, docs/deploying.md, Tear down):\n  " + "\n  ".join(kept)
                                 if kept else ""))
        if clock() > deadline:
            raise DeployError(f"stack {stack} still {status} after {timeout_s / 60:.0f} min: watch it in the console")
        sleep(poll_s)


def next_steps(plan: Plan, outputs: Dict[str, str], created: bool) -> List[str]:
    p = {**plan.settings.parameters, **plan.explicit}
    pool = outputs.get("UserPoolId", "<UserPoolId>")
    steps = []
    if created:
        steps += [
            "The first operator (an email for account recovery; MFA is set up at the first sign-in"
            + (", which OperatorMfa=required makes a must for operator routes" if p.get("OperatorMfa") == "required"
               else "") + "):",
            f"  aws cognito-idp admin-create-user --region {plan.region} --user-pool-id {pool} --username alice "
            "--user-attributes Name=email,Value=alice@example.com Name=email_verified,Value=true "
            "--message-action SUPPRESS",
            f"  aws cognito-idp admin-set-user-password --region {plan.region} --user-pool-id {pool} --username alice "
            "--password '<12+ characters, Aa1!>' --permanent",
            f"  aws cognito-idp admin-add-user-to-group --region {plan.region} --user-pool-id {pool} --username alice "
            "--group-name operators",
            "  then sign in on the dashboard: it shows the QR code for the authenticator app (TOTP) and asks a code.",
        ]
    steps.append(f"The dashboard: make dashboard && .venv/bin/python -m infra.publish_dashboard --stack {plan.stack} "
                 f"(then open {outputs.get('DashboardUrl', 'the DashboardUrl output')})")
    if created and p.get("AlarmEmail"):
        steps.append(f"Confirm the subscription mail SNS sent to {p['AlarmEmail']}: no alarm reaches you before.")
    if p.get("SelfSignUp") == "open" and not p.get("SesIdentityArn"):
        steps.append("SelfSignUp is open but Cognito mails its own codes: 50 a day for the account. Set "
                     "SesIdentityArn before announcing the vote (docs/deploying.md, Mail).")
    if plan.settings.mode == "big-vote":
        peak = deployment.big_vote_file()["Poll"]["expected_peak_votes_per_s"]
        steps += [f"Create the broadcast's poll with expected_peak_votes_per_s {peak:,} (docs/big-vote.md, 3).",
                  "Check the warm throughput took: aws dynamodb describe-table --table-name <BallotsTable> "
                  "--query Table.WarmThroughput (Status ACTIVE)."]
    if plan.settings.mode == "after":
        steps.append("The big vote's settings are off; the ballots table keeps its warm throughput (it cannot go "
                     "down, and costs nothing more).")
    return steps


def deploy(plan: Plan, session, out: Callable[[str], None] = print, build: bool = True, package: Path = PACKAGE,
           run_preflight: bool = True, sleep: Callable[[float], None] = time.sleep, poll_s: float = 15) -> int:
    if not STACK_NAME.match(plan.stack):
        raise DeployError(f"stack name {plan.stack!r}: a letter, then letters, digits and hyphens, 50 in all at most")
    cloudformation = session.client("cloudformation")
    existing = stack_of(cloudformation, plan.stack)
    if existing and existing["StackStatus"] in STUCK:
        raise DeployError(f"stack {plan.stack} is {existing['StackStatus']}: {STUCK[existing['StackStatus']]}"
                          + (f" (aws cloudformation update-termination-protection --no-enable-termination-protection "
                             f"--stack-name {plan.stack} --region {plan.region}; aws cloudformation delete-stack "
                             f"--stack-name {plan.stack} --region {plan.region})"
                             if existing["StackStatus"] == "ROLLBACK_COMPLETE" else ""))
    if existing and existing["StackStatus"].endswith("_IN_PROGRESS"):
        raise DeployError(f"stack {plan.stack} is {existing['StackStatus']}: wait for it to settle")
    if run_preflight:
        effective = deployment.settings(plan.settings.mode, effective_parameters(existing, plan.explicit),
                                        **{k: v for k, v in vars(plan.settings.audience).items()})
        if preflight.report(preflight.check(effective, session.client, plan.region,
                                            plan.stack if existing else None), effective, out):
            return 1
    if build:
        from infra.build_template import package as build_package

        build_package(package)
    s3 = session.client("s3")
    ensure_bucket(s3, plan.bucket, plan.region, out)
    template, url = stage_template(s3, plan, package, out)
    before = event_ids(cloudformation, plan.stack) if existing else set()
    if not start(cloudformation, plan, template, url, existing, out):
        found = existing
    else:
        found = wait(cloudformation, plan.stack, out, seen=before, sleep=sleep, poll_s=poll_s)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    out(f"\nStack {plan.stack} is {found['StackStatus']}. Outputs:")
    for key in sorted(outputs):
        out(f"  {key:<28} {outputs[key]}")
    out("\nNext:")
    for step in next_steps(plan, outputs, created=existing is None):
        out(f"  {step}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stack", required=True, help="the stack's name (50 characters at most)")
    p.add_argument("--bucket", required=True, help="an S3 bucket for the code and template, in the stack's Region "
                                                   "(created if it does not exist)")
    p.add_argument("--region", help="the stack's Region (default: AWS_REGION, then the profile's)")
    p.add_argument("--big-vote", help="1: the big vote's parameters (infra/overrides/big-vote.json); after: back")
    p.add_argument("--params", help='parameter overrides, "Name=value Name2=value2"')
    p.add_argument("--peak", type=float, help="the expected peak the preflight checks, votes/s")
    p.add_argument("--voters", type=int, help="voters of one event, for the preflight")
    p.add_argument("--invitations-per-day", type=int, help="roll invitations mailed a day, for the preflight")
    p.add_argument("--no-build", action="store_true", help="deploy build/package as it is (make package ran)")
    p.add_argument("--skip-preflight", action="store_true",
                   help="deploy without checking the account's quotas (when Service Quotas cannot be read)")
    return p


def main(argv=None, session=None) -> int:
    args = parser().parse_args(argv)
    session = session or boto3.session.Session(region_name=args.region)
    if not session.region_name:
        raise SystemExit("no Region: give REGION=... (or --region), or set AWS_REGION")
    mode = preflight.mode_of(args.big_vote)
    overrides = deployment.parse_overrides(args.params)
    plan = Plan(stack=args.stack, bucket=args.bucket, region=session.region_name,
                settings=deployment.settings(mode, overrides, peak_votes_per_s=args.peak, voters=args.voters,
                                             invitations_per_day=args.invitations_per_day),
                explicit=explicit_parameters(mode, overrides))
    try:
        return deploy(plan, session, build=not args.no_build, run_preflight=not args.skip_preflight)
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
