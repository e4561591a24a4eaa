"""Serve the Chalice app locally, as `chalice local` does, with the stage's environment.

Run by the supervisor as `python -m devstack.api --port 8000`. It differs from `chalice local` in three ways
that matter under load: no autoreload child process; TCP_NODELAY on responses (http.server writes headers and
body separately, and with Nagle each keep-alive request stalls ~40 ms on a delayed ACK); and a listen backlog
of 1024 instead of socketserver's 5, which resets connections when a few hundred voters arrive at once.
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_server(app, config, host: str, port: int):
    from chalice.local import (
        ChaliceRequestHandler,
        LocalChalice,
        LocalDevServer,
        ThreadedHTTPServer,
        create_local_server,
    )

    ChaliceRequestHandler.disable_nagle_algorithm = True
    ThreadedHTTPServer.request_queue_size = 1024
    if isinstance(app, LocalChalice):
        # create_local_server makes current_request thread-local by changing the app's class, once.
        return LocalDevServer(app, config, host, port)
    return create_local_server(app, config, host, port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()

    from chalice.cli.factory import CLIFactory

    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)  # what the supervisor set (pool ids, endpoint) wins
    sys.path.insert(0, str(ROOT))
    from app import app

    make_server(app, config, args.host, args.port).serve_forever()


if __name__ == "__main__":
    main()
