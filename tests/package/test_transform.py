"""The packaged template after the SAM transform, run here offline (aws-sam-translator) as CloudFormation runs it on
deploy: what AWS would actually create from the Serverless resources (stages, deployments, functions, mappings).

No AWS account is needed: the translator is given a region (its own tests do the same) and an empty managed-policy
map (every role of the template is a plain AWS::IAM::Role, so it looks no policy up). `aws cloudformation package`
replaces each function's local CodeUri with an S3 URI before the transform; so does this test.
"""
import copy

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator


def transform(template):
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    return translator.translate(template, parameter_values={}, get_managed_policy_map=lambda: {})


@pytest.fixture(scope="module")
def transformed(template):
    return transform(template)["Resources"]


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def test_the_transform_leaves_no_serverless_resource(transformed):
    assert not [name for name, r in transformed.items() if r["Type"].startswith("AWS::Serverless::")]


def test_exactly_one_stage_named_api_with_throttling_tracing_and_access_logs(template, transformed):
    (stage,) = of_type(transformed, "AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "api"
    assert properties["RestApiId"] == {"Ref": "RestAPI"}
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    assert properties["AccessLogSetting"] == template["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]
    assert "ApiAccessLogGroup" in properties["AccessLogSetting"]["DestinationArn"]["Fn::Sub"]


def test_no_deployment_makes_a_stage_of_its_own(transformed):
    # Without OpenApiVersion, SAM's deployment carries StageName "Stage": a second stage, unthrottled and unlogged.
    (deployment,) = of_type(transformed, "AWS::ApiGateway::Deployment").values()
    assert "StageName" not in deployment["Properties"]


def test_the_stage_waits_for_the_account_logging_role(transformed):
    (stage,) = of_type(transformed, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["RestApiId"] == {"Ref": "RestAPI"}
    assert transformed["RestAPI"]["DependsOn"] == ["ApiGatewayAccount"]


def test_the_rest_api_keeps_its_gateway_responses_and_authorizer(template, transformed):
    body = transformed["RestAPI"]["Properties"]["Body"]
    source = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert body["swagger"] == "2.0"
    assert body["x-amazon-apigateway-gateway-responses"] == source["x-amazon-apigateway-gateway-responses"]
    assert body["securityDefinitions"] == source["securityDefinitions"]


def test_the_tally_function_keeps_its_reserved_concurrency_and_stream_mapping(transformed):
    function = transformed["TallyBallots"]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservesTallyConcurrency", {"Ref": "TallyReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert "ReservedConcurrentExecutions" not in transformed["APIHandler"]["Properties"]
    (mapping,) = of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionName"] == {"Ref": "TallyBallots"}
    assert mapping["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["TallyDeadLetterQueue", "Arn"]}


def test_the_search_domain_publishes_its_logs_after_the_transform(template, transformed):
    # Plain CloudFormation resources pass through the transform unchanged.
    domain = transformed["SearchDomain"]
    assert domain == template["Resources"]["SearchDomain"]
    options = domain["Properties"]["LogPublishingOptions"]
    assert {kind for kind, option in options.items() if option["Enabled"]} == {
        "ES_APPLICATION_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS"}
    for option in options.values():
        group = option["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]
        assert transformed[group]["Type"] == "AWS::Logs::LogGroup"
    assert "SearchLogsResourcePolicy" in domain["DependsOn"]


def test_the_waf_guards_the_one_stage_sam_makes(transformed):
    # ${RestAPI.Stage} is SAM's reference to the stage it generates: resolved to that stage's logical id, so the
    # association names the stage and waits for it.
    (stage_id,) = of_type(transformed, "AWS::ApiGateway::Stage")
    association = transformed["WafApiAssociation"]
    assert association["Condition"] == "WafOn"
    arn = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${" + stage_id + "}"
    assert association["Properties"]["ResourceArn"] == {"Fn::Sub": arn}
