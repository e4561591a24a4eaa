"""openapi.yaml is the API reference: it must be a valid OpenAPI document and match the routes the app serves."""
import ast
import base64
import json
import re
from pathlib import Path

import chalice
import pytest
import yaml
from chalice.test import Client
from openapi_spec_validator import validate

from app import app
from chalicelib import runtime
from chalicelib.api.auth import is_public as is_public_route
from chalicelib.api.requests import MAX_BODY_BYTES, MAX_ROLL_BODY_BYTES
from chalicelib.domain.limits import client_limits
from chalicelib.domain.roll import ENTRY_PATTERN, MAX_ENTRY
from devstack.processes import free_port
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
    return is_public_route(app_routes().get(route))


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


def closed_url(path=""):
    return f"http://127.0.0.1:{free_port()}{path}"  # bound and released: nothing listens there


def unverifiable_token():
    """A well-formed RS256 token whose key must be fetched before it can be judged."""
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return ".".join((part({"alg": "RS256", "kid": "not-fetched-yet", "typ": "JWT"}), part({"sub": "x"}), "c2ln"))


@pytest.fixture
def nothing_reachable(monkeypatch, tmp_path):
    """Every store and the user pool's signing keys refuse connections, as while moto restarts."""
    for name, value in {"AWS_ENDPOINT_URL_DYNAMODB": closed_url(), "AWS_ENDPOINT_URL_SECRETS_MANAGER": closed_url(),
                        "TALLY_COGNITO_ENDPOINT": closed_url(), "TALLY_JWKS_URL": closed_url("/jwks.json"),
                        "TALLY_USER_POOL_ID": "us-east-1_unreachable", "TALLY_INDEX_PATH": str(tmp_path / "index"),
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    yield
    runtime.reset()


def test_every_route_that_can_answer_503_declares_it_with_retry_after(spec, nothing_reachable):
    """Asked with nothing reachable, every route answers 503 with Retry-After but those that need no store (the
    liveness check, the client's settings); the spec declares the 503 on exactly the others."""
    unavailable = set()
    with Client(app) as client:
        for method, path in app_routes():
            url = path.replace("{poll_id}", "colours").replace("{candidate}", "red")
            url += "?deep=1" if path == "/health" else ""
            reply = client.http.request(method, url, body=b'{"poll_id": "colours"}' if method == "POST" else b"",
                                        headers={"Authorization": f"Bearer {unverifiable_token()}",
                                                 "Content-Type": "application/json"})
            if reply.status_code == 503:
                assert json.loads(reply.body)["Code"] == "ServiceUnavailableError", (method, path)
                assert int(reply.headers["Retry-After"]) >= 1, (method, path)
                unavailable.add((method, path))
            else:
                assert reply.status_code in (200, 304), (method, path, reply.status_code, reply.body)
    assert set(app_routes()) - unavailable == {("GET", "/health"), ("GET", "/config")}
    declared = {route for route, operation in operations(spec).items() if "503" in operation["responses"]}
    assert declared == unavailable, f"declared, not answered: {sorted(declared - unavailable)}; " \
                                    f"answered, not declared: {sorted(unavailable - declared)}"
    for route in declared:
        assert "Retry-After" in resolve(spec, operations(spec)[route]["responses"]["503"])["headers"], route


CODE = re.compile(r"[A-Z][A-Za-z]+(Error|MediaType)")


def codes_in_python(path):
    """The string literals of a module that are an error Code (docstrings and messages are not one word)."""
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value)}


def strings_in(document):
    if isinstance(document, dict):
        document = list(document.values())
    if isinstance(document, list):
        return [s for item in document for s in strings_in(item)]
    return [document] if isinstance(document, str) else []


def codes_the_api_sends():
    """Every Code an answer of the API can carry: the app's (chalicelib), the local server's (devstack/api.py),
    API Gateway's gateway responses on a stage (infra/api.json) and Chalice's own refusals."""
    root = project_root()
    modules = [*(root / "chalicelib").rglob("*.py"), root / "devstack" / "api.py"]
    sent = set().union(*(codes_in_python(module) for module in modules))
    gateway = json.loads((root / "infra" / "api.json").read_text(encoding="utf-8"))
    sent |= {code for template in strings_in(gateway) for code in re.findall(r'"Code": "(\w+)"', template)}
    chalice_app = (Path(chalice.__file__).parent / "app.py").read_text(encoding="utf-8")
    sent |= set(re.findall(r"error_code='(\w+)'", chalice_app))
    # Chalice's BadRequest refuses a binary answer to a caller whose Accept does not name its type: Tally answers
    # JSON and text/csv, neither of them binary.
    assert not {"application/json", "text/csv"} & set(app.api.binary_types)
    return sent - {"BadRequest"}


def test_the_error_schema_names_every_code_the_api_sends_and_no_other(spec):
    sent = codes_the_api_sends()
    assert {"ServiceUnavailableError", "MethodNotAllowedError", "UnsupportedMediaType", "PayloadTooLargeError",
            "RequestHeaderFieldsTooLargeError"} <= sent  # the scan finds what it looks for
    declared = set(spec["components"]["schemas"]["Error"]["properties"]["Code"]["enum"])
    assert declared == sent, f"sent, not declared: {sorted(sent - declared)}; declared, never sent: " \
                             f"{sorted(declared - sent)}"
    examples = [resolve(spec, response)["content"]["application/json"].get("example")
                for operation in operations(spec).values()
                for status, response in operation["responses"].items() if status.startswith(("4", "5"))]
    assert {example["Code"] for example in examples if example} <= declared
