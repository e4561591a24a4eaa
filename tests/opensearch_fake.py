"""A stand-in for an OpenSearch cluster: the client's requests, recorded as the adapter sends them, answered
without a server (tests/unit/test_opensearch_requests.py, tests/integration/test_reconcile_stage.py)."""
import hashlib
import json
from dataclasses import dataclass
from typing import Optional

from opensearchpy import Connection


@dataclass
class Request:
    method: str
    path: str
    params: dict
    body: Optional[str]

    def json(self):
        return json.loads(self.body)

    def ndjson(self):
        assert self.body.endswith("\n")
        return [json.loads(line) for line in self.body.splitlines()]


class FakeCluster:
    """Records requests; answers each from `answers[(method, path)]` or a plausible default."""

    def __init__(self):
        self.requests = []
        self.answers = {}

    def handle(self, request: Request):
        answer = self.answers.get((request.method, request.path))
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        if request.path.endswith("/_bulk"):
            actions = request.ndjson()[::2]
            return 200, {"took": 1, "errors": False,
                         "items": [{"create": {"_id": a["create"]["_id"], "status": 201}} for a in actions]}
        return 200, {"acknowledged": True}

    def since(self, start):
        return self.requests[start:]


class RecordingConnection(Connection):
    cluster: FakeCluster

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        params = {k: v.decode() if isinstance(v, bytes) else v for k, v in (params or {}).items()}
        request = Request(method, url, params, body)
        self.cluster.requests.append(request)
        status, payload = self.cluster.handle(request)
        raw = json.dumps(payload)
        if not 200 <= status < 300 and status not in ignore:
            self._raise_error(status, raw, "application/json")
        return status, {"content-type": "application/json"}, raw


def expected_id(poll, voter):
    # Pinned here, not imported: if ids ever changed, every replayed ballot would be counted a second time.
    return hashlib.sha256(f"{poll}\n{voter}".encode()).hexdigest()[:32]
