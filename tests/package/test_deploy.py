"""`make deploy` (infra/deploy.py): against moto as far as moto's CloudFormation goes, and what is sent where it does
not go.

moto's CloudFormation creates and updates a stack from a template in its S3 (TemplateURL) but cannot create the
packaged template's resources (Cognito, API Gateway stages, OpenSearch, CloudFront): the moto runs deploy a small
template of resources it has, through the same code; the packaged template's own deploy is checked by what it
uploads and sends (a recording of the boto3 calls, CloudFormation's answers given by tests/aws_answers.py).
"""
import hashlib
import json

import boto3
import pytest

from infra import deploy, deployment
from tests.aws_answers import answer, error
from tests.package.conftest import AWS_REGION
from tests.package.test_preflight import Account

REGION = AWS_REGION
SMALL = {
    "Parameters": {"ApiRateLimit": {"Type": "Number", "Default": 3000},
                   "SearchDomainName": {"Type": "String", "Default": "tally-prod"},
                   "AlarmEmail": {"Type": "String", "Default": ""}},
    "Resources": {"TallyDeadLetterQueue": {"Type": "AWS::SQS::Queue",
                                           "Properties": {"MessageRetentionPeriod": {"Ref": "ApiRateLimit"}}}},
    "Outputs": {"DeadLetterQueueUrl": {"Value": {"Ref": "TallyDeadLetterQueue"}},
                "UserPoolId": {"Value": {"Ref": "SearchDomainName"}}},
}


class Recording:
    """A boto3 session whose clients record every call they send (operation, parameters), and answer some."""

    def __init__(self, answers=None):
        self.session = boto3.session.Session(region_name=REGION)
        self.region_name = REGION
        self.calls = []
        self.answers = answers or {}

    def client(self, service):
        made = answer(self.session.client(service), self.answers.get(service, {}))
        made.meta.events.register("before-parameter-build",
                                  lambda model, params, **kw: self.calls.append((service, model.name, dict(params))))
        return made

    def sent(self, operation):
        return [params for _, name, params in self.calls if name == operation]


def package_dir(tmp_path, template=SMALL, code=b"PK\x05\x06" + bytes(18)):
    (tmp_path / "sam.json").write_text(json.dumps(template))
    (tmp_path / "deployment.zip").write_bytes(code)
    return tmp_path


def plan(stack="tally-test", bucket="tally-artifacts", mode="defaults", overrides=None):
    overrides = overrides or {}
    return deploy.Plan(stack=stack, bucket=bucket, region=REGION, settings=deployment.settings(mode, overrides),
                       explicit=deploy.explicit_parameters(mode, overrides))


def run(the_plan, session, package, lines, **kw):
    return deploy.deploy(the_plan, session, out=lines.append, build=False, package=package, run_preflight=False,
                         sleep=lambda s: None, **kw)


def test_a_first_deploy_creates_the_bucket_uploads_and_creates_the_stack_from_the_template_url(aws, tmp_path):
    session, lines = Recording(), []
    package = package_dir(tmp_path)
    assert run(plan(), session, package, lines) == 0
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_bucket_location(Bucket="tally-artifacts")["LocationConstraint"] == REGION
    assert all(s3.get_public_access_block(Bucket="tally-artifacts")["PublicAccessBlockConfiguration"].values())
    code = (package / "deployment.zip").read_bytes()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="tally-artifacts")["Contents"]}
    assert f"tally-test/code/{hashlib.sha256(code).hexdigest()}.zip" in keys
    (create,) = session.sent("CreateStack")
    assert "TemplateBody" not in create
    template_key = create["TemplateURL"].removeprefix(f"https://tally-artifacts.s3.{REGION}.amazonaws.com/")
    assert template_key in keys and template_key.startswith("tally-test/templates/")
    uploaded = s3.get_object(Bucket="tally-artifacts", Key=template_key)["Body"].read()
    # The stack was made from that object.
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    assert json.loads(json.dumps(cloudformation.get_template(StackName="tally-test")["TemplateBody"])) == \
        json.loads(uploaded)
    assert create["Parameters"] == [{"ParameterKey": "AlarmEmail", "ParameterValue": ""},
                                    {"ParameterKey": "ApiRateLimit", "ParameterValue": "3000"},
                                    # a new stack's own name, not the default tally-prod another may hold
                                    {"ParameterKey": "SearchDomainName", "ParameterValue": "tally-test"}]
    assert create["Capabilities"] == ["CAPABILITY_IAM"] and create["EnableTerminationProtection"] is True
    stack = cloudformation.describe_stacks(StackName="tally-test")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE" and stack["EnableTerminationProtection"] is True
    text = "\n".join(lines)
    assert "Stack tally-test is CREATE_COMPLETE" in text and "DeadLetterQueueUrl" in text
    # The next steps: the first operator with the stack's pool id, MFA at the first sign-in, the dashboard.
    assert f"admin-create-user --region {REGION} --user-pool-id tally-test --username alice" in text
    assert "email_verified,Value=true" in text and "authenticator app" in text
    assert "infra.publish_dashboard --stack tally-test" in text


