"""Voters for a load test, made before the run and cached in a file: thousands of Cognito users with tokens.

Signing thousands of users in during the run would measure Cognito, not Tally, so every voter is created and
signed in up front. The cache is reused while it belongs to the same user pool and its tokens outlive the run.
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

import jwt

from tally_client import signin
from tally_client.private_files import write_private

TOKEN_MARGIN_SECONDS = 15 * 60


def _expiry(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def load(path: Path, pool_id: str, needed: int) -> List[dict]:
    """Cached voters of this pool whose tokens are good for a while yet (fewer than asked, if so)."""
    if not path.exists():
        return []
    cache = json.loads(path.read_text())
    if cache.get("user_pool_id") != pool_id:
        return []
    fresh = [v for v in cache["voters"] if _expiry(v["id_token"]) > time.time() + TOKEN_MARGIN_SECONDS]
    return fresh[:needed]


def provision(idp, pool_id: str, client_id: str, count: int, path: Path, prefix: str = "load") -> List[dict]:
    """Reuse what the cache holds and create the rest, signing each new voter in once."""
    voters = load(path, pool_id, count)
    known = {v["username"] for v in voters}
    start = int(time.time())

    def make(i: int) -> dict:
        username = f"{prefix}-{start}-{i}"
        password = signin.new_password()
        signin.create_user(idp, pool_id, username, password)
        tokens = signin.sign_in(idp, pool_id, client_id, username, password)
        return {"username": username, "id_token": tokens["IdToken"]}

    missing = count - len(voters)
    if missing > 0:
        with ThreadPoolExecutor(max_workers=8) as pool:
            voters += [v for v in pool.map(make, range(missing)) if v["username"] not in known]
        write_private(path, json.dumps({"user_pool_id": pool_id, "voters": voters}))  # tokens: the owner's only
    return voters


def for_run(path: Path, count: int) -> List[dict]:
    """The voters a run's users take, in order: the first `count` of the file provision() wrote. The roll profile
    splits these into on and off the roll, so it must read them exactly as the locustfile does."""
    return json.loads(Path(path).read_text())["voters"][:count]
