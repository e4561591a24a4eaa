"""Who the CLI signs in as: the local stack's operator (its stack.json) and the voters the CLI made (their
passwords in the state directory's voters.json), in the pool the API itself trusts (GET /config)."""
import json
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from cli.target import Target
from devstack.stack import LocalStack
from tally_client import server_config, signin
from tally_client.http import Failure
from tally_client.private_files import write_private


class Session:
    def __init__(self, target: Target):
        self.target = target
        self.api = target.api
        self.config = server_config.fetch(target.api)
        self.idp = signin.pool_client(self.config)

    # --- who is who -------------------------------------------------------------------------------------

    @property
    def voters_path(self) -> Path:
        return self.target.files("A voter's password") / "voters.json"

    def operator(self) -> dict:
        path = self.target.files("The operator's password") / "stack.json"
        try:
            return LocalStack(path.parent).operator
        except (OSError, ValueError, KeyError):
            raise Failure(f"No operator credentials: {path} is missing or unreadable. Start the local stack "
                          f"with `make run`, or pass --state-dir DIR (TALLY_STATE_DIR) of a running one.") from None

    def is_operator(self, name: str) -> bool:
        if name == "operator":
            return True
        try:
            return name == self.operator()["username"]
        except Failure:
            return False

    def voters(self) -> dict:
        if self.target.state_dir is None:
            return {}
        try:
            return json.loads(self.voters_path.read_text())
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError):
            raise Failure(f"{self.voters_path} is empty or damaged, so the voters' passwords it held are lost: "
                          "delete it and add voters again under new names (their accounts and ballots are safe; "
                          "`make reset` would lose every poll, ballot, voter and result).") from None

    def known_voter(self, name: str):
        """The stored entry if it belongs to the running pool; moto forgets every user when the stack
        restarts (new pool id), so an entry from an earlier run cannot sign in."""
        entry = self.voters().get(name)
        if entry and entry.get("user_pool_id") == self.config["user_pool_id"]:
            return entry
        return None

    def add_voter(self, name: str) -> bool:
        """Create NAME in the local pool; False if it already exists there. Keeps a stored password across
        stack restarts, as devstack does for the operator, so people can reuse what they noted."""
        if self.is_operator(name) or self.known_voter(name):
            return False
        if not server_config.is_local(self.config):
            raise Failure(f"Cannot create {name}: the API uses AWS Cognito (cognito_endpoint is null), "
                          f"and users are created only in the local stack's pool. Add them in the AWS "
                          f"console or with `aws cognito-idp admin-create-user`.")
        voters_path = self.voters_path  # before the user exists: a password with nowhere to go is never made
        voters = self.voters()
        password = (voters.get(name) or {}).get("password") or signin.new_password()
        try:
            signin.create_user(self.idp, self.config["user_pool_id"], name, password)
        except ClientError as error:
            if error.response["Error"]["Code"] == "UsernameExistsException":
                raise Failure(f"{name} exists in the pool but its password is not in {voters_path}; "
                              f"pick another name.") from None
            raise Failure(f"Cannot create {name}: {error.response['Error']['Message']}") from None
        except BotoCoreError as error:
            raise Failure(f"Cannot create {name}: {error}") from None
        voters[name] = {"password": password, "user_pool_id": self.config["user_pool_id"]}
        write_private(voters_path, json.dumps(voters, indent=2))
        return True

    # --- signing in -------------------------------------------------------------------------------------

    def password(self, name: str) -> str:
        if self.is_operator(name):
            return self.operator()["password"]
        self.target.files(f"{name}'s password")  # where none is known, a Failure that says what to pass
        entry = self.known_voter(name)
        if entry:
            return entry["password"]
        earlier = "was created in an earlier run of the stack" if name in self.voters() else "is unknown"
        raise Failure(f"{name} {earlier}; create it with `python -m cli voter add {name}` "
                      f"(or just vote: `python -m cli vote CANDIDATE --as {name}`).")

    def sign_in(self, name: str) -> dict:
        try:
            return signin.sign_in(self.idp, self.config["user_pool_id"], self.config["client_id"], name,
                                  self.password(name))
        except ClientError as error:
            raise Failure(f"Cannot sign in as {name}: {error.response['Error']['Message']}") from None
        except BotoCoreError as error:
            raise Failure(f"Cannot sign in as {name}: {error}") from None

    def token(self, name: str) -> str:
        return self.sign_in(name)["IdToken"]
