"""Serve the Chalice app locally, as `chalice local` does, with the stage's environment.

Run by the supervisor as `python -m devstack.api --port 8000`. It differs from `chalice local` in two ways
that matter for measurement: no autoreload child process, and TCP_NODELAY on responses (http.server writes
headers and body separately, and with Nagle on each keep-alive request stalls ~40 ms on a delayed ACK).
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()

    from chalice.cli.factory import CLIFactory
    from chalice.local import ChaliceRequestHandler, create_local_server

    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)  # what the supervisor set (pool ids, endpoint) wins
    sys.path.insert(0, str(ROOT))
    from app import app

    ChaliceRequestHandler.disable_nagle_algorithm = True
    server = create_local_server(app, config, args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
