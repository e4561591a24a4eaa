"""The local API server in front of strangers: oversized and chunked bodies, unknown routes and methods."""
import http.client
import json
import socket
import threading

import pytest
from chalice.config import Config

from chalicelib.api.requests import LARGEST_BODY_BYTES
from devstack.api import make_server
from devstack.processes import free_port


@pytest.fixture
def server(stack):
    from app import app
    port = free_port()
    served = make_server(app, Config.create(), "127.0.0.1", port)
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield port
    served.server.shutdown()
    thread.join(5)


def raw(port, request: bytes, read_all=True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)
            if not read_all:
                return b"".join(chunks)


def answer(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    reply = conn.getresponse()
    return reply.status, dict(reply.getheaders()), reply.read()


def test_a_huge_content_length_is_a_413_at_once_and_the_api_still_answers(server):
    head = raw(server, b"POST /votes/red HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n"
                       b"Content-Type: application/json\r\n\r\n{")
    status_line, _, rest = head.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["Code"] == "PayloadTooLargeError"
    assert answer(server, "GET", "/health")[0] == 200


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server):
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    passing = LARGEST_BODY_BYTES // 0x4000 + 1  # past the largest body any route takes (a roll change's)
    head = raw(server, b"POST /votes/red HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + chunk * passing + b"0\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    small = json.dumps({"poll_id": "nope"}).encode()
    ok = raw(server, b"POST /polls HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
             + f"{len(small):x}\r\n".encode() + small + b"\r\n0\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 401"), "a small chunked body goes through to the API (which wants a token)"


def test_an_unknown_route_is_a_404_in_the_apis_shape_and_echoes_no_header(server):
    for headers in ({}, {"Authorization": "Bearer secret-token-abc"}):
        status, reply_headers, body = answer(server, "GET", "/nowhere", headers=headers)
        assert status == 404 and json.loads(body)["Code"] == "NotFoundError"
        assert b"secret-token-abc" not in body and "secret-token-abc" not in json.dumps(reply_headers)
        assert reply_headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW"])
def test_a_method_no_route_takes_is_a_405_in_the_apis_shape(server, method):
    status, headers, body = answer(server, method, "/health")
    assert status == 405 and json.loads(body)["Code"] == "MethodNotAllowedError"
    assert headers["Content-Type"] == "application/json" and headers["Allow"] == "GET"
    assert answer(server, method, "/nowhere")[0] == 404


def test_a_known_route_with_another_method_is_a_405_from_the_app(server):
    status, _, body = answer(server, "DELETE", "/health")
    assert status == 405 and "Code" in json.loads(body)
