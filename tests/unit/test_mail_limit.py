"""A roll's invitation when Cognito has sent its day's mail: a 429 that says it resets tomorrow (and waits until
then), not "send again in a moment", which no resend could satisfy. Cognito's answers are given with botocore's
tests/aws_answers.py, as Cognito words them: moto never refuses mail."""
import boto3
import pytest

from chalicelib.adapters.cognito_directory import CognitoDirectory
from chalicelib.api.errors import refusal_response
from chalicelib.domain.errors import Throttled
from tally_client.resend import Backoff, send_until_answered
from tests.aws_answers import answer, error

DAILY = ("Exceeded daily email limit for the operation or the account. If a higher limit is required, please "
         "configure your user pool to use your own Amazon SES configuration for sending email.")


def directory_answering(code, message):
    calls = []
    client = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    answer(client, {"AdminGetUser": error("UserNotFoundException", "User does not exist."),
                    "AdminCreateUser": error(code, message)}, calls)
    return CognitoDirectory(client, "eu-west-1_pool"), calls


def test_cognitos_daily_mail_limit_is_a_429_until_tomorrow():
    directory, calls = directory_answering("LimitExceededException", DAILY)
    with pytest.raises(Throttled) as refused:
        directory.invite("new@example.com")
    assert ("AdminCreateUser", {"UserPoolId": "eu-west-1_pool", "Username": "new@example.com",
                                "DesiredDeliveryMediums": ["EMAIL"],
                                "UserAttributes": [{"Name": "email", "Value": "new@example.com"},
                                                   {"Name": "email_verified", "Value": "true"}]}) in calls
    assert "tomorrow" in str(refused.value) and "SesIdentityArn" in str(refused.value)
    assert "in a moment" not in str(refused.value)
    assert 1 <= refused.value.retry_after_s <= 24 * 3600
    answer = refusal_response(refused.value)
    assert answer.status_code == 429 and answer.body["Code"] == "TooManyRequestsError"
    assert answer.headers["Retry-After"] == str(refused.value.retry_after_s)
    # The clients' resend policy (tally_client/resend.py; the dashboard's sendSettled likewise) gives up at once
    # rather than sending again for half a minute: the wait the answer asks for is past its deadline.
    sent = []
    status, headers, _ = send_until_answered(lambda: sent.append(1) or (429, answer.headers, answer.body),
                                             Backoff(), sleep=lambda s: pytest.fail("slept"))
    assert status == 429 and len(sent) == 1


def test_a_rate_limit_of_the_user_pool_is_still_a_429_to_send_again_in_a_moment():
    directory, _ = directory_answering("LimitExceededException", "Rate exceeded")
    with pytest.raises(Throttled) as refused:
        directory.invite("new@example.com")
    assert "in a moment" in str(refused.value) and refused.value.retry_after_s == 0
    assert refusal_response(refused.value).headers["Retry-After"] == "1"
