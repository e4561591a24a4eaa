"""`make preflight` (infra/preflight.py) against an account: moto answers what it implements (API Gateway's
GetAccount, DynamoDB's DescribeLimits, SES v1), tests/aws_answers.py gives AWS's answers for the rest
(Lambda's GetAccountSettings, Service Quotas, SES v2), as a new account or a prepared one would give them."""
import boto3
import pytest

from capacity.deployment import BIG_VOTE_AS_DEPLOYED
from capacity.report import main
from infra import deployment, preflight
from tests.aws_answers import answer, error
from tests.package.conftest import AWS_REGION

REGION = AWS_REGION
SES_ARN = f"arn:aws:ses:{REGION}:123456789012:identity/votes@example.com"


def quotas(service_code, applied=None):
    """Service Quotas' defaults for the quotas preflight looks up, with test quota codes; `applied` raises some."""
    table = {
        "lambda": [("L-TEST0001", "Concurrent executions", 1000.0)],
        "apigateway": [("L-TEST0002", "Throttle rate", 10000.0), ("L-TEST0003", "Throttle burst rate", 5000.0)],
        "cognito-idp": [("L-TEST0004", "Rate of UserAuthentication requests", 120.0),
                        ("L-TEST0005", "Rate of UserCreation requests", 50.0)],
        "dynamodb": [("L-TEST0006", "Table-level write throughput limit", 40000.0)],
    }
    return {"Quotas": [{"ServiceCode": service_code, "QuotaCode": code, "QuotaName": name,
                        "Value": (applied or {}).get(name, value), "Adjustable": True}
                       for code, name, value in table.get(service_code, [])]}


class Account:
    """A session whose clients are moto's, with AWS's answers where moto has none."""
    region_name = REGION

    def __init__(self, limit=1000, unreserved=1000, applied=None, held=None, answers=None):
        self.calls = []
        self.answers = {
            "lambda": {"GetAccountSettings": {"AccountLimit": {"ConcurrentExecutions": limit,
                                                               "UnreservedConcurrentExecutions": unreserved}},
                       "GetFunctionConcurrency": ({"ReservedConcurrentExecutions": held[0]} if held else
                                                  error("ResourceNotFoundException", "Function not found", 404)),
                       "ListProvisionedConcurrencyConfigs": {"ProvisionedConcurrencyConfigs": [
                           {"RequestedProvisionedConcurrentExecutions": held[1]}] if held else []}},
            "service-quotas": {"ListAWSDefaultServiceQuotas": lambda p: quotas(p["ServiceCode"]),
                               "ListServiceQuotas": lambda p: quotas(p["ServiceCode"], applied) if applied else
                               {"Quotas": []}},
        }
        for service, more in (answers or {}).items():
            self.answers.setdefault(service, {}).update(more)

    def client(self, service):
        return answer(boto3.client(service, region_name=REGION), self.answers.get(service, {}), self.calls)


def run(account, argv, capsys):
    code = preflight.main(argv, session=account)
    return code, capsys.readouterr().out


def line(out, quota):
    (found,) = [text for text in out.splitlines() if f" {quota}:" in text]
    return found


def test_a_new_account_of_10_executions_is_told_the_peak_it_takes_and_what_to_ask_for(aws, capsys):
    code, out = run(Account(limit=10, unreserved=10), [], capsys)
    assert code == 1
    short = line(out, "AWS Lambda: Concurrent executions")
    assert short.strip().startswith("SHORT") and ": 10 for 30 needed" in short
    request = out.splitlines()[out.splitlines().index(short) + 1]
    assert ("aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-TEST0001 "
            "--desired-value 1000 --region eu-west-1") in request  # the usual figure, not the 30 needed
    assert "PEAK=333" in request  # what 10 executions take: 1,000 votes/s x 10 / 30
    # The defaults reserve nothing, so nothing here would make the deploy itself fail.
    assert "DEPLOY" not in out and "unreserved" not in out
    code, out = run(Account(limit=10, unreserved=10), ["--peak", "300"], capsys)
    assert code == 0, out
    assert out.splitlines()[-1] == "No shortfall."


def test_a_reservation_lambda_would_refuse_is_a_deploy_shortfall(aws, capsys):
    code, out = run(Account(limit=10, unreserved=10), ["--peak", "300", "--params", "TallyReservedConcurrency=5"],
                    capsys)
    assert code == 1
    short = line(out, "AWS Lambda: Concurrent executions (unreserved)")
    assert "SHORT" in short and "(DEPLOY)" in short and "Lambda keeps 10 unreserved" in short
    assert "keep TallyReservedConcurrency + ApiProvisionedConcurrency at 0 or less" in out


def test_the_big_vote_on_an_account_at_aws_defaults_lists_every_request_to_make(aws, capsys):
    code, out = run(Account(), ["--big-vote", "1"], capsys)
    assert code == 1
    # moto's DynamoDB says a table takes 10,000 write units: the big vote warms the ballots table to 40,000.
    warm = line(out, "Amazon DynamoDB: Table-level write throughput limit")
    assert "SHORT" in warm and "(DEPLOY)" in warm and ": 10,000 for 40,000 needed" in warm
    # moto's API Gateway has the default 10,000/s: under the stage's 12,000.
    assert "SHORT" in line(out, "Amazon API Gateway: Throttle rate")
    auth = line(out, "Amazon Cognito user pools: Rate of UserAuthentication requests")
    assert "SHORT" in auth and ": 120 for 903 needed" in auth
    assert "--service-code cognito-idp --quota-code L-TEST0004 --desired-value 1200" in out
    assert "ok" in line(out, "Amazon Cognito user pools: Rate of UserCreation requests")
    # 1,000,000 new voters over the week before: far more codes a day than Cognito's own mail sends.
    mail = line(out, "Amazon Cognito: its own email (default configuration)")
    assert "SHORT" in mail and ": 50 for 142,857 needed" in mail and "PARAMS=SesIdentityArn=" in out
    assert line(out, "Amazon CloudFront: Request rate per distribution").strip().startswith("note")


