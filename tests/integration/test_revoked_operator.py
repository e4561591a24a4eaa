"""A revoked operator gets the voter's view of results (issue 18, part 6): their token still says "operators"
for up to an hour, but results a voter may not see yet go by the user pool, asked at most once per poll cache
lifetime (TALLY_POLL_CACHE_SECONDS: 0.2 s in these tests, 5 s on a stage)."""
import time

import pytest

from devstack import cognito
from tests.integration.helpers import COLOURS, body, create, wait_until


def results(client, headers):
    return client.get("/polls/colours/results", headers=headers)


REVOCATIONS = {
    "removed from the group": lambda idp, pool: idp.admin_remove_user_from_group(
        UserPoolId=pool, Username="olga", GroupName=cognito.OPERATORS_GROUP),
    "disabled": lambda idp, pool: idp.admin_disable_user(UserPoolId=pool, Username="olga"),
    "deleted": lambda idp, pool: idp.admin_delete_user(UserPoolId=pool, Username="olga"),
}


@pytest.mark.parametrize("revoke", REVOCATIONS.values(), ids=REVOCATIONS.keys())
def test_a_revoked_operator_sees_after_close_results_only_once_the_poll_closes(client, stack, revoke):
    assert create(client, stack, {**COLOURS, "results": "after_close"}).status_code == 201
    headers = stack.operator()  # the token keeps saying "operators" after the revocation
    assert results(client, headers).status_code == 200
    voters_view = results(client, stack.voter())
    assert voters_view.status_code == 403

    revoke(stack.idp, stack.pool_id)
    wait_until(lambda: results(client, headers).status_code == 403, timeout=2, message="the revoked operator refused")
    assert body(results(client, headers)) == body(voters_view)  # the voter's view, word for word

    # Until the close: then they see the results as any voter does.
    other = stack.auth("oscar", [cognito.OPERATORS_GROUP])
    assert client.post("/polls/colours/close", headers=other).status_code == 200
    wait_until(lambda: results(client, headers).status_code == 200, message="the results shown once closed")
    assert body(results(client, headers)) == body(results(client, stack.voter()))


def test_results_kept_from_operators_only_are_refused_to_a_removed_operator_even_after_the_close(client, stack):
    assert create(client, stack, {**COLOURS, "results": "operators"}).status_code == 201
    headers = stack.operator()
    assert results(client, headers).status_code == 200
    REVOCATIONS["removed from the group"](stack.idp, stack.pool_id)
    wait_until(lambda: results(client, headers).status_code == 403, timeout=2, message="refused")


def test_a_dashboard_polling_results_asks_the_pool_at_most_once_per_cache_lifetime(client, stack):
    from chalicelib import runtime

    assert create(client, stack, {**COLOURS, "results": "after_close"}).status_code == 201
    headers = stack.operator()
    asked = []
    runtime.get().directory._client.meta.events.register(
        "before-call.cognito-idp.AdminGetUser", lambda **_: asked.append(time.monotonic()))
    started = time.monotonic()
    for _ in range(40):
        assert results(client, headers).status_code == 200
    lifetimes = (time.monotonic() - started) / stack.settings.poll_cache_seconds
    assert 1 <= len(asked) <= lifetimes + 1, (len(asked), lifetimes)

    # A live poll's results are the same for everyone: reading them asks the pool nothing.
    assert create(client, stack, {**COLOURS, "poll_id": "live"}).status_code == 201
    asked.clear()
    for _ in range(10):
        assert client.get("/polls/live/results", headers=headers).status_code == 200
    assert asked == []