def test_a_second_deploy_updates_sets_what_it_is_given_and_keeps_the_rest(aws, tmp_path):
    package = package_dir(tmp_path)
    run(plan(overrides={"SearchDomainName": "tally-show", "AlarmEmail": "ops@example.com"}), Recording(), package, [])
    session, lines = Recording(), []
    assert run(plan(overrides={"ApiRateLimit": "5000"}), session, package, lines) == 0
    (update,) = session.sent("UpdateStack")
    assert update["Parameters"] == [{"ParameterKey": "AlarmEmail", "UsePreviousValue": True},
                                    {"ParameterKey": "ApiRateLimit", "ParameterValue": "5000"},
                                    {"ParameterKey": "SearchDomainName", "UsePreviousValue": True}]
    assert not session.sent("CreateStack") and not session.sent("CreateBucket")
    # The same code is not uploaded again: its key is its hash.
    assert not [p for p in session.sent("PutObject") if p["Key"].endswith(".zip")]
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName="tally-test")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "ApiRateLimit": "5000", "SearchDomainName": "tally-show", "AlarmEmail": "ops@example.com"}
    text = "\n".join(lines)
    assert "updating stack tally-test" in text and "admin-create-user" not in text  # no first operator again


def test_the_big_vote_sends_its_parameters_and_after_it_sends_them_back_but_the_warm_throughput():
    big = deploy.explicit_parameters("big-vote", {})
    assert big == {name: str(value) for name, value in deployment.big_vote_file()["Parameters"].items()}
    after = deploy.explicit_parameters("after", {})
    assert set(after) == set(big)
    assert after["BallotsWarmWriteUnitsPerSecond"] == big["BallotsWarmWriteUnitsPerSecond"] == "40000"
    assert after["TallyReservedConcurrency"] == after["ApiProvisionedConcurrency"] == "0"
    assert after["SearchInstanceType"] == "t3.small.search"