def test_a_prepared_account_passes_the_big_vote(aws, capsys):
    prepared = Account(applied={"Rate of UserAuthentication requests": 1000.0}, answers={
        "apigateway": {"GetAccount": {"throttleSettings": {"rateLimit": 15000.0, "burstLimit": 7500}}},
        "dynamodb": {"DescribeLimits": {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                                        "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}},
        "sesv2": {"GetAccount": {"ProductionAccessEnabled": True, "SendingEnabled": True,
                                 "SendQuota": {"Max24HourSend": 200000.0, "MaxSendRate": 14.0}},
                  "GetEmailIdentity": {"VerifiedForSendingStatus": True}}})
    code, out = run(prepared, ["--big-vote", "1", "--params", f"SelfSignUp=open SesIdentityArn={SES_ARN}"], capsys)
    assert code == 0, out
    # Service Quotas' applied value won over the default.
    assert ": 1,000 for 903 needed" in line(out, "Amazon Cognito user pools: Rate of UserAuthentication requests")
    # The reservations fit: 100 + 300 of 1,000, Lambda keeping 100.
    assert ": 900 for 400 needed" in line(out, "AWS Lambda: Concurrent executions (unreserved)")
    assert ("GetEmailIdentity", {"EmailIdentity": "votes@example.com"}) in prepared.calls


def test_an_update_counts_what_the_stack_already_holds_as_its_own(aws, capsys):
    # 450 unreserved of 1,000: the stack itself holds 400 of the rest (100 reserved, 300 provisioned).
    argv = ["--big-vote", "1", "--params", "ApiRateLimit=9000 ApiBurstLimit=4000"]
    code, out = run(Account(unreserved=450), argv, capsys)
    assert "SHORT" in line(out, "AWS Lambda: Concurrent executions (unreserved)")
    account = Account(unreserved=450, held=(100, 300))
    code, out = run(account, ["--stack", "tally-prod", *argv], capsys)
    held = line(out, "AWS Lambda: Concurrent executions (unreserved)")
    assert "ok" in held and ": 750 for 400 needed" in held and "with the 400 tally-prod holds now" in held
    assert ("GetFunctionConcurrency", {"FunctionName": "tally-prod-tally"}) in account.calls
    assert ("ListProvisionedConcurrencyConfigs", {"FunctionName": "tally-prod-api"}) in account.calls


def test_mail_through_ses_needs_a_verified_identity_out_of_the_sandbox(aws, capsys):
    # moto has no SES v2: preflight reads SES v1 from moto (its sandbox's 200 a day) and the identity's status.
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress="other@example.com")
    code, out = run(Account(), ["--params", f"SelfSignUp=open SesIdentityArn={SES_ARN}"], capsys)
    assert code == 1
    assert "SHORT" in line(out, "Amazon SES: identity votes@example.com")
    assert "aws sesv2 create-email-identity --email-identity votes@example.com" in out
    sandbox = Account(answers={"sesv2": {
        "GetAccount": {"ProductionAccessEnabled": False, "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0}},
        "GetEmailIdentity": {"VerifiedForSendingStatus": True}}})
    code, out = run(sandbox, ["--params", f"SelfSignUp=open SesIdentityArn={SES_ARN}"], capsys)
    assert code == 1
    assert "ok" in line(out, "Amazon SES: identity votes@example.com")
    assert "SHORT" in line(out, "Amazon SES: production access") and "Request production access" in out


def test_preflight_checks_the_needs_the_capacity_model_sizes_from_the_same_settings(aws):
    settings = deployment.settings("big-vote", BIG_VOTE_AS_DEPLOYED)
    findings = {f.quota: f for f in preflight.check(settings, Account().client, REGION)}
    model = main([])["big_vote"]["needs"]
    assert findings["Amazon Cognito user pools: Rate of UserAuthentication requests"].need == pytest.approx(
        model["user_authentication_rps"]["need"], abs=0.1)
    assert findings["AWS Lambda: Concurrent executions"].need == model["lambda_concurrency"]["need"]
    assert findings["Amazon SES: Sending quota (24 hours)"].need == pytest.approx(model["mails_per_day"]["need"],
                                                                                 abs=0.1)


def test_after_the_big_vote_the_parameters_go_back_but_the_warm_throughput(aws):
    after = deployment.settings("after")
    assert after.parameters["TallyReservedConcurrency"] == after.parameters["ApiProvisionedConcurrency"] == 0
    assert after.parameters["BallotsWarmWriteUnitsPerSecond"] == 40000  # a table's warm throughput cannot go down
    assert after.audience == deployment.Audience()


def test_a_rolls_invitations_count_against_cognitos_own_mail(aws, capsys):
    code, out = run(Account(), ["--peak", "300", "--invitations-per-day", "200"], capsys)
    assert code == 1
    mail = line(out, "Amazon Cognito: its own email (default configuration)")
    assert "SHORT" in mail and ": 50 for 233 needed" in mail  # 1,000 voters over 30 days, and 200 invitations
