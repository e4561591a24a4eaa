"""The one template `make package` produces: what it holds, what it grants, and that cfn-lint finds no error in it."""
import inspect
import json
import re
import subprocess
import sys

import pytest

from chalicelib.adapters.opensearch_index import OpenSearchIndex
from devstack import tables as local_tables
from infra import project_root

ROOT = project_root()
TABLES = {"PollsTable", "BallotsTable", "TalliesTable", "RollsTable"}
FUNCTION_ROLES = {"APIHandler": "ApiHandlerRole", "TallyBallots": "TallyBallotsRole"}
PUBLIC_ROUTES = {("/health", "get"), ("/config", "get"), ("/public/polls/{poll_id}", "get")}
# The only actions that take no resource ARN, so "*" is the only resource they can have.
STAR_RESOURCE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def as_list(value):
    return value if isinstance(value, list) else [value]


def event_source(resources):
    return resources["TallyBallots"]["Properties"]["Events"]["TallyBallotsDynamodbEventSource"]


def prod_stage():
    return json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]


# --- one template -------------------------------------------------------------------------------------------------

def test_one_template_holds_the_whole_platform(resources):
    kinds = {r["Type"] for r in resources.values()}
    assert {
        "AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup",
        "AWS::Serverless::Api", "AWS::Serverless::Function", "AWS::SQS::Queue", "AWS::OpenSearchService::Domain",
        "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl", "AWS::CloudWatch::Alarm", "AWS::IAM::Role",
    } <= kinds
    assert set(of_type(resources, "AWS::DynamoDB::Table")) == TABLES
    assert set(of_type(resources, "AWS::Serverless::Function")) == set(FUNCTION_ROLES)


def test_every_resource_is_complete(template):
    # A piece merged into a resource Chalice stopped generating would leave one without a Type.
    for name, resource in template["Resources"].items():
        assert "Type" in resource, name


# --- tables: the same ones the local stack creates ----------------------------------------------------------------

def test_tables_are_merged_from_infra_tables_json_unchanged(resources):
    pieces = json.loads((ROOT / "infra" / "tables.json").read_text())["Resources"]
    assert {name: resources[name] for name in TABLES} == pieces


def test_tables_match_what_the_local_stack_creates(resources):
    names = {logical_id: f"local-{logical_id}" for logical_id in TABLES}
    local = {r["TableName"]: r for r in local_tables.create_table_requests(names)}
    for logical_id in TABLES:
        packaged = resources[logical_id]["Properties"]
        request = local[names[logical_id]]
        assert packaged["KeySchema"] == request["KeySchema"]
        assert packaged["AttributeDefinitions"] == request["AttributeDefinitions"]
        assert packaged["BillingMode"] == request["BillingMode"] == "PAY_PER_REQUEST"
        stream = packaged.get("StreamSpecification")
        if stream:
            assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        else:
            assert "StreamSpecification" not in request
        # Warm throughput is AWS's (a template parameter): the local table takes keys, billing and stream only.
        assert "WarmThroughput" not in request and '"Ref"' not in json.dumps(request)


