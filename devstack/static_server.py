"""Serve the dashboard and the vote page (dashboard/) as S3 and CloudFront would, plus a config.json for them.

Run by the supervisor as `python -m devstack.static_server --port 8080 --api-url http://127.0.0.1:8000`.
The pages are static files with no server code of their own; what they need to know about the stack is in
`config.json` beside them: the API's URL and the API's `GET /config` (region, user pool, app client, Cognito
endpoint). Here that file is made from the running API; on AWS the deploy writes the same file.

Only what a deploy publishes is served (the pages, css/, js/, vendor/, the icon): not package.json,
node_modules/ or the build script.

Every answer carries the headers CloudFront's response headers policy sets on AWS (infra/dashboard.json): a
Content-Security-Policy whose connect-src is this server, the API and Cognito (here moto), with
frame-ancestors 'none'; X-Frame-Options DENY, X-Content-Type-Options nosniff and Referrer-Policy no-referrer.
The audience screen (FRAMEABLE_FILES) may be framed: its policy's frame-ancestors is --screen-frame-ancestors
(default *, as the template's ScreenFrameAncestors), and it has no X-Frame-Options.
"""
import argparse
import io
import json
import posixpath
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

from infra import project_root
from infra.dashboard_files import FRAMEABLE_FILES, PUBLISHED_DIRS, PUBLISHED_FILES

DASHBOARD = project_root() / "dashboard"
CONFIG_KEYS = ("region", "user_pool_id", "client_id", "cognito_endpoint")
# Who may frame the audience screen by default: anyone (a conference's site, a broadcaster's graphics), as on AWS.
SCREEN_FRAME_ANCESTORS = "*"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL: what a CSP source names."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(api_url: str, cognito_endpoint: Optional[str], region: Optional[str],
                            frame_ancestors: str = "'none'") -> str:
    """The pages' policy: everything from their own origin only, and requests to the API and Cognito alone.
    cognito_endpoint is moto's URL locally; None on AWS, where the regional endpoint is the one (config.js).
    frame_ancestors is 'none' but for the pages other sites may frame (FRAMEABLE_FILES)."""
    connect = ["'self'", origin(api_url)]
    if cognito_endpoint:
        connect.append(origin(cognito_endpoint))
    elif region:
        connect.append(f"https://cognito-idp.{region}.amazonaws.com")
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src " + " ".join(dict.fromkeys(connect)), "object-src 'none'", "base-uri 'none'",
        "form-action 'none'", f"frame-ancestors {frame_ancestors}",
    ])


class StackConfig:
    """config.json, made from the API's GET /config on first use and kept once it has been had."""

    def __init__(self, api_url: str):
        self.api_url = api_url.rstrip("/")
        self._lock = threading.Lock()
        self._body = None

    def body(self) -> bytes:
        with self._lock:
            if self._body is None:
                with urllib.request.urlopen(f"{self.api_url}/config", timeout=5) as reply:
                    api_config = json.load(reply)
                config = {"api_url": self.api_url, **{key: api_config.get(key) for key in CONFIG_KEYS}}
                self._body = json.dumps(config, indent=2).encode()
            return self._body

    def content_security_policy(self, frame_ancestors: str = "'none'") -> str:
        """The policy for this stack's API and Cognito. Until the API has answered once, Cognito is not known and
        is left out (the page then waits for config.json, and a reload once the stack is up lets it sign in)."""
        try:
            config = json.loads(self.body())
        except (OSError, ValueError):
            config = {}
        return content_security_policy(self.api_url, config.get("cognito_endpoint"), config.get("region"),
                                       frame_ancestors)


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".json": "application/json",
        ".map": "application/json",
    }

    def __init__(self, *args, stack_config: StackConfig, screen_frame_ancestors: str = SCREEN_FRAME_ANCESTORS,
                 **kwargs):
        self.stack_config = stack_config
        self.screen_frame_ancestors = screen_frame_ancestors
        self.frameable = False  # this answer is a page other sites may frame (set by send_head)
        super().__init__(*args, **kwargs)

    def end_headers(self):
        # A reload shows what is on disk; the pages are small and the server is on this machine.
        self.send_header("Cache-Control", "no-cache")
        if self.frameable:
            self.send_header("Content-Security-Policy",
                             self.stack_config.content_security_policy(self.screen_frame_ancestors))
        else:
            self.send_header("Content-Security-Policy", self.stack_config.content_security_policy())
            self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def _published(self, path: str) -> bool:
        # Hidden files (the build's stamp) are not published either.
        hidden = any(part.startswith(".") for part in path.split("/"))
        return path in PUBLISHED_FILES or (path.startswith(PUBLISHED_DIRS) and not hidden)

    def send_head(self):
        # Judge the path as the file lookup will see it: decoded and normalised ("/js/%2e%2e/x" is "/x").
        raw = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        path = posixpath.normpath(raw) + ("/" if raw.endswith("/") and raw != "/" else "")
        if path == "/":
            self.path = "/index.html" + self.path[1:]
            path = "/index.html"
        self.frameable = path in FRAMEABLE_FILES
        if path == "/config.json":
            return self._config()
        if not self._published(path) or path.endswith("/"):
            self.send_error(HTTPStatus.NOT_FOUND, "Not a published file of the dashboard")
            return None
        if path.startswith("/vendor/") and not (Path(self.directory) / "vendor").is_dir():
            self.send_error(HTTPStatus.NOT_FOUND, "dashboard/vendor/ is not built: run `make run` or `make dashboard`")
            return None
        return super().send_head()

    def _config(self):
        try:
            body = self.stack_config.body()
        except (OSError, ValueError) as error:
            body = json.dumps({"Code": "ServiceUnavailable",
                               "Message": f"The API at {self.stack_config.api_url} did not answer ({error}); "
                                          "is the stack up?"}).encode()
            status = HTTPStatus.SERVICE_UNAVAILABLE
        else:
            status = HTTPStatus.OK
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def log_message(self, format, *args):
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {self.address_string()} {format % args}\n")


def port_in_use(host: str, port: int) -> bool:
    """True if something listens on host:port already (checked the way the server binds: SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def make_server(host: str, port: int, api_url: str, root: Path = DASHBOARD,
                screen_frame_ancestors: str = SCREEN_FRAME_ANCESTORS) -> ThreadingHTTPServer:
    handler = partial(Handler, directory=str(root), stack_config=StackConfig(api_url),
                      screen_frame_ancestors=screen_frame_ancestors)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--api-url", default="http://127.0.0.1:8000")
    parser.add_argument("--root", default=str(DASHBOARD), help="the folder to serve (default: dashboard/)")
    parser.add_argument("--screen-frame-ancestors", default=SCREEN_FRAME_ANCESTORS,
                        help="the sites that may frame the audience screen, as CSP frame-ancestors sources "
                             "(default: *, any site; 'none' for none)")
    args = parser.parse_args()
    if not (Path(args.root) / "vendor").is_dir():
        print(f"warning: {args.root}/vendor/ is missing, so the charts will not load: run `make dashboard`",
              file=sys.stderr)
    make_server(args.host, args.port, args.api_url, Path(args.root), args.screen_frame_ancestors).serve_forever()


if __name__ == "__main__":
    main()
