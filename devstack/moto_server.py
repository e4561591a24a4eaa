"""moto server, with one request handled at a time.

moto checks a ConditionExpression and then writes, with nothing in between to stop another thread: two
concurrent conditional PutItems on one key can both succeed (measured: 1 in 2,000 races in-process). DynamoDB
makes each conditional write atomic, and the one-ballot-per-voter rule depends on it, so the local stack
serialises requests. moto holds the GIL for its work anyway, so this costs no throughput.
Run as `python -m devstack.moto_server --host 127.0.0.1 --port 5000`.
"""
import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple


def serialised(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            # Drain the response inside the lock: moto may build it lazily.
            return list(app(environ, start_response))
    return handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    run_simple(args.host, args.port, serialised(DomainDispatcherApplication(create_backend_app)),
               threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
