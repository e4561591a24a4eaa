"""What the commands share: HTTP to the API, the local stack's files, and signing in to its Cognito."""
import http.client
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cli.retry import LOST
from devstack import cognito
from devstack.stack import LocalStack, default_state_dir

DEFAULT_API = "http://127.0.0.1:8000"


class Failure(Exception):
    """Something the person can act on; printed as is, exit status 1."""


def state_dir() -> Path:
    return Path(os.environ.get("TALLY_STATE_DIR") or default_state_dir())


def send_raw(api: str, method: str, path: str, token: str = None, body: dict = None, timeout: float = 30):
    """One request; returns (status, headers, the body's bytes), with status None (retry.LOST) and the reason as
    the body's text when no answer came. For answers that are not JSON (the results CSV)."""
    request = urllib.request.Request(api.rstrip("/") + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), error.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:  # no answer, or half of one
        return LOST, {}, str(getattr(error, "reason", error) or type(error).__name__).encode()


def send(api: str, method: str, path: str, token: str = None, body: dict = None, timeout: float = 30):
    """One request; returns (status, headers, decoded JSON), with status None (retry.LOST) when no answer came.
    4xx/5xx are answers to show, not exceptions."""
    status, headers, raw = send_raw(api, method, path, token, body, timeout)
    if status is LOST:
        return LOST, {}, {"Code": "ConnectionLost", "Message": raw.decode(errors="replace")}
    try:
        return status, headers, json.loads(raw) if raw else {}
    except ValueError:
        # A proxy or a crashed server may answer with HTML; keep the API's error shape for the caller.
        return status, headers, {"Code": "NotJson", "Message": raw.decode(errors="replace")[:300]}


def unreachable(api: str, body: dict) -> Failure:
    return Failure(f"Cannot reach the API at {api} ({body['Message']}). Is the stack running (`make run`)? "
                   f"Point elsewhere with --api URL or TALLY_API_URL.")


def call(api: str, method: str, path: str, token: str = None, body: dict = None):
    """One request; returns (status, decoded JSON)."""
    status, _, answer = send(api, method, path, token, body)
    if status is LOST:
        raise unreachable(api, answer)
    return status, answer


class Session:
    """Signs in as a named user of the stack, against the pool the API itself trusts (GET /config)."""

    def __init__(self, api: str):
        self.api = api
        status, self.config = call(api, "GET", "/config")
        if status != 200:
            raise Failure(f"GET /config answered {status}: {self.config.get('Message')}")
        self.local = self.config.get("cognito_endpoint") is not None
        self.idp = boto3.client(
            "cognito-idp", region_name=self.config["region"], endpoint_url=self.config["cognito_endpoint"],
            # moto ignores them; on AWS sign-in is an unsigned call, so no real keys are ever needed.
            aws_access_key_id="local", aws_secret_access_key="local")
        self.voters_path = state_dir() / "voters.json"

    # --- who is who -------------------------------------------------------------------------------------

    def operator(self) -> dict:
        path = state_dir() / "stack.json"
        try:
            return LocalStack(state_dir()).operator
        except (OSError, ValueError, KeyError):
            raise Failure(f"No operator credentials: {path} is missing or unreadable. Start the local "
                          f"stack with `make run`, or set TALLY_STATE_DIR to its state directory.") from None

    def is_operator(self, name: str) -> bool:
        if name == "operator":
            return True
        try:
            return name == self.operator()["username"]
        except Failure:
            return False

    def voters(self) -> dict:
        try:
            return json.loads(self.voters_path.read_text())
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError):
            raise Failure(f"{self.voters_path} is empty or damaged, so the voters' passwords it held are lost: "
                          "delete it and add voters again under new names (their accounts and ballots are safe; "
                          "`make reset` would lose every poll, ballot, voter and result).") from None

    def _save_voters(self, voters: dict) -> None:
        # Passwords inside: created 0600 from the start rather than chmod-ed after a readable moment.
        self.voters_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.voters_path.with_name("voters.json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(voters, out, indent=2)
            out.flush()
            os.fsync(out.fileno())  # a crash must not leave an empty voters.json in place of the old one
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.voters_path)

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
        if not self.local:
            raise Failure(f"Cannot create {name}: the API uses AWS Cognito (cognito_endpoint is null), "
                          f"and users are created only in the local stack's pool. Add them in the AWS "
                          f"console or with `aws cognito-idp admin-create-user`.")
        voters = self.voters()
        password = (voters.get(name) or {}).get("password") or cognito.new_password()
        try:
            cognito.create_user(self.idp, self.config["user_pool_id"], name, password)
        except ClientError as error:
            if error.response["Error"]["Code"] == "UsernameExistsException":
                raise Failure(f"{name} exists in the pool but its password is not in {self.voters_path}; "
                              f"pick another name.") from None
            raise Failure(f"Cannot create {name}: {error.response['Error']['Message']}") from None
        except BotoCoreError as error:
            raise Failure(f"Cannot create {name}: {error}") from None
        voters[name] = {"password": password, "user_pool_id": self.config["user_pool_id"]}
        self._save_voters(voters)
        return True

    # --- signing in -------------------------------------------------------------------------------------

    def password(self, name: str) -> str:
        if self.is_operator(name):
            return self.operator()["password"]
        entry = self.known_voter(name)
        if entry:
            return entry["password"]
        earlier = "was created in an earlier run of the stack" if name in self.voters() else "is unknown"
        raise Failure(f"{name} {earlier}; create it with `python -m cli voter add {name}` "
                      f"(or just vote: `python -m cli vote CANDIDATE --as {name}`).")

    def sign_in(self, name: str) -> dict:
        try:
            return cognito.sign_in(self.idp, self.config["user_pool_id"], self.config["client_id"], name,
                                   self.password(name))
        except ClientError as error:
            raise Failure(f"Cannot sign in as {name}: {error.response['Error']['Message']}") from None
        except BotoCoreError as error:
            raise Failure(f"Cannot sign in as {name}: {error}") from None

    def token(self, name: str) -> str:
        return self.sign_in(name)["IdToken"]


