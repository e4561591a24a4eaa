"""moto server, with one request handled at a time.

moto checks a ConditionExpression and then writes, with nothing in between to stop another thread: two
concurrent conditional PutItems on one key can both succeed (measured: 1 in 2,000 races in-process). DynamoDB
makes each conditional write atomic, and the one-ballot-per-voter rule depends on it, so the local stack
serialises requests. moto holds the GIL for its work anyway, so this costs no throughput.

One fix to moto's Cognito, so that browsers sign in with SRP as they do on AWS: moto names the user for SRP
(USER_ID_FOR_SRP) by their sub, where Cognito names them by their username in a pool without username
attributes (like Tally's), and then cannot find the user by the name the client sends back (amazon-cognito-identity-js
sends USER_ID_FOR_SRP as USERNAME in PASSWORD_VERIFIER and in the MFA challenge that follows).
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


def name_srp_users_by_username() -> None:
    from moto.cognitoidp.models import CognitoIdpBackend

    initiate_auth = CognitoIdpBackend.initiate_auth

    def patched(self, client_id, auth_flow, auth_parameters):
        reply = initiate_auth(self, client_id, auth_flow, auth_parameters)
        if reply.get("ChallengeName") == "PASSWORD_VERIFIER":
            _, pool = self.sessions[reply["Session"]]
            if not pool.extended_config.get("UsernameAttributes"):
                reply["ChallengeParameters"]["USER_ID_FOR_SRP"] = reply["ChallengeParameters"]["USERNAME"]
        return reply

    CognitoIdpBackend.initiate_auth = patched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    name_srp_users_by_username()
    run_simple(args.host, args.port, serialised(DomainDispatcherApplication(create_backend_app)),
               threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
