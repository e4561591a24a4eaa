"""The edges of the local server and of token claims (issue 18, part 6), through the API as callers reach it:
malformed chunk sizes, tokens Cognito never issues, oversized tokens, a store that cannot be reached, and an
access log that names routes rather than paths."""
import json
import socket
import time

import requests

from chalicelib import runtime
from devstack.processes import free_port
from tests.integration.helpers import body, call, create, resign


def port_of(api):
    return int(api.rsplit(":", 1)[1])


def exchange(port, request: bytes, then: bytes = b"", timeout=5.0) -> bytes:
    """Send `request`, then keep sending `then` (if any) while reading, without ever closing our side: what the
    server answers before the deadline."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        sock.settimeout(0.05)
        deadline, received = time.monotonic() + timeout, b""
        while time.monotonic() < deadline:
            try:
                if then:
                    sock.sendall(then)
            except OSError:  # the server closed the connection: read what it said
                then = b""
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            received += data
        return received


def status_and_code(reply: bytes):
    head, _, payload = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(payload)["Code"]


def test_a_chunk_size_that_is_not_hex_digits_is_a_400_before_authentication_and_nothing_more_is_read(api):
    for size in (b"-1", b"-10", b"0x10", b"+5", b"1_0", b"zz", b"", b" ", b"1" * 17):
        request = (b"POST /polls HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Content-Type: application/json\r\n\r\n" + size + b"\r\n")
        # What follows a -1 would be read to the end of the stream: a megabyte a round, as long as it is read.
        reply = exchange(port_of(api), request, then=b"x" * 1024 * 1024)
        assert reply, f"no answer to chunk size {size!r} while the body kept coming: the server was reading it"
        assert status_and_code(reply) == (400, "BadRequestError"), (size, reply[:300])
        assert b"hexadecimal" in reply and b"Connection: close" in reply


def test_a_well_formed_chunked_body_still_goes_through(api):
    small = b'{"poll_id": "nope"}'
    reply = exchange(port_of(api), b"POST /polls HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n"
                     + f"{len(small):X};ext=1\r\n".encode() + small + b"\r\n0\r\n\r\n")
    assert status_and_code(reply) == (401, "UnauthorizedError")  # read whole, then the API wants a token


def test_a_signed_token_with_claims_cognito_never_issues_is_a_401_never_a_500_or_a_200(client, stack):
    create(client, stack)
    issued = stack.tokens("vera")["IdToken"]
    for claims in ({"sub": "\ud800"}, {"sub": "vera\x00"}, {"sub": "ve\x1bra"}, {"sub": "vera\u2028"},
                   {"exp": "99999999999"}, {"exp": str(int(time.time()) + 3600)}, {"aud": [stack.client_id]},
                   {"cognito:username": "vera\x07"}, {"cognito:groups": {"operators": 1}}):
        token = resign(issued, **claims)
        for method, path in (("POST", "/votes/red"), ("GET", "/votes/mine?poll_id=colours"), ("GET", "/polls"),
                             ("GET", "/polls/colours/results")):
            response = call(client, method, path, token)
            assert response.status_code == 401, (claims, method, path, response.body)
            assert body(response)["Code"] == "UnauthorizedError"
    assert stack.ballots("colours") == {}


def test_oversized_tokens_are_401_in_the_app_and_431_past_the_local_servers_header_limit(client, api):
    twenty, hundred = "Bearer " + "a" * 20_000, "Bearer " + "a" * 100_000
    for header in (twenty, hundred):  # Chalice (and Lambda behind API Gateway) hands the app any header
        response = call(client, "GET", "/polls", header=header)
        assert response.status_code == 401 and "over 8 KiB" in body(response)["Message"]
    def get(header):
        return exchange(port_of(api), f"GET /polls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                      f"Authorization: {header}\r\n\r\n".encode())
    assert status_and_code(get(twenty)) == (401, "UnauthorizedError")
    reply = get(hundred)
    assert status_and_code(reply) == (431, "RequestHeaderFieldsTooLargeError"), reply[:300]


def closed_port():
    port = free_port()  # bound and released: nothing listens there
    return f"http://127.0.0.1:{port}"


def assert_503(response):
    assert response.status_code == 503, response.body
    assert body(response)["Code"] == "ServiceUnavailableError" and response.headers["Retry-After"] == "1"


def test_dynamodb_refusing_connections_is_a_503_with_retry_after(client, stack, monkeypatch):
    create(client, stack)
    headers = stack.voter()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", closed_port())  # as moto's port is while it restarts
    runtime.reset()
    for method, path, payload in (("POST", "/votes/red", '{"poll_id": "colours"}'), ("GET", "/polls", None),
                                  ("GET", "/polls/colours/results", None)):
        assert_503(client.request(method, path, headers=headers, body=payload or b""))


def test_cognito_refusing_connections_is_a_503_on_operator_routes(client, stack, monkeypatch):
    create(client, stack)
    headers = stack.operator()
    monkeypatch.setenv("TALLY_COGNITO_ENDPOINT", closed_port())
    runtime.reset()
    assert_503(client.post("/polls/colours/close", headers=headers))


def test_the_access_log_names_the_route_never_the_candidate(client, stack, api, capfd):
    create(client, stack)
    voter = stack.voter()
    reply = requests.post(f"{api}/votes/red", json={"poll_id": "colours"}, headers=voter, timeout=10)
    assert reply.status_code == 201
    assert requests.get(f"{api}/votes/mine?poll_id=colours", headers=voter, timeout=10).status_code == 200
    assert requests.get(f"{api}/votes/red/", headers=voter, timeout=10).status_code == 405  # the same route
    assert requests.get(f"{api}/votes/red/again", timeout=10).status_code == 404
    log = capfd.readouterr().err
    assert '"POST /votes/{candidate} HTTP/1.1" 201' in log and '"GET /votes/{candidate} HTTP/1.1" 405' in log
    assert '"GET /votes/mine HTTP/1.1" 200' in log and '"GET (no such route) HTTP/1.1" 404' in log
    assert "red" not in log and "poll_id=" not in log


def test_secrets_manager_unreachable_on_an_instances_first_signed_in_request_is_a_503(client, stack, monkeypatch):
    create(client, stack)
    headers = stack.voter()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", closed_port())
    runtime.reset()
    response = client.get("/polls", headers=headers)  # the auth middleware reads the voters' key for its logs
    assert_503(response)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # A vote's own first read of it (Powertools wraps the connection error in its GetParameterError)
    assert_503(client.post("/votes/red", headers=headers, body='{"poll_id": "colours"}'))
    assert stack.ballots("colours") == {}
