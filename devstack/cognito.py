"""The local user pool: created from infra/cognito.json, the template's own definition. Its users are made and
signed in to as in any pool, by tally_client/signin.py."""
from typing import Any, Dict, Iterable, Mapping, Tuple

from infra import piece

TEMPLATE = piece("cognito")
RESOURCES = TEMPLATE["Resources"]
OPERATORS_GROUP = RESOURCES["OperatorsGroup"]["Properties"]["GroupName"]
# The pool's and the client's properties that decide how sign-up and sign-in behave; moto takes them as they are.
POOL_PROPERTIES = ("Policies", "AdminCreateUserConfig", "MfaConfiguration", "AutoVerifiedAttributes",
                   "AccountRecoverySetting", "UserAttributeUpdateSettings", "UsernameConfiguration")
CLIENT_PROPERTIES = ("ClientName", "GenerateSecret", "ExplicitAuthFlows", "ReadAttributes", "WriteAttributes",
                     "PreventUserExistenceErrors")
# The local stack lets voters sign up (its .chalice/config.json says TALLY_SELF_SIGNUP=open); no SES here.
LOCAL_PARAMETERS = {"SelfSignUp": "open", "SesIdentityArn": ""}


class Unresolvable(ValueError):
    """The template uses an intrinsic function the local pool cannot evaluate: teach resolve() rather than pass
    it to moto as it is."""


_NO_VALUE = object()


def resolve(value: Any, parameters: Mapping[str, Any], conditions: Mapping[str, Any] = None) -> Any:
    """The value CloudFormation would give `value` for these parameters: Ref to a parameter, Fn::If on one of the
    piece's Conditions (Fn::Equals, Fn::Not, Condition), and AWS::NoValue, which drops the key that holds it."""
    conditions = TEMPLATE.get("Conditions", {}) if conditions is None else conditions

    def condition(name: str) -> bool:
        return bool(evaluate(conditions[name]))

    def evaluate(node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (evaluate(i) for i in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, argument), = node.items()
            if key == "Ref":
                if argument == "AWS::NoValue":
                    return _NO_VALUE
                if argument not in parameters:
                    raise Unresolvable(f"Ref {argument}: no local value for it")
                return parameters[argument]
            if key == "Condition":
                return condition(argument)
            if key == "Fn::If":
                name, if_true, if_false = argument
                return evaluate(if_true if condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = (evaluate(side) for side in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                (inner,) = argument
                return not evaluate(inner)
            if key.startswith("Fn::"):
                raise Unresolvable(f"{key} is not evaluated for the local pool")
        resolved = {key: evaluate(item) for key, item in node.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    return evaluate(value)


def local_parameters(**overrides: str) -> Dict[str, Any]:
    """The template's parameter defaults, with the local stack's own values and then `overrides` over them."""
    defaults = {name: spec.get("Default") for name, spec in TEMPLATE.get("Parameters", {}).items()}
    return {**defaults, **LOCAL_PARAMETERS, **overrides}


def local_properties(logical_id: str, keys: Iterable[str], parameters: Mapping[str, Any]) -> Dict[str, Any]:
    """Those of a resource's properties the local pool takes, as the template resolves them for `parameters`."""
    properties = RESOURCES[logical_id]["Properties"]
    return resolve({key: properties[key] for key in keys if key in properties}, parameters)


def create_pool(cognito, name: str = "tally-local", self_signup: str = LOCAL_PARAMETERS["SelfSignUp"]
                ) -> Tuple[str, str]:
    """Create the pool, its web app client (SRP, refresh, admin password sign-in; no secret) and the operators
    group, with the properties the template gives them that decide how sign-up and sign-in behave, resolved for
    the local stack's parameters (self_signup: "open" or "closed", the template's SelfSignUp)."""
    parameters = local_parameters(SelfSignUp=self_signup)
    pool = local_properties("UserPool", POOL_PROPERTIES, parameters)
    client = local_properties("UserPoolClient", CLIENT_PROPERTIES, parameters)
    group = RESOURCES["OperatorsGroup"]["Properties"]
    pool_id = cognito.create_user_pool(PoolName=name, **pool)["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=pool["MfaConfiguration"],
                                     SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in
                                                                    RESOURCES["UserPool"]["Properties"]["EnabledMfas"]})
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, **client)["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName=group["GroupName"], Description=group["Description"])
    return pool_id, client_id