def test_the_packaged_template_is_uploaded_with_its_code_named_and_sent_with_all_it_needs(aws, packaged, tmp_path):
    template = json.loads(packaged.read_text())
    package = package_dir(tmp_path, template)
    settled = {"Stacks": [{"StackName": "tally-prod", "StackStatus": "CREATE_COMPLETE", "CreationTime": "2026-12-01",
                           "Outputs": [{"OutputKey": "UserPoolId", "OutputValue": "eu-west-1_abc"}]}]}
    described = iter([error("ValidationError", "Stack with id tally-prod does not exist"), settled])
    session = Recording(answers={"cloudformation": {
        "DescribeStacks": lambda params: next(described), "CreateStack": {"StackId": "arn:stack"},
        "DescribeStackEvents": {"StackEvents": []}}})
    lines = []
    the_plan = plan(stack="tally-prod", overrides={"AlarmEmail": "ops@example.com"})
    assert run(the_plan, session, package, lines) == 0
    (create,) = session.sent("CreateStack")
    s3 = boto3.client("s3", region_name=REGION)
    key = create["TemplateURL"].split(".amazonaws.com/", 1)[1]
    uploaded = s3.get_object(Bucket="tally-artifacts", Key=key)["Body"].read()
    assert len(uploaded) > 51_200  # why it goes by URL: CloudFormation refuses a larger inline body
    body = json.loads(uploaded)
    code_key = f"tally-prod/code/{hashlib.sha256((package / 'deployment.zip').read_bytes()).hexdigest()}.zip"
    for name in ("APIHandler", "TallyBallots"):
        assert body["Resources"][name]["Properties"]["CodeUri"] == f"s3://tally-artifacts/{code_key}"
    assert {p["ParameterKey"] for p in create["Parameters"]} == set(template["Parameters"])
    sent = {p["ParameterKey"]: p["ParameterValue"] for p in create["Parameters"]}
    assert sent["AlarmEmail"] == "ops@example.com" and sent["TallyReservedConcurrency"] == "0"
    assert create["Capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # roles; the SAM transform
    assert "eu-west-1_abc" in "\n".join(lines)
    assert "Confirm the subscription mail SNS sent to ops@example.com" in "\n".join(lines)


def test_a_failed_create_says_why_and_exits_1(aws, tmp_path):
    statuses = iter(["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"])
    events = [{"EventId": "3", "StackName": "s", "LogicalResourceId": "BallotsTable", "Timestamp": "2026-12-01",
               "ResourceStatus": "DELETE_SKIPPED", "ResourceType": "AWS::DynamoDB::Table",
               "PhysicalResourceId": "tally-test-BallotsTable-1X"},
              {"EventId": "2", "StackName": "s", "LogicalResourceId": "UserPool", "ResourceStatus": "CREATE_FAILED",
               "Timestamp": "2026-12-01", "ResourceStatusReason": "SES identity is not verified"},
              {"EventId": "1", "StackName": "s", "LogicalResourceId": "tally-test", "Timestamp": "2026-12-01",
               "ResourceStatus": "CREATE_IN_PROGRESS"}]
    first = iter([True])
    session = Recording(answers={"cloudformation": {
        "DescribeStacks": lambda params: (error("ValidationError", "Stack with id tally-test does not exist")
                                          if next(first, False) else
                                          {"Stacks": [{"StackName": "tally-test", "StackStatus": next(statuses),
                                                       "CreationTime": "2026-12-01"}]}),
        "CreateStack": {"StackId": "arn:stack"}, "DescribeStackEvents": {"StackEvents": events}}})
    lines = []
    reason = "ROLLBACK_COMPLETE:\n  UserPool: SES identity is not verified"
    with pytest.raises(deploy.DeployError, match=reason) as failed:
        run(plan(), session, package_dir(tmp_path), lines)
    assert "Kept by the rollback" in str(failed.value)
    assert "BallotsTable (AWS::DynamoDB::Table): tally-test-BallotsTable-1X" in str(failed.value)
    assert len(session.sent("DescribeStacks")) == 4  # asked until it settled
    assert "  UserPool                                 CREATE_FAILED: SES identity is not verified" in lines


def test_a_stack_whose_first_create_rolled_back_is_not_updated(aws, tmp_path):
    session = Recording(answers={"cloudformation": {"DescribeStacks": {"Stacks": [
        {"StackName": "tally-test", "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": "2026-12-01"}]}}})
    told = "no-enable-termination-protection.*delete-stack --stack-name tally-test"
    with pytest.raises(deploy.DeployError, match=told):
        run(plan(), session, package_dir(tmp_path), [])
    assert not session.sent("UpdateStack") and not session.sent("PutObject")


def test_a_bucket_in_another_region_is_refused(aws, tmp_path):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="tally-artifacts")
    with pytest.raises(deploy.DeployError, match="is in us-east-1, the stack in eu-west-1"):
        run(plan(), Recording(), package_dir(tmp_path), [])


def test_preflight_runs_first_and_a_shortfall_stops_the_deploy_before_anything_is_made(aws, tmp_path, capsys):
    account = Account(limit=10, unreserved=10)  # a new account: 10 executions for the 30 the defaults need
    lines = []
    code = deploy.deploy(plan(), account, out=lines.append, build=False, package=package_dir(tmp_path))
    assert code == 1
    assert any("SHORT AWS Lambda: Concurrent executions: 10 for 30 needed" in line for line in lines)
    assert not boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]
    assert not boto3.client("cloudformation", region_name=REGION).describe_stacks()["Stacks"]


def test_the_cli_refuses_a_stack_name_the_functions_cannot_take(aws, capsys):
    assert deploy.main(["--stack", "x" * 51, "--bucket", "b", "--no-build", "--skip-preflight"],
                       session=Recording()) == 1
    assert "50 in all at most" in capsys.readouterr().err
