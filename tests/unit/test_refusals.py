"""Every route answers every domain refusal in the API's shape, by the refusal's class: registered once, in the
Blueprint every route goes through, so no route can forget and no new kind of refusal falls through to a 500."""
import json

import pytest

from app import app
from chalicelib.api.errors import answers_refusals
from chalicelib.domain import errors


def test_every_route_the_app_serves_goes_through_the_mapping():
    views = {(method, path): entry.view_function for path, methods in app.routes.items()
             for method, entry in methods.items()}
    assert len(views) >= 9
    unmapped = [route for route, view in views.items() if not getattr(view, "tally_answers_refusals", False)]
    assert unmapped == []


class TooEarly(errors.Conflict):
    """A refusal kind the mapping has never heard of."""


class Odd(errors.TallyError):
    pass


@pytest.mark.parametrize("refusal, status, code", [
    (errors.Invalid("x"), 400, "BadRequestError"),
    (errors.Forbidden("x"), 403, "ForbiddenError"),
    (errors.NotFound("x"), 404, "NotFoundError"),
    (errors.Conflict("x"), 409, "ConflictError"),
    (errors.Throttled("x"), 429, "TooManyRequestsError"),
    (TooEarly("x"), 409, "ConflictError"),
    (Odd("x"), 400, "BadRequestError"),
])
def test_each_refusal_answers_with_its_status_and_the_apis_shape(refusal, status, code):
    def view(poll_id):
        raise refusal
    response = answers_refusals(view)(poll_id="p")
    assert response.status_code == status
    assert json.loads(json.dumps(response.body)) == {"Code": code, "Message": "x"}
    assert ("Retry-After" in response.headers) == (status == 429)
