"""Serve the Chalice app locally, as `chalice local` does, with the stage's environment.

Run by the supervisor as `python -m devstack.api --port 8000`. It differs from `chalice local` where that matters
under load or in front of strangers:
- no autoreload child process; TCP_NODELAY on responses (http.server writes headers and body separately, and with
  Nagle each keep-alive request stalls ~40 ms on a delayed ACK); a listen backlog of 1024 instead of 5, which
  resets connections when a few hundred voters arrive at once;
- a body over the largest the API takes (a roll change's 800 KiB) is refused by its Content-Length before a
  byte of it is read, and a chunked body as soon as it passes the limit (chalice local reads whatever
  Content-Length promises, into memory); a chunk size that is not hexadecimal digits (`-1`, `0x10`, `+5`, `1_0`,
  which Python's int() would take) is a 400 before authentication, and nothing after it is read: a negative
  size would read to the end of the stream;
- a header line over http.server's 64 KiB (a token of 100 KB) is a 431 in the API's error shape;
- the access log names the route, not the path: `POST /votes/{candidate}`, never the candidate voted for, and
  no query string (a roll page's `after` is a username), so no access line reads as a ballot;
- an unknown route is a 404 and a method no route has is a 405, in the API's error shape, as API Gateway answers
  with the deployed template's gateway responses; never chalice local's 403 that echoes the caller's
  Authorization header back, nor http.server's HTML pages.
"""
import argparse
import json
import os
import re
from typing import Optional, Tuple

from chalicelib.api.requests import LARGEST_BODY_BYTES, kib


class BodyTooLarge(Exception):
    pass


# RFC 9112 7.1: chunk-size = 1*HEXDIG, then optional extensions after ";" (16 digits: more than any body needs).
CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
NO_ROUTE = "(no such route)"


def chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip()
    if not line.endswith(b"\n") or not CHUNK_SIZE.fullmatch(size):
        raise ValueError("The chunked body is malformed: a chunk size must be hexadecimal digits.")
    return int(size, 16)


NO_SUCH_ROUTE = "There is no such route: see the API reference (openapi.yaml) for the routes and their methods."


class BoundedBody:
    """Reads a request's body only up to the largest any route takes (a roll change's 800 KiB): by Content-Length
    before a byte is read, a chunked body as soon as it passes the limit."""

    def _parse_payload(self) -> Tuple[dict, Optional[bytes]]:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return dict(self.headers), self._read_chunked()
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = LARGEST_BODY_BYTES + 1
        # The largest body any route takes; the app refuses one over its own route's limit (api/auth.py).
        if length > LARGEST_BODY_BYTES:
            raise BodyTooLarge(f"The body is {length} bytes; the limit is {kib(LARGEST_BODY_BYTES)}.")
        return dict(self.headers), self.rfile.read(length) if length > 0 else None

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = chunk_size(self.rfile.readline(64))
            if size == 0:
                self.rfile.readline(64)  # the blank line after the last chunk
                return body
            if len(body) + size > LARGEST_BODY_BYTES:
                raise BodyTooLarge(f"The body passed the limit of {kib(LARGEST_BODY_BYTES)}.")
            body += self.rfile.read(size)
            self.rfile.readline(64)


class RouteInAccessLog:
    """The access log names the route, never the path: the path is the ballot on POST /votes/{candidate}."""

    def parse_request(self) -> bool:
        self.route_label = None  # a kept-alive connection's next request starts unnamed
        return super().parse_request()

    def _name_route(self) -> None:
        try:
            route = self.local_gateway.event_converter._route_matcher.match_route(self.path).route
        except ValueError:
            route = NO_ROUTE
        self.route_label = f"{self.command[:20]} {route}"

    def log_request(self, code="-", size="-") -> None:
        # http.server logs the request line, whose path is the ballot on POST /votes/{candidate}.
        code = getattr(code, "value", code)
        self.log_message('"%s %s" %s %s', getattr(self, "route_label", None) or "(unreadable request)",
                         self.request_version, code, size)


class RefusalsInTheApiShape:
    """http.server's and chalice local's own refusals answered as API Gateway answers them: a JSON body with Code
    and Message, never an HTML page; a method no route has is a 405 that says what the route takes."""

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._name_route()
        app = self.local_gateway._app_object
        try:
            route = self.local_gateway.event_converter._route_matcher.match_route(self.path.split("?")[0]).route
        except ValueError:
            return self._answer(404, "NotFoundError", NO_SUCH_ROUTE)
        allowed = ", ".join(sorted(app.routes[route]))  # RFC 9110: a 405 says what the route takes
        self._answer(405, "MethodNotAllowedError", f"{self.command[:20]} is not a method this route takes.",
                     {"Allow": allowed})

    def __getattr__(self, name):
        # http.server looks up do_<METHOD>: any method without one (TRACE, CONNECT, made-up ones) is a 405.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def send_error(self, code, message=None, explain=None) -> None:
        # http.server's own refusals (a malformed request line, headers too long): the API's shape, not HTML.
        self.close_connection = True
        if code == 431:
            return self._answer(431, "RequestHeaderFieldsTooLargeError",
                                "A header is over 64 KiB, or there are over 100 headers; an ID token is a few "
                                "KiB: send the one from sign-in.")
        self._answer(code, "BadRequestError" if code < 500 else "InternalServerError",
                     "The request could not be read as HTTP.")

    def _answer(self, status: int, code: str, message: str, extra=None) -> None:
        headers = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                   "Access-Control-Allow-Origin": "*", **(extra or {})}
        self._send_http_response(status, headers, json.dumps({"Code": code, "Message": message}))


def handler_class():
    """chalice local's request handler with the three behaviours above (imported here: chalice.local is only
    needed once a server is made)."""
    from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGatewayException

    class TallyRequestHandler(BoundedBody, RouteInAccessLog, RefusalsInTheApiShape, ChaliceRequestHandler):
        disable_nagle_algorithm = True

        def _generic_handle(self) -> None:
            self._name_route()
            try:
                headers, body = self._parse_payload()
            except (BodyTooLarge, ValueError) as error:
                self.close_connection = True  # what is left of the body is never read
                message = str(error)
                return self._answer(413 if isinstance(error, BodyTooLarge) else 400,
                                    "PayloadTooLargeError" if isinstance(error, BodyTooLarge) else "BadRequestError",
                                    message, {"Connection": "close"})
            try:
                response = self.local_gateway.handle_request(method=self.command, path=self.path, headers=headers,
                                                             body=body)
            except ForbiddenError:
                return self._answer(404, "NotFoundError", NO_SUCH_ROUTE)
            except LocalGatewayException as error:
                return self._send_error_response(error)
            status, out = response["statusCode"], {**response["headers"], **response["multiValueHeaders"]}
            self._send_http_response(status, out, self._handle_binary(response)["body"])

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    return TallyRequestHandler


def make_server(app, config, host: str, port: int):
    from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

    ThreadedHTTPServer.request_queue_size = 1024
    if not isinstance(app, LocalChalice):
        # As chalice's create_local_server does: current_request becomes thread-local, by the app's class, once.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=handler_class())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()

    from chalice.cli.factory import CLIFactory

    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = CLIFactory(project_dir=project).create_config_obj(chalice_stage_name=args.stage)
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)  # what the supervisor set (pool ids, endpoint) wins
    from app import app

    make_server(app, config, args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()
