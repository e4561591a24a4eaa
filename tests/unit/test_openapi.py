"""openapi.yaml is the API reference: it must be a valid OpenAPI document and match the routes the app serves."""

import pytest
import yaml
from openapi_spec_validator import validate

from app import app
from chalicelib.api.requests import MAX_BODY_BYTES, MAX_ROLL_BODY_BYTES
from chalicelib.domain.limits import client_limits
from chalicelib.domain.roll import ENTRY_PATTERN, MAX_ENTRY
from infra import project_root

SPEC_PATH = project_root() / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
ID_PATTERN = client_limits()["id_pattern"]
BEARER = {"bearerAuth": []}



@pytest.fixture(scope="module")
def spec():
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def operations(spec):
    """(METHOD, path) -> operation object, for every operation in the spec."""
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def app_routes():
    """(METHOD, path) -> Chalice RouteEntry, for every route the app serves."""
    return {(method, path): entry for path, methods in app.routes.items() for method, entry in methods.items()}


def is_public(route):
    entry = app_routes().get(route)
    return entry is not None and getattr(entry.view_function, "tally_public", False)


def resolve(spec, obj):
    """Follow a local $ref such as #/components/responses/Unauthorized."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def test_the_spec_is_valid_openapi_3_0(spec):
    assert spec["openapi"].startswith("3.0.")
    validate(spec)


def test_the_spec_documents_exactly_the_routes_the_app_serves(spec):
    documented = set(operations(spec))
    served = set(app_routes())
    assert served <= documented, f"served but not documented: {sorted(served - documented)}"
    assert documented <= served, f"documented but not served: {sorted(documented - served)}"


def test_bearer_auth_is_the_global_default(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [BEARER]


def test_routes_that_need_a_token_say_so_and_public_ones_do_not(spec):
    public = {route for route in app_routes() if is_public(route)}
    assert public == {("GET", "/health"), ("GET", "/config"), ("GET", "/public/polls/{poll_id}")}
    for route, operation in operations(spec).items():
        if route in public:
            assert operation.get("security") == [], f"{route} is public: it needs `security: []`"
            continue
        security = operation.get("security", spec.get("security", []))
        assert BEARER in security, f"{route} needs a token: it must use bearerAuth"
        assert "401" in operation["responses"], f"{route} needs a token: it must document 401"


def test_routes_with_a_body_document_400_and_413(spec):
    with_body = {route for route, op in operations(spec).items() if route[0] != "GET" and "requestBody" in op}
    assert {("POST", "/polls"), ("POST", "/votes/{candidate}")} <= with_body
    for route in with_body:
        responses = operations(spec)[route]["responses"]
        missing = {"400", "413"} - set(responses)
        assert not missing, f"{route} takes a body: it must document {sorted(missing)}"


def test_every_error_response_uses_the_error_schema(spec):
    for route, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            schema = resolve(spec, response)["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, f"{route} {status}"


def test_every_path_parameter_is_an_id(spec):
    for path, item in spec["paths"].items():
        for operation in [item] + [op for method, op in item.items() if method in HTTP_METHODS]:
            for parameter in (resolve(spec, p) for p in operation.get("parameters", [])):
                if parameter["in"] == "path":
                    schema = resolve(spec, parameter["schema"])
                    assert schema["pattern"] == ID_PATTERN, f"{path} {parameter['name']}"


def test_no_id_can_collide_with_a_fixed_path_segment():
    """Where a route has {candidate} or {poll_id}, a sibling route may have a fixed word in the same place: such
    a word must be refused as an id, or that id could be created and never reached."""
    from chalicelib.domain.polls import RESERVED_IDS

    paths = [path.strip("/").split("/") for path in app.routes]
    fixed_beside_ids = set()
    for parts in paths:
        for other in paths:
            if len(other) == len(parts) and parts[:-1] == other[:-1] and parts[-1].startswith("{") \
                    and not other[-1].startswith("{"):
                fixed_beside_ids.add(other[-1])
    assert fixed_beside_ids == {"mine"}
    assert fixed_beside_ids <= RESERVED_IDS


def test_the_spec_states_the_limits_the_domain_keeps(spec):
    schemas, rules = spec["components"]["schemas"], client_limits()
    assert schemas["Id"]["pattern"] == rules["id_pattern"]
    create = schemas["PollCreate"]["properties"]
    assert create["title"]["maxLength"] == rules["max_title"]
    assert (create["candidates"]["minItems"], create["candidates"]["maxItems"]) == \
        (rules["min_candidates"], rules["max_candidates"])
    assert create["expected_peak_votes_per_s"]["maximum"] == rules["max_peak_votes_per_s"]
    assert schemas["Candidate"]["properties"]["label"]["maxLength"] == rules["max_label"]
    assert schemas["CandidateInput"]["properties"]["label"]["maxLength"] == rules["max_label"]
    assert f"{MAX_BODY_BYTES} bytes" in spec["components"]["responses"]["PayloadTooLarge"]["description"]
    assert f"{MAX_ROLL_BODY_BYTES} bytes" in spec["components"]["responses"]["RollTooLarge"]["description"]
    assert set(schemas["ClientConfig"]["properties"]["limits"]["required"]) == \
        {*rules, "max_body_bytes", "max_roll_body_bytes"}
    for name in ("RollRequest", "RollRemoval"):
        voters = schemas[name]["properties"]["voters"]
        assert voters["maxItems"] == rules["max_roll_batch"]
        assert (voters["items"]["pattern"], voters["items"]["maxLength"]) == (ENTRY_PATTERN, MAX_ENTRY)
