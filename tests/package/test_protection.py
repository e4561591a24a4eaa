"""What keeps the ledger and the accounts from being lost, and a broadcast's functions warm: deletion protection, the
roll's writes bounded to their transactions, the user pool's feature plan, the API function's alias and its
provisioned concurrency (checked on the packaged template, and after the SAM transform)."""
import json

from infra import build_template, project_root
from tests.package.test_transform import transform

ROOT = project_root()
TABLES = ("PollsTable", "BallotsTable", "TalliesTable", "RollsTable")
IN_A_TRANSACTION = {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}


def statements(resources, role):
    for policy in resources[role]["Properties"]["Policies"]:
        yield from policy["PolicyDocument"]["Statement"]


def test_every_table_and_the_user_pool_refuse_deletion_until_protection_is_turned_off(resources):
    for name in TABLES:
        table = resources[name]
        assert table["Properties"]["DeletionProtectionEnabled"] is True, name
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain", name
    pool = resources["UserPool"]
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"


def test_the_user_pool_is_on_the_lite_plan_it_needs_nothing_beyond(resources):
    pool = resources["UserPool"]["Properties"]
    assert pool["UserPoolTier"] == "LITE"
    # What would need Essentials or Plus is not configured: threat protection (UserPoolAddOns), password history,
    # email-message MFA, passwordless sign-in (SignInPolicy), managed login branding.
    assert "UserPoolAddOns" not in pool and "SignInPolicy" not in pool
    assert "PasswordHistorySize" not in pool["Policies"]["PasswordPolicy"]
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert not [r for r in resources.values() if r["Type"] == "AWS::Cognito::ManagedLoginBranding"]


def test_the_api_role_deletes_ballots_and_moves_tallies_only_inside_the_roll_transactions(resources):
    conditional, plain = {}, {}
    for statement in statements(resources, "ApiHandlerRole"):
        for action in statement["Action"]:
            for resource in (statement["Resource"] if isinstance(statement["Resource"], list)
                             else [statement["Resource"]]):
                target = resource.get("Fn::GetAtt", [None])[0] if isinstance(resource, dict) else resource
                (conditional if statement.get("Condition") else plain).setdefault(action, set()).add(target)
                if statement.get("Condition"):
                    assert statement["Condition"] == IN_A_TRANSACTION, statement["Sid"]
    assert conditional == {"dynamodb:DeleteItem": {"BallotsTable", "RollsTable"},
                           "dynamodb:UpdateItem": {"TalliesTable"}, "dynamodb:PutItem": {"RollsTable"}}
    # Outside a transaction: no ballot deleted, no tally or roll entry written. The ballot's UpdateItem is the
    # roll vote (DynamoBallotLedger.fill), a single write by design (infra/iam.json says why).
    assert "BallotsTable" not in plain["dynamodb:DeleteItem"] if "dynamodb:DeleteItem" in plain else True
    assert "TalliesTable" not in plain["dynamodb:UpdateItem"] and "BallotsTable" in plain["dynamodb:UpdateItem"]
    assert "RollsTable" not in plain.get("dynamodb:PutItem", set())
    assert "es:ESHttpGet" not in plain and "es:ESHttpGet" not in conditional


def test_the_roll_writes_the_role_bounds_are_the_ones_the_roll_store_makes_in_its_transactions():
    # chalicelib/adapters/dynamo_roll.py writes the roll's Put, Delete and Update items only inside
    # transact_write_items, and no other adapter the API runs calls delete_item at all.
    source = (ROOT / "chalicelib" / "adapters" / "dynamo_roll.py").read_text()
    assert "transact_write_items" in source
    assert ".delete_item(" not in source and ".update_item(" not in source and ".put_item(" not in source
    for path in (ROOT / "chalicelib").rglob("*.py"):
        assert ".delete_item(" not in path.read_text(), path


def test_provisioned_concurrency_is_a_parameter_on_the_alias_api_gateway_invokes(template, resources):
    parameter = template["Parameters"]["ApiProvisionedConcurrency"]
    assert parameter["Default"] == 0 and parameter["MinValue"] == 0
    api = resources["APIHandler"]["Properties"]
    assert api["AutoPublishAlias"] == "live" and api["AutoPublishAliasAllProperties"] is True
    assert api["ProvisionedConcurrencyConfig"] == {"Fn::If": [
        "HasApiProvisionedConcurrency", {"ProvisionedConcurrentExecutions": {"Ref": "ApiProvisionedConcurrency"}},
        {"Ref": "AWS::NoValue"}]}
    # Every route invokes the alias (provisioned environments serve only the alias), and may.
    for path, methods in resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"].items():
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            if integration.get("type") == "aws_proxy":
                assert integration["uri"] == build_template.API_ALIAS_INVOCATION, (method, path)
    assert resources["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "APIHandler.Alias"}


def test_after_the_transform_the_alias_holds_the_provisioned_concurrency_and_the_permission(template):
    transformed = transform(template)["Resources"]
    (alias_id,) = [name for name, r in transformed.items() if r["Type"] == "AWS::Lambda::Alias"]
    alias = transformed[alias_id]["Properties"]
    assert alias["Name"] == "live" and alias["FunctionName"] == {"Ref": "APIHandler"}
    assert alias["ProvisionedConcurrencyConfig"]["Fn::If"][0] == "HasApiProvisionedConcurrency"
    assert transformed["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": alias_id}
    body = json.dumps(transformed["RestAPI"]["Properties"]["Body"]["paths"])
    assert "APIHandler.Arn" not in body and "APIHandler.Alias" not in body
    assert body.count(json.dumps({"Alias": {"Ref": alias_id}})) == body.count('"aws_proxy"') > 0
    # The tally function has no alias: its stream mapping and reservation stay on the function.
    assert "AutoPublishAlias" not in template["Resources"]["TallyBallots"]["Properties"]