def test_ballots_table_streams_new_images_and_every_table_keeps_backups(resources):
    assert resources["BallotsTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    for name in TABLES:
        properties = resources[name]["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert resources[name]["DeletionPolicy"] == "Retain"


# --- the stream consumer ------------------------------------------------------------------------------------------

def test_event_source_mapping_reads_the_ballots_stream_exactly_as_the_consumer_needs(resources):
    source = event_source(resources)
    assert source["Type"] == "DynamoDB"
    p = source["Properties"]
    assert p["Stream"] == {"Fn::GetAtt": ["BallotsTable", "StreamArn"]}
    assert p["StartingPosition"] == "TRIM_HORIZON"
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["BisectBatchOnFunctionError"] is True
    assert p["ParallelizationFactor"] == 1
    assert 0 <= p["MaximumRetryAttempts"] <= 10
    assert 60 <= p["MaximumRecordAgeInSeconds"] <= 86400  # bounded; the stream keeps records 24 h
    # chalicelib/events/consumer.py keys its exactly-once counters on the event's shardId, which Lambda sends
    # only in tumbling-window events.
    assert p["TumblingWindowInSeconds"] >= 1
    assert p["BatchSize"] <= 10000


def test_records_the_stream_gives_up_on_go_to_a_dead_letter_queue(resources):
    on_failure = event_source(resources)["Properties"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["TallyDeadLetterQueue", "Arn"]}}
    queue = resources["TallyDeadLetterQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_consumer_has_time_for_a_batch(resources):
    assert resources["TallyBallots"]["Properties"]["Timeout"] >= 30


# --- functions: environment, tracing ------------------------------------------------------------------------------

@pytest.mark.parametrize("function", sorted(FUNCTION_ROLES))
def test_functions_read_the_resources_of_this_template(resources, function):
    env = resources[function]["Properties"]["Environment"]["Variables"]
    assert env["TALLY_POLLS_TABLE"] == {"Ref": "PollsTable"}
    assert env["TALLY_BALLOTS_TABLE"] == {"Ref": "BallotsTable"}
    assert env["TALLY_TALLIES_TABLE"] == {"Ref": "TalliesTable"}
    if function == "APIHandler":
        assert env["TALLY_ROLLS_TABLE"] == {"Ref": "RollsTable"} and env["TALLY_SELF_SIGNUP"] == {"Ref": "SelfSignUp"}
    assert env["TALLY_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert env["TALLY_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    assert env["OPENSEARCH_URL"] == {"Fn::Sub": "https://${SearchDomain.DomainEndpoint}"}
    assert env["TALLY_OPENSEARCH_SIGV4"] == "true"
    assert env["POWERTOOLS_SERVICE_NAME"] == "tally"
    assert "TALLY_COGNITO_ENDPOINT" not in env and "TALLY_JWKS_URL" not in env  # the real Cognito on AWS
    assert not any(isinstance(value, str) and "tally-prod" in value for value in env.values())


@pytest.mark.parametrize("function", sorted(FUNCTION_ROLES))
def test_functions_are_traced_and_log_to_their_own_group(resources, function):
    properties = resources[function]["Properties"]
    assert properties["Tracing"] == "Active"
    log_group = resources[f"{FUNCTION_ROLES[function].removesuffix('Role')}LogGroup"]["Properties"]
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + properties["FunctionName"]["Fn::Sub"]}
    assert log_group["RetentionInDays"] > 0


def test_the_api_is_traced_too(resources):
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is True


def test_api_gateway_compresses_larger_answers(resources):
    # A results timeline is tens of kB of near-identical points, fetched every second by each dashboard.
    assert resources["RestAPI"]["Properties"]["MinimumCompressionSize"] == 1024


# --- IAM: least privilege -----------------------------------------------------------------------------------------

def policy_documents(node, where="template"):
    """Every IAM policy document anywhere in the template (roles, bucket policy, the domain's access policy)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("PolicyDocument", "AccessPolicies", "AssumeRolePolicyDocument") and isinstance(value, dict):
                # A CloudWatch Logs resource policy is a JSON string (here an Fn::Sub of one).
                yield f"{where}.{key}", json.loads(value["Fn::Sub"]) if "Fn::Sub" in value else value
            else:
                yield from policy_documents(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from policy_documents(value, f"{where}[{i}]")


def test_policies_are_found(template):
    found = [where for where, _ in policy_documents(template["Resources"])]
    # two roles x (trust + two policies), bucket policy, domain access policy, API Gateway's logging role's trust,
    # the search domain's log resource policy
    assert len(found) >= 8, found


def statements(document):
    """A policy's statements, with both branches of a conditional one (Fn::If, e.g. the maintenance role's)."""
    for statement in as_list(document["Statement"]):
        if "Fn::If" in statement:
            yield from (branch for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"})
        else:
            yield statement


def test_no_wildcard_action_and_no_star_resource_but_x_ray(template):
    for where, document in policy_documents(template["Resources"]):
        for statement in statements(document):
            assert "NotAction" not in statement and "NotResource" not in statement, where
            actions = as_list(statement["Action"])
            assert not any("*" in action for action in actions), (where, actions)
            assert statement.get("Principal") != "*" and statement.get("Principal") != {"AWS": "*"}, where
            resources = as_list(statement.get("Resource", []))
            if "*" in resources:
                assert set(actions) <= STAR_RESOURCE_ACTIONS, (where, actions)
                assert resources == ["*"]
            for resource in resources:
                # Named resources only: a wildcard may stand for the paths or objects inside one ("/*"), never
                # for a region, an account or a resource's name.
                text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else resource
                text = text[0] if isinstance(text, list) else text
                if text != "*":
                    assert "*" not in text.removesuffix("/*"), (where, resource)


def role_grants(resources, role):
    """{action: [resource, ...]} over every policy of the role."""
    grants = {}
    for policy in resources[role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                grants.setdefault(action, []).extend(as_list(statement["Resource"]))
    return grants


def arn(logical_id, attribute="Arn"):
    return {"Fn::GetAtt": [logical_id, attribute]}


def index_arn(path):
    return {"Fn::Sub": "arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:domain/${SearchDomainName}/" + path}


def test_the_api_function_may_do_exactly_what_the_adapters_it_uses_do(resources):
    # DynamoPollStore: put_item, get_item, scan, update_item; DynamoBallotLedger.cast/fill/find: put_item,
    # update_item, get_item; DynamoTallyStore.counts (the results check): query. DynamoRollStore: transactions of
    # put, delete (ballots, rolls) and update (the tallies' roll lane), get_item and query. OpenSearchIndex.counts:
    # POST .../_search. Runtime.voter_keys: the voter key's secret. CognitoDirectory.standing (operator routes):
    # two admin reads; .account and .invite (roll entries): AdminGetUser, ListUsers, AdminCreateUser, and
    # AdminDeleteUser for an unconfirmed account squatting an invited address.
    assert role_grants(resources, "ApiHandlerRole") == {
        "xray:PutTraceSegments": ["*"], "xray:PutTelemetryRecords": ["*"],
        "logs:CreateLogStream": [arn("ApiHandlerLogGroup")], "logs:PutLogEvents": [arn("ApiHandlerLogGroup")],
        "dynamodb:GetItem": [arn("PollsTable"), arn("BallotsTable"), arn("TalliesTable")],
        "dynamodb:PutItem": [arn("PollsTable"), arn("BallotsTable"), arn("RollsTable")],
        "dynamodb:DeleteItem": [arn("BallotsTable"), arn("RollsTable")],
        "dynamodb:Scan": [arn("PollsTable")],
        "dynamodb:UpdateItem": [arn("PollsTable"), arn("BallotsTable"), arn("TalliesTable")],
        "dynamodb:Query": [arn("TalliesTable"), arn("RollsTable")],
        "es:ESHttpPost": [index_arn("tally-ballots/_search")],
        "secretsmanager:GetSecretValue": [{"Ref": "VoterKeySecret"}],
        "cognito-idp:AdminGetUser": [arn("UserPool")], "cognito-idp:AdminListGroupsForUser": [arn("UserPool")],
        "cognito-idp:ListUsers": [arn("UserPool")], "cognito-idp:AdminCreateUser": [arn("UserPool")],
        "cognito-idp:AdminDeleteUser": [arn("UserPool")],
    }


def test_the_voter_key_is_generated_kept_with_the_ballots_and_named_to_the_api_only(resources):
    secret = resources["VoterKeySecret"]
    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["TALLY_VOTER_KEY_SECRET"] == \
        {"Ref": "VoterKeySecret"}
    assert "TALLY_VOTER_KEY_SECRET" not in resources["TallyBallots"]["Properties"]["Environment"]["Variables"]


def test_the_tally_function_may_do_exactly_what_the_consumer_does(resources):
    # Lambda reads the stream with the function's role and sends discarded batches to the queue with it;
    # DynamoTallyStore.apply: update_item; OpenSearchIndex.write: PUT the index once, POST _bulk.
    stream = arn("BallotsTable", "StreamArn")
    assert role_grants(resources, "TallyBallotsRole") == {
        "xray:PutTraceSegments": ["*"], "xray:PutTelemetryRecords": ["*"],
        "logs:CreateLogStream": [arn("TallyBallotsLogGroup")], "logs:PutLogEvents": [arn("TallyBallotsLogGroup")],
        "dynamodb:DescribeStream": [stream], "dynamodb:GetRecords": [stream], "dynamodb:GetShardIterator": [stream],
        "dynamodb:ListStreams": [{"Fn::Sub": "${BallotsTable.Arn}/stream/*"}],
        "dynamodb:UpdateItem": [arn("TalliesTable")],
        "sqs:SendMessage": [arn("TallyDeadLetterQueue")],
        "es:ESHttpPost": [index_arn("tally-ballots"), index_arn("tally-ballots/_bulk")],
        "es:ESHttpPut": [index_arn("tally-ballots"), index_arn("tally-ballots/_bulk")],
    }


def test_the_roles_name_the_index_the_adapter_writes():
    prefix = inspect.signature(OpenSearchIndex.__init__).parameters["prefix"].default
    assert f"{prefix}-ballots" == "tally-ballots"


def test_the_policy_chalice_packages_is_the_prod_policy_file(resources):
    chalice_policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    assert prod_stage()["autogen_policy"] is False
    for role in FUNCTION_ROLES.values():
        assert resources[role]["Properties"]["Policies"][0]["PolicyDocument"] == chalice_policy


def access_policy(resources):
    """{principal: {action: [resource, ...]}} of the search domain's access policy, the conditional statement too."""
    grants = {}
    for statement in statements(resources["SearchDomain"]["Properties"]["AccessPolicies"]):
        assert statement["Effect"] == "Allow"
        principal = json.dumps(statement["Principal"]["AWS"], sort_keys=True)
        for action in as_list(statement["Action"]):
            grants.setdefault(principal, {}).setdefault(action, []).extend(as_list(statement["Resource"]))
    return grants


def test_each_role_may_do_on_the_results_index_what_its_code_does_and_no_more(resources):
    grants = access_policy(resources)
    api, tally = json.dumps(arn("ApiHandlerRole")), json.dumps(arn("TallyBallotsRole"))
    maintenance = json.dumps({"Ref": "MaintenanceRoleArn"})
    assert set(grants) == {api, tally, maintenance}
    # The domain's policy and each role's own grant the same: neither widens the other.
    for role, principal in (("ApiHandlerRole", api), ("TallyBallotsRole", tally)):
        own = {action: found for action, found in role_grants(resources, role).items() if action.startswith("es:")}
        assert grants[principal] == own, role
    # opensearch-py's search is a POST: no GET is granted.
    assert grants[api] == {"es:ESHttpPost": [index_arn("tally-ballots/_search")]}
    # OpenSearchIndex.fill and replace_poll (make reconcile ... REPAIR=1): create the index, _bulk, _refresh,
    # _delete_by_query; the check itself reads counts with _search.
    repair = [index_arn(path) for path in ("tally-ballots", "tally-ballots/_bulk", "tally-ballots/_refresh",
                                           "tally-ballots/_delete_by_query", "tally-ballots/_search")]
    assert grants[maintenance] == {"es:ESHttpPost": repair, "es:ESHttpPut": repair}


def test_the_maintenance_role_is_optional(template, resources):
    assert template["Parameters"]["MaintenanceRoleArn"]["Default"] == ""
    assert template["Conditions"]["HasMaintenanceRole"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "MaintenanceRoleArn"}, ""]}]}
    (conditional,) = [s for s in resources["SearchDomain"]["Properties"]["AccessPolicies"]["Statement"]
                      if "Fn::If" in s]
    assert conditional["Fn::If"][0] == "HasMaintenanceRole" and conditional["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert re.fullmatch(template["Parameters"]["MaintenanceRoleArn"]["AllowedPattern"], "")
    assert re.fullmatch(template["Parameters"]["MaintenanceRoleArn"]["AllowedPattern"],
                        "arn:aws:iam::123456789012:role/tally-operator")


def test_the_results_index_is_encrypted_https_only_and_named_by_the_parameter(resources):
    domain = resources["SearchDomain"]["Properties"]
    assert domain["DomainName"] == {"Ref": "SearchDomainName"}
    assert domain["EncryptionAtRestOptions"] == {"Enabled": True}
    assert domain["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True


def test_the_search_domain_publishes_error_and_slow_logs_it_may_write(resources):
    domain = resources["SearchDomain"]
    options = domain["Properties"]["LogPublishingOptions"]
    assert set(options) == {"ES_APPLICATION_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS"}
    groups = set()
    for option in options.values():
        assert option["Enabled"] is True
        (group, attribute) = option["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"]
        assert attribute == "Arn" and resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert resources[group]["Properties"]["RetentionInDays"] > 0
        groups.add(group)
    # CloudWatch Logs must let the service write them before the domain is created with them.
    policy = resources["SearchLogsResourcePolicy"]
    assert policy["Type"] == "AWS::Logs::ResourcePolicy" and "SearchLogsResourcePolicy" in domain["DependsOn"]
    document = policy["Properties"]["PolicyDocument"]["Fn::Sub"]
    (statement,) = json.loads(document)["Statement"]
    assert statement["Principal"] == {"Service": "es.amazonaws.com"}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert sorted(statement["Resource"]) == sorted(f"${{{group}.Arn}}" for group in groups)
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "${AWS::AccountId}"}


def test_zone_awareness_and_dedicated_masters_are_parameters_off_by_default(template, resources):
    cluster = resources["SearchDomain"]["Properties"]["ClusterConfig"]
    parameters = template["Parameters"]
    assert parameters["SearchZoneAwareness"]["Default"] == "false"
    assert parameters["SearchDedicatedMasterCount"]["Default"] == 0
    assert cluster["ZoneAwarenessEnabled"] == {"Fn::If": ["SearchZoneAware", True, False]}
    assert cluster["DedicatedMasterEnabled"] == {"Fn::If": ["SearchHasDedicatedMasters", True, False]}
    assert cluster["DedicatedMasterCount"]["Fn::If"][1] == {"Ref": "SearchDedicatedMasterCount"}


def test_the_search_domain_is_deleted_with_the_stack_because_the_ledger_rebuilds_it(resources):
    # Decided in infra/search.json's _comment and docs/operating.md: the index holds nothing the ledger lacks.
    domain = resources["SearchDomain"]
    assert domain["DeletionPolicy"] == domain["UpdateReplacePolicy"] == "Delete"
    piece = json.loads((ROOT / "infra" / "search.json").read_text())["_comment"]
    assert "DeletionPolicy Delete" in piece and "REPAIR=1" in piece
    assert "DeletionPolicy" in (ROOT / "docs" / "operating.md").read_text()


# --- the API: authorizer, gateway responses, throttling -----------------------------------------------------------

def swagger(resources):
    return resources["RestAPI"]["Properties"]["DefinitionBody"]


def test_a_cognito_authorizer_guards_every_route_but_the_public_ones(resources):
    from app import app

    public = {(path, method.lower()) for path, methods in app.routes.items()
              for method, entry in methods.items() if getattr(entry.view_function, "tally_public", False)}
    assert public == PUBLIC_ROUTES
    body = swagger(resources)
    assert body["securityDefinitions"]["TallyCognito"]["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools", "providerARNs": [arn("UserPool")]}
    assert body["securityDefinitions"]["TallyCognito"]["name"] == "Authorization"
    routes = 0
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            if method == "options":  # CORS preflight: a mock integration, never authorized
                assert "security" not in operation
                continue
            routes += 1
            if (path, method) in PUBLIC_ROUTES:
                assert "security" not in operation, (method, path)
            else:
                assert operation["security"] == [{"TallyCognito": []}], (method, path)
    assert routes == sum(len(methods) for methods in app.routes.values())


def render(template):
    """A gateway response template with its one variable filled in as API Gateway would (a JSON string)."""
    return json.loads(template.replace("$context.error.messageString", '"what API Gateway says"'))


def test_api_gateway_own_errors_answer_in_the_api_error_shape_with_cors(resources):
    responses = swagger(resources)["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "UNAUTHORIZED", "ACCESS_DENIED"} <= set(responses)
    for kind, response in responses.items():
        body = render(response["responseTemplates"]["application/json"])
        assert set(body) == {"Code", "Message"}, kind
        assert re.fullmatch(r"[A-Z][A-Za-z]+", body["Code"]), kind
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'", kind
    assert render(responses["THROTTLED"]["responseTemplates"]["application/json"])["Code"] == "TooManyRequestsError"
    # API Gateway's own 429s carry Retry-After as the app's do, readable by the pages (clients honour it).
    for kind in ("THROTTLED", "QUOTA_EXCEEDED"):
        parameters = responses[kind]["responseParameters"]
        assert parameters["gatewayresponse.header.Retry-After"] == "'1'", kind
        assert "Retry-After" in parameters["gatewayresponse.header.Access-Control-Expose-Headers"], kind
    assert render(responses["UNAUTHORIZED"]["responseTemplates"]["application/json"])["Code"] == "UnauthorizedError"


ACCESS_LOG_VARIABLES = {"$context.requestId", "$context.requestTimeEpoch", "$context.httpMethod",
                        "$context.resourcePath", "$context.status", "$context.responseLatency",
                        "$context.integrationLatency", "$context.responseLength", "$context.error.responseType"}


def test_the_stage_writes_short_json_access_logs_without_voter_identity(resources):
    setting = resources["RestAPI"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                                    ":log-group:${ApiAccessLogGroup}"}
    fields = json.loads(setting["Format"])  # one JSON object per request
    assert set(fields.values()) == ACCESS_LOG_VARIABLES
    # No identity: no authorizer claims (sub, username, email), no caller, user or source IP.
    assert "authorizer" not in setting["Format"] and "identity" not in setting["Format"]
    # The route's template, never the path: POST /votes/{candidate} must not log the candidate voted for.
    assert fields["r"] == "$context.resourcePath" and "$context.path" not in setting["Format"]
    group = resources["ApiAccessLogGroup"]
    assert group["Properties"]["LogGroupClass"] == "INFREQUENT_ACCESS"  # as capacity/vote_cost.py prices it
    assert 0 < group["Properties"]["RetentionInDays"] <= 90


def test_api_gateway_may_write_its_logs_with_the_managed_policy_only(resources):
    account = resources["ApiGatewayAccount"]
    assert account["Type"] == "AWS::ApiGateway::Account"
    assert account["Properties"]["CloudWatchRoleArn"] == arn("ApiGatewayCloudWatchRole")
    role = resources["ApiGatewayCloudWatchRole"]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}]
    assert "Policies" not in role["Properties"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    # The region's one API Gateway logging role: kept with the stack's deletion, so no other API loses it.
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    # The stage is created after the account's role is set (SAM puts the API's DependsOn on the RestApi, which the
    # stage references).
    assert resources["RestAPI"]["DependsOn"] == ["ApiGatewayAccount"]


def test_the_api_has_one_stage(resources):
    # SAM makes a stage named "Stage" beside Chalice's unless OpenApiVersion is set (test_transform.py checks the
    # result).
    assert resources["RestAPI"]["Properties"]["OpenApiVersion"] == "2.0"
    assert swagger(resources)["swagger"] == "2.0"


def test_the_api_stage_is_throttled_below_the_account_limit(template, resources):
    (settings,) = resources["RestAPI"]["Properties"]["MethodSettings"]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    rate = template["Parameters"][settings["ThrottlingRateLimit"]["Ref"]]["Default"]
    burst = template["Parameters"][settings["ThrottlingBurstLimit"]["Ref"]]["Default"]
    assert 0 < rate < 10000 and 0 < burst <= 5000
    # Votes are one ballot write each: keep the steady rate within what the ballots table takes at once.
    warm = resources["BallotsTable"]["Properties"]["WarmThroughput"]["WriteUnitsPerSecond"]
    assert rate <= template["Parameters"][warm["Ref"]]["Default"]


# --- surge headroom and cost levers (docs/big-vote.md, capacity/) -------------------------------------------

BIG_VOTE = json.loads((ROOT / "infra" / "overrides" / "big-vote.json").read_text())


def test_the_ballots_table_warm_throughput_is_a_parameter(template, resources):
    warm = resources["BallotsTable"]["Properties"]["WarmThroughput"]
    assert warm == {"WriteUnitsPerSecond": {"Ref": "BallotsWarmWriteUnitsPerSecond"},
                    "ReadUnitsPerSecond": {"Ref": "BallotsWarmReadUnitsPerSecond"}}
    # The defaults are what any new on-demand table has for free: a default stack pays nothing to pre-warm.
    assert template["Parameters"]["BallotsWarmWriteUnitsPerSecond"]["Default"] == 4000
    assert template["Parameters"]["BallotsWarmReadUnitsPerSecond"]["Default"] == 12000


def test_the_tally_consumer_has_reserved_concurrency_unless_the_parameter_is_0(template, resources):
    reserved = resources["TallyBallots"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == {"Fn::If": ["ReservesTallyConcurrency", {"Ref": "TallyReservedConcurrency"},
                                   {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["ReservesTallyConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "TallyReservedConcurrency"}, 0]}]}
    # None by default: a reservation on an account whose quota is 10 fails the first deploy (Lambda keeps 10
    # unreserved there); the big vote reserves one execution per stream shard (~1 per 1,000 warm writes/s).
    assert template["Parameters"]["TallyReservedConcurrency"]["Default"] == 0
    assert BIG_VOTE["Parameters"]["TallyReservedConcurrency"] >= BIG_VOTE["Parameters"][
        "BallotsWarmWriteUnitsPerSecond"] / 1000
    assert "ReservedConcurrentExecutions" not in resources["APIHandler"]["Properties"]


def test_api_traces_follow_a_sampling_rule_of_their_own(template, resources):
    (name,) = of_type(resources, "AWS::XRay::SamplingRule")
    rule = resources[name]["Properties"]["SamplingRule"]
    assert 0 < rule["FixedRate"] <= 0.01 and 0 < rule["ReservoirSize"] <= 5
    assert rule["ServiceType"] == "AWS::ApiGateway::Stage"
    # API Gateway names its segments "<api name>/<stage>".
    api_name = resources["RestAPI"]["Properties"]["Name"]["Fn::Sub"]
    assert rule["ServiceName"] == {"Fn::Sub": f"{api_name}/{prod_stage()['api_gateway_stage']}"}
    assert all(rule[key] == "*" for key in ("Host", "HTTPMethod", "URLPath", "ResourceARN"))


@pytest.mark.parametrize("function", sorted(FUNCTION_ROLES))
def test_functions_log_json_from_info_without_platform_lines(resources, function):
    properties = resources[function]["Properties"]
    group = f"{FUNCTION_ROLES[function].removesuffix('Role')}LogGroup"
    # INFO, not higher: EMF metric lines carry no level and Lambda files them as INFO. WARN system logs: no
    # START/END/REPORT line per invocation.
    assert properties["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                           "SystemLogLevel": "WARN", "LogGroup": {"Ref": group}}


@pytest.mark.parametrize("function", sorted(FUNCTION_ROLES))
def test_functions_run_on_arm64_and_sample_routine_logs(resources, function):
    properties = resources[function]["Properties"]
    assert properties["Architectures"] == ["arm64"]
    assert 0 < float(properties["Environment"]["Variables"]["POWERTOOLS_LOGGER_SAMPLE_RATE"]) <= 0.05


def test_the_big_vote_overrides_name_parameters_of_this_template(template):
    assert set(BIG_VOTE["Parameters"]) <= set(template["Parameters"])
    for name, value in BIG_VOTE["Parameters"].items():
        spec = template["Parameters"][name]
        if spec["Type"] == "Number":
            assert spec.get("MinValue", 0) <= value, name
    parameters = BIG_VOTE["Parameters"]
    # Within the table's per-table quota and the quotas the runbook asks for.
    assert parameters["BallotsWarmWriteUnitsPerSecond"] <= BIG_VOTE["Quotas"]["dynamodb_table_write_units"]["request"]
    assert parameters["ApiRateLimit"] <= BIG_VOTE["Quotas"]["api_account_rps"]["request"]
    assert parameters["ApiBurstLimit"] <= BIG_VOTE["Quotas"]["api_account_burst"]["request"]
    assert parameters["TallyReservedConcurrency"] >= parameters["BallotsWarmWriteUnitsPerSecond"] / 1000


# --- Cognito, dashboard -------------------------------------------------------------------------------------------

def test_cognito_pool_client_and_operators_group(resources):
    client = resources["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    # Browsers and phones sign in with SRP (the password never leaves the device); tools sign in through the admin
    # flow, which needs IAM credentials.
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                                               "ALLOW_ADMIN_USER_PASSWORD_AUTH"}
    assert client["IdTokenValidity"] == {"Ref": "IdTokenValidityMinutes"}
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    pool = resources["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "OPTIONAL" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["TALLY_OPERATOR_MFA"] == \
        {"Ref": "OperatorMfa"}
    assert resources["OperatorsGroup"]["Properties"]["GroupName"] == "operators"


def test_self_sign_up_is_a_parameter_closed_by_default_with_email_codes_and_recovery(template, resources):
    assert template["Parameters"]["SelfSignUp"]["Default"] == "closed"
    assert set(template["Parameters"]["SelfSignUp"]["AllowedValues"]) == {"closed", "open"}
    assert template["Conditions"]["SelfSignUpOpen"] == {"Fn::Equals": [{"Ref": "SelfSignUp"}, "open"]}
    pool = resources["UserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] == {"Fn::If": ["SelfSignUpOpen", False, True]}
    # Voters' usernames are their emails: no UsernameAttributes (a change would replace the pool), case-insensitive.
    assert "UsernameAttributes" not in pool and pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(policy[f"Require{kind}"] for kind in (
        "Lowercase", "Uppercase", "Numbers", "Symbols"))
    # Cognito's own mail (50 a day) unless an SES identity is named.
    assert template["Parameters"]["SesIdentityArn"]["Default"] == ""
    assert pool["EmailConfiguration"]["Fn::If"][0] == "MailsWithSes"
    assert pool["EmailConfiguration"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    client = resources["UserPoolClient"]["Properties"]
    assert client["ReadAttributes"] == ["email", "email_verified"] and client["WriteAttributes"] == ["email"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["TALLY_SELF_SIGNUP"] == \
        {"Ref": "SelfSignUp"}


def test_the_waf_is_a_parameter_off_by_default_with_one_rate_rule_per_ip_on_the_api_and_the_pool(
        template, resources):
    assert template["Parameters"]["Waf"]["Default"] == "off"
    assert template["Conditions"]["WafOn"] == {"Fn::Equals": [{"Ref": "Waf"}, "on"]}
    waf = {name: r for name, r in resources.items() if r["Type"].startswith("AWS::WAFv2::")}
    assert set(waf) == {"WafWebAcl", "WafApiAssociation", "WafUserPoolAssociation", "CdnWebAcl"}
    # CdnWebAcl, the distribution's: tests/package/test_cdn.py.
    assert all(r["Condition"] == "WafOn" for name, r in waf.items() if name != "CdnWebAcl")
    acl = resources["WafWebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Rules"]  # capacity/bill.py prices one rule
    limit = rule["Statement"]["RateBasedStatement"]
    assert limit["AggregateKeyType"] == "IP" and limit["Limit"] == {"Ref": "WafRateLimitPer5Min"}
    assert template["Parameters"]["WafRateLimitPer5Min"]["MinValue"] >= 10  # WAF's own minimum
    # Above the limit: a 429 the vote page backs off from, readable by the browser (CORS) and by both clients.
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
    assert int(headers["Retry-After"]) > 0 and headers["Access-Control-Allow-Origin"] == "*"
    body = json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert body["Code"] == "TooManyRequestsError" and body["__type"] == "TooManyRequestsException"
    # Nothing kept about a voter: no sampled requests (they hold the source IP and the Authorization header), no
    # WAF log.
    assert acl["VisibilityConfig"]["SampledRequestsEnabled"] is False
    assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False
    assert not [r for r in resources.values() if r["Type"] == "AWS::WAFv2::LoggingConfiguration"]
    api = resources["WafApiAssociation"]["Properties"]
    assert api["ResourceArn"] == {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/"
                                             "${RestAPI}/stages/${RestAPI.Stage}"}
    assert resources["WafUserPoolAssociation"]["Properties"]["ResourceArn"] == arn("UserPool")
    assert api["WebACLArn"] == resources["WafUserPoolAssociation"]["Properties"]["WebACLArn"] == arn("WafWebAcl")


def test_dashboard_bucket_is_private_and_read_only_by_its_distribution(resources):
    bucket = resources["DashboardBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True} and len(
        bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (statement,) = resources["DashboardBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert "${DashboardDistribution}" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    (origin,) = [o for o in resources["DashboardDistribution"]["Properties"]["DistributionConfig"]["Origins"]
                 if o["Id"] == "dashboard"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]}
    behaviour = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"


def csp_directives(policy: str) -> dict:
    return {name: " ".join(values) for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_the_dashboard_answers_with_its_own_security_headers(template, resources):
    behaviour = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "DashboardResponseHeadersPolicy"}
    config = resources["DashboardResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert all(header["Override"] is True for header in headers.values())
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert "ContentTypeOptions" in headers
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    csp = csp_directives(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == csp["object-src"] == csp["base-uri"] == "'none'"
    # The pages reach this stack's API (the origin of the EndpointURL the deploy gives config.json) and the
    # region's Cognito, and nothing else.
    api_origin = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    assert template["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"].startswith(api_origin + "/")
    assert csp["connect-src"].split() == ["'self'", api_origin, "https://cognito-idp.${AWS::Region}.amazonaws.com"]


def test_the_local_static_server_sends_the_same_policy_but_for_the_origins_it_connects_to(resources):
    from devstack.static_server import content_security_policy

    aws = csp_directives(resources["DashboardResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    local = csp_directives(content_security_policy("http://127.0.0.1:8000", "http://127.0.0.1:5000", "us-east-1"))
    assert local.pop("connect-src") == "'self' http://127.0.0.1:8000 http://127.0.0.1:5000"
    aws.pop("connect-src")
    assert local == aws
    on_aws = csp_directives(content_security_policy("https://abc.execute-api.eu-west-1.amazonaws.com/api", None,
                                                    "eu-west-1"))
    assert on_aws["connect-src"] == ("'self' https://abc.execute-api.eu-west-1.amazonaws.com "
                                     "https://cognito-idp.eu-west-1.amazonaws.com")


# --- alarms -------------------------------------------------------------------------------------------------------

def alarms(resources):
    return [r["Properties"] for r in of_type(resources, "AWS::CloudWatch::Alarm").values()]


def find_alarm(resources, namespace, metric, **dimensions):
    found = [a for a in alarms(resources) if a["Namespace"] == namespace and a["MetricName"] == metric
             and all({"Name": k, "Value": v} in a["Dimensions"] for k, v in dimensions.items())]
    assert len(found) == 1, (namespace, metric, dimensions)
    return found[0]


def test_alarms_watch_dead_letters_lag_errors_and_throttling(resources):
    dead = find_alarm(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                      QueueName={"Fn::GetAtt": ["TallyDeadLetterQueue", "QueueName"]})
    assert dead["Threshold"] == 0 and dead["ComparisonOperator"] == "GreaterThanThreshold"
    lag = find_alarm(resources, "AWS/Lambda", "IteratorAge", FunctionName={"Ref": "TallyBallots"})
    assert lag["Statistic"] == "Maximum" and 0 < lag["Threshold"] <= 60000
    api = {"ApiName": resources["RestAPI"]["Properties"]["Name"], "Stage": prod_stage()["api_gateway_stage"]}
    assert find_alarm(resources, "AWS/ApiGateway", "5XXError", **api)["Threshold"] == 0
    find_alarm(resources, "AWS/ApiGateway", "4XXError", **api)
    find_alarm(resources, "AWS/Lambda", "Throttles", FunctionName={"Ref": "APIHandler"})
    find_alarm(resources, "AWS/DynamoDB", "WriteThrottleEvents", TableName={"Ref": "BallotsTable"})
    for function in FUNCTION_ROLES:
        find_alarm(resources, "AWS/Lambda", "Errors", FunctionName={"Ref": function})


def test_alarms_watch_the_search_domain_latency_the_tally_function_and_old_dead_letters(template, resources):
    domain = {"DomainName": {"Ref": "SearchDomainName"}, "ClientId": {"Ref": "AWS::AccountId"}}
    storage = find_alarm(resources, "AWS/ES", "FreeStorageSpace", **domain)
    volume_mb = resources["SearchDomain"]["Properties"]["EBSOptions"]["VolumeSize"] * 1024
    assert storage["Statistic"] == "Minimum" and storage["Threshold"] == volume_mb / 4  # AWS: 25% of the volume
    assert find_alarm(resources, "AWS/ES", "ClusterIndexWritesBlocked", **domain)["Threshold"] == 1
    assert find_alarm(resources, "AWS/ES", "JVMMemoryPressure", **domain)["Threshold"] == 95
    assert find_alarm(resources, "AWS/ES", "CPUUtilization", **domain)["Threshold"] == 80
    api = {"ApiName": resources["RestAPI"]["Properties"]["Name"], "Stage": prod_stage()["api_gateway_stage"]}
    latency = find_alarm(resources, "AWS/ApiGateway", "Latency", **api)
    assert latency["ExtendedStatistic"] == "p99" and "Statistic" not in latency
    tally = {"FunctionName": {"Ref": "TallyBallots"}}
    assert find_alarm(resources, "AWS/Lambda", "Throttles", **tally)["Threshold"] == 0
    duration = find_alarm(resources, "AWS/Lambda", "Duration", **tally)
    # Near the timeout: a batch that times out is retried, bisected, then dead-lettered.
    assert duration["Threshold"] == 0.8 * resources["TallyBallots"]["Properties"]["Timeout"] * 1000
    age = find_alarm(resources, "AWS/SQS", "ApproximateAgeOfOldestMessage",
                     QueueName={"Fn::GetAtt": ["TallyDeadLetterQueue", "QueueName"]})
    assert 0 < age["Threshold"] < resources["TallyDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"]


def test_every_alarm_says_what_to_do_and_the_dead_letter_ones_point_to_the_repair(resources):
    for alarm in alarms(resources):
        assert len(alarm["AlarmDescription"]) > 80, alarm["MetricName"]
    operating = (ROOT / "docs" / "operating.md").read_text()
    for alarm in alarms(resources):
        if alarm["Namespace"] == "AWS/SQS" or alarm["MetricName"] == "ClusterIndexWritesBlocked":
            assert "make reconcile POLL=" in alarm["AlarmDescription"], alarm["MetricName"]
            assert "REPAIR=1" in alarm["AlarmDescription"] and "docs/operating.md" in alarm["AlarmDescription"]
    # docs/operating.md lists every alarm by its logical id.
    for name in of_type(resources, "AWS::CloudWatch::Alarm"):
        assert f"`{name}`" in operating, name


def test_every_alarm_notifies(resources):
    for alarm in alarms(resources):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], alarm["MetricName"]
        assert alarm["TreatMissingData"] == "notBreaching"


# --- cfn-lint -----------------------------------------------------------------------------------------------------

def test_cfn_lint_finds_no_error(packaged):
    # No check is ignored. Warnings (W) and informational findings (I) would be shown but not fail the test;
    # errors (E) fail it.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
         "--format", "parseable", "--include-checks", "I", "--", str(packaged)],
        capture_output=True, text=True, timeout=240)
    findings = result.stdout.splitlines()
    errors = [line for line in findings if re.search(r":E\d{4}:", line)]
    assert not errors, "\n".join(findings)
    assert result.returncode in (0, 4, 8, 12), result.stderr  # cfn-lint: 2 = errors, 4 = warnings, 8 = info
    print("\n".join(findings) or "cfn-lint: no findings")


def test_api_gateways_own_answers_carry_the_apis_security_headers(resources):
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    for name, response in body["x-amazon-apigateway-gateway-responses"].items():
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'", name
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'", name
