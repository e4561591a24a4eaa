"""The local user pool is made from infra/cognito.json resolved for the local stack's parameters (devstack/cognito.py):
sign-up open unless asked otherwise, and the same sign-up, recovery and attribute settings AWS gets."""
import pytest

from devstack import cognito

CONDITIONS = {"On": {"Fn::Equals": [{"Ref": "Switch"}, "on"]}, "Off": {"Fn::Not": [{"Condition": "On"}]},
              "NotOn": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Switch"}, "on"]}]}}


def test_fn_if_refs_and_no_value_resolve_as_cloudformation_would():
    value = {"A": {"Fn::If": ["On", 1, 2]}, "B": {"Fn::If": ["NotOn", "x", {"Ref": "AWS::NoValue"}]},
             "F": {"Fn::If": ["Off", "off", "on"]},
             "C": [{"Ref": "Switch"}, {"Fn::If": ["On", {"Ref": "AWS::NoValue"}, "kept"]}], "D": {"E": "plain"}}
    assert cognito.resolve(value, {"Switch": "on"}, CONDITIONS) == {"A": 1, "C": ["on"], "D": {"E": "plain"},
                                                                    "F": "on"}
    assert cognito.resolve(value, {"Switch": "off"}, CONDITIONS) == {"A": 2, "B": "x", "C": ["off", "kept"],
                                                                     "D": {"E": "plain"}, "F": "off"}


def test_what_it_cannot_evaluate_is_an_error_not_passed_on_to_moto():
    with pytest.raises(cognito.Unresolvable, match="Fn::Sub"):
        cognito.resolve({"Name": {"Fn::Sub": "${AWS::StackName}-users"}}, {})
    with pytest.raises(cognito.Unresolvable, match="Missing"):
        cognito.resolve({"Ref": "Missing"}, {})


def test_the_local_pool_is_open_to_sign_up_and_recovers_by_verified_email():
    pool = cognito.local_properties("UserPool", cognito.POOL_PROPERTIES, cognito.local_parameters())
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": False}
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    closed = cognito.local_properties("UserPool", cognito.POOL_PROPERTIES, cognito.local_parameters(
        SelfSignUp="closed"))
    assert closed["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}


def test_the_local_client_reads_and_writes_the_attributes_the_template_lets_it():
    client = cognito.local_properties("UserPoolClient", cognito.CLIENT_PROPERTIES, cognito.local_parameters())
    assert client["ReadAttributes"] == ["email", "email_verified"] and client["WriteAttributes"] == ["email"]
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"] and client["GenerateSecret"] is False