# --- roll files -------------------------------------------------------------------------------------------

ROLL_COLUMNS = ("username", "email", "voter")  # a header naming one of these says which column holds the voters


def read_roll_file(path: Path) -> list:
    """The voters a roll CSV lists, as (line number, entry) in file order: the first column, or, when the first
    row is a header naming a `username`, `email` or `voter` column, that column (in this order of preference).
    Blank lines are skipped; an entry is sent as written (trimmed), so that the API's 400 can name a bad one.
    A UTF-8 byte order mark, as spreadsheets write, is dropped."""
    import csv
    import io

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise Failure(f"Cannot read {path}: {error.strerror or error}.") from None
    except UnicodeDecodeError:
        raise Failure(f"{path} is not UTF-8 text; save it from the spreadsheet as CSV UTF-8.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise Failure(f"{path} line {reader.line_num}: not CSV ({error}).") from None
    rows = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]
    column = 0
    if rows:
        header = [cell.strip().lower() for cell in rows[0][1]]
        named = [header.index(name) for name in ROLL_COLUMNS if name in header]
        if named:
            column = named[0]
            rows = rows[1:]
    return [(line, row[column].strip() if column < len(row) else "") for line, row in rows]


# --- roll batches ---------------------------------------------------------------------------------------------

ROLL_BATCH = 1000  # entries per POST /polls/{id}/roll or /roll/remove: the API's limit
BODY_LIMIT = 16 * 1024  # API.md's body limit, which a roll change obeys unless GET /config says more


def roll_body_limit(config: dict) -> int:
    """The largest roll change body the API takes: GET /config's `limits.max_roll_body_bytes` where it says so,
    else the documented 16 KiB."""
    limits = (config or {}).get("limits") or {}
    return int(limits.get("max_roll_body_bytes") or BODY_LIMIT)


def roll_batch_limit(config: dict) -> int:
    """The most entries a roll change takes: GET /config's `limits.max_roll_batch` where it says so, else 1,000."""
    limits = (config or {}).get("limits") or {}
    return int(limits.get("max_roll_batch") or ROLL_BATCH)


def roll_batches(items: list, entry=lambda item: item, max_bytes: int = BODY_LIMIT,
                 max_entries: int = ROLL_BATCH) -> list:
    """`items` cut into consecutive batches of at most `max_entries` whose request body, {"voters": [...],
    "invite": false}, stays within `max_bytes` (entry(item) is the string sent). At 16 KiB, 1,000 entries fit
    only while they average under about 12 characters; longer ones (emails) go in smaller batches."""
    base = len(json.dumps({"voters": [], "invite": False}).encode())
    batches, current, size = [], [], base
    for item in items:
        cost = len(json.dumps(entry(item)).encode()) + 2  # the entry and its ", "
        if current and (len(current) == max_entries or size + cost > max_bytes):
            batches.append(current)
            current, size = [], base
        current.append(item)
        size += cost
    if current:
        batches.append(current)
    return batches
