"""AWS's answers for the calls moto does not implement (Lambda's GetAccountSettings, Service Quotas for Cognito,
SES v2), given to a real boto3 client at the same hook botocore's Stubber uses: a `before-call` handler returns the
parsed answer and the request is never sent. Unlike Stubber, answers are looked up by operation, not queued in call
order, so a test says what the account has, not the order the code asks in; calls it does not answer go on to moto.
Each request is still checked against the service's model, as Stubber checks it.
"""
from typing import Callable, Dict, List, Union

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

Answer = Union[dict, Callable[[dict], dict]]


def error(code: str, message: str = "", status: int = 400) -> dict:
    return {"Error": {"Code": code, "Message": message}, "_status": status}


def answer(client, answers: Dict[str, Answer], calls: List[tuple] = None):
    """Answer `client`'s operations (by name, e.g. "GetAccountSettings") from `answers`; record each in `calls`."""
    def checked(model, params, context, **kwargs):
        if model.name in answers:
            validate_parameters(params, model.input_shape)
            context["answered_params"] = dict(params)
            if calls is not None:
                calls.append((model.name, dict(params)))

    def answered(model, context, **kwargs):
        if model.name not in answers:
            return None
        found = answers[model.name]
        found = dict(found(context["answered_params"]) if callable(found) else found)
        status = found.pop("_status", 200)
        found["ResponseMetadata"] = {"HTTPStatusCode": status}
        return AWSResponse(None, status, {}, None), found

    client.meta.events.register("before-parameter-build", checked)
    client.meta.events.register("before-call", answered)
    return client
