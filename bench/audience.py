"""The audience: any number of viewers of one live poll should cost the origin about one request per second.

A real HTTP cache stands in for CloudFront: Debian's nginx (installed with apt-get when missing), in front of a
local stack's API with proxy_cache keyed on the path alone (no query string, cookie or Authorization, as
infra/cdn.json's AudienceCachePolicy), honouring the API's Cache-Control (s-maxage, stale-while-revalidate,
stale-if-error: chalicelib/api/caching.py), proxy_cache_lock (one request to the origin per expiry, whatever
the crowd) and background updates (a viewer never waits for the origin while a copy is there).

Each phase is one new live poll, V simulated viewers and a voter:
  viewers  asyncio coroutines in this process, each with its own keep-alive connection, reading
           GET /public/polls/{id} about every 2 s (the vote page's rhythm: 2 s after the previous answer,
           jittered by +-20%, first read at a random moment of the first 2 s), with If-None-Match of the copy
           it holds, as a browser revalidating its cache does. A 304 means it still shows its copy.
  votes    one thread votes through the API at 4 votes/s (each a new ballot, 201 expected), noting when each
           201 came back.
Phases, 30 s each, in this order: 200 viewers through the cache, 200 through the same nginx without it (the
baseline: every read reaches the origin), then 2,000 of each.

Figures per phase:
  origin requests/s  the API's own access log (api.log: one line per request it answered, naming its route)
                     counts the answers of GET /public/polls/{poll_id} from the phase's start until its last
                     viewer is done: nothing else reads a public document meanwhile. Target with the cache:
                     <= 2/s at both sizes.
  staleness          for each read, how long the oldest vote it does not show had been accepted (its 201), 0 when
                     it shows every vote accepted by then: p50, p95, max. It includes the stream's own lag (a
                     vote is counted about a second after its 201), which the baseline shows alone.
  reads              per viewer per second (about 0.5 is the rhythm kept), answer time p50/p95, failed reads,
                     nginx's cache status of each answer (HIT, STALE, UPDATING, MISS, EXPIRED, REVALIDATED).
  CPU                seconds per second of the API process, nginx and this process.
The baseline ratio is origin requests/s without the cache over with it. The document's size (and gzipped) is
what a viewer downloads per change: the capacity model prices data out from it.

Run:  .venv/bin/python -m bench.audience [--seconds 30] [--sizes 200,2000]
It starts its own stack (devstack/stack.py LocalStack) and nginx on free loopback ports and stops both at the
end, even on error. The exit status is 1 if a cached phase passes 2 origin requests/s or any vote fails. The
last line printed is a JSON object with every figure.
"""
import argparse
import asyncio
import bisect
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from bench.harness import api_connection, create_voters
from bench.machine import machine
from devstack import processes
from devstack.processes import CpuMeter
from devstack.stack import LocalStack

SIZES = (200, 2000)
PHASE_SECONDS = 30.0
READ_EVERY_S = 2.0
JITTER = 0.2
VOTES_PER_S = 4.0
TARGET_ORIGIN_PER_S = 2.0
READ_TIMEOUT_S = 10.0
CANDIDATES = ("ann", "bob")
PUBLIC_ROUTE_LINE = b'"GET /public/polls/{poll_id} '
TOTAL = re.compile(rb'(?<!\\)"total":\s*(\d+)')  # the results' first total: the document's only one there

NGINX_CONF = """\
# bench/audience.py: the CDN stand-in. One process, in the foreground, everything under {work}.
master_process off;
daemon off;
worker_rlimit_nofile 16384;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    access_log off;
    keepalive_requests 100000;
    proxy_cache_path {work}/cache levels=1:2 keys_zone=audience:10m max_size=64m inactive=10m use_temp_path=off;
    # The origin: the stack's API. One upstream for both servers, so that the cache is the only difference.
    upstream origin {{
        server 127.0.0.1:{api_port} max_conns=64;
        keepalive 16;
    }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    # As CloudFront's cache behaviour: the origin is not told who the viewer is.
    proxy_set_header Authorization "";
    proxy_set_header Cookie "";
    server {{  # with the cache, as CloudFront with infra/cdn.json's AudienceCachePolicy
        listen 127.0.0.1:{cached_port} backlog=4096;
        location / {{
            proxy_pass http://origin;
            proxy_cache audience;
            proxy_cache_key $uri;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_lock_age 5s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
    server {{  # the baseline: the same proxy without the cache
        listen 127.0.0.1:{direct_port} backlog=4096;
        location / {{
            proxy_pass http://origin;
            add_header X-Cache-Status NONE always;
        }}
    }}
}}
"""


class BenchFailed(Exception):
    pass


# --- nginx --------------------------------------------------------------------------------------------------------

def ensure_nginx() -> str:
    """The nginx binary, installing Debian's package first if it is missing (as root, with apt-get). The package
    is kept from starting its own service on port 80 (policy-rc.d), as in a container."""
    found = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("bench.audience needs nginx: sudo apt-get install -y nginx")
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:
        policy.write_text("#!/bin/sh\n# bench/audience.py: no service starts while it installs nginx\nexit 101\n")
        policy.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        install = ["apt-get", "install", "-y", "--no-install-recommends", "nginx"]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
    finally:
        if made_policy:
            policy.unlink()
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Edge:
    """nginx on two free loopback ports in front of the API: `cached_port` caches, `direct_port` does not."""

    def __init__(self, api_url: str, work: Path):
        self.binary = ensure_nginx()
        self.work = work
        self.api_port = int(api_url.rsplit(":", 1)[1].split("/")[0])
        self.cached_port, self.direct_port = processes.free_port(), processes.free_port()
        while self.direct_port == self.cached_port:
            self.direct_port = processes.free_port()
        self.process: Optional[subprocess.Popen] = None

    def __enter__(self) -> "Edge":
        for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
            (self.work / folder).mkdir(parents=True, exist_ok=True)
        conf = self.work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=self.work, api_port=self.api_port, cached_port=self.cached_port,
                                          direct_port=self.direct_port))
        self.process = processes.spawn([self.binary, "-p", str(self.work), "-c", str(conf)], dict(os.environ),
                                       str(self.work / "nginx.out"))
        try:
            for port in (self.cached_port, self.direct_port):
                processes.wait_for_http(f"http://127.0.0.1:{port}/health", 20, self.process)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc) -> None:
        if self.process is not None:
            processes.stop([self.process])


# --- the viewers ----------------------------------------------------------------------------------------------------

async def read_answer(reader: asyncio.StreamReader) -> Tuple[int, Dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        return status, headers, await reader.readexactly(int(headers[b"content-length"]))
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, headers, bytes(body)
            body += chunk[:-2]
    return status, headers, b"" if status in (204, 304) else await reader.read()


class Reads:
    """What the viewers of one phase saw: per read, (answered at, status, total shown, seconds, cache status)."""

    def __init__(self):
        self.rows: List[Tuple[float, Optional[int], Optional[int], float, str]] = []
        self.last_document = b""


async def viewer(port: int, path: str, until: float, rng: random.Random, reads: Reads) -> None:
    reader = writer = None
    etag: Optional[bytes] = None
    total: Optional[int] = None
    next_at = time.monotonic() + rng.uniform(0, READ_EVERY_S)
    request_head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: tally-bench-audience\r\n".encode()
    while True:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if time.monotonic() >= until:
            break
        started = time.monotonic()
        status, cache = None, "-"
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request_head + (b"If-None-Match: " + etag + b"\r\n" if etag else b"") + b"\r\n")
            status, headers, body = await asyncio.wait_for(read_answer(reader), READ_TIMEOUT_S)
            cache = headers.get(b"x-cache-status", b"-").decode()
            if status == 200:
                etag = headers.get(b"etag")
                found = TOTAL.search(body)
                total = int(found.group(1)) if found else None
                reads.last_document = body
            if headers.get(b"connection", b"").lower() == b"close":
                writer.close()
                reader = writer = None
        except (OSError, EOFError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                asyncio.LimitOverrunError):
            if writer is not None:
                writer.close()
            reader = writer = None
        answered = time.monotonic()
        reads.rows.append((answered, status, total if status in (200, 304) else None, answered - started, cache))
        next_at = answered + READ_EVERY_S * rng.uniform(1 - JITTER, 1 + JITTER)
    if writer is not None:
        writer.close()


async def audience(port: int, path: str, viewers: int, seconds: float, seed: int) -> Reads:
    reads = Reads()
    until = time.monotonic() + seconds
    rng = random.Random(seed)
    await asyncio.gather(*(viewer(port, path, until, random.Random(rng.random()), reads) for _ in range(viewers)))
    return reads


# --- the votes ------------------------------------------------------------------------------------------------------

def vote_for(api_url: str, poll_id: str, tokens: Sequence[str], seconds: float, accepted: List[float],
             errors: List[str]) -> None:
    """One voter after another at VOTES_PER_S, each a new ballot in the poll: when each 201 came back."""
    conn = api_connection(api_url)
    body = json.dumps({"poll_id": poll_id}).encode()
    started = time.monotonic()
    for n, token in enumerate(tokens):
        due = started + n / VOTES_PER_S
        if due - started >= seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            conn.request("POST", f"/votes/{CANDIDATES[n % len(CANDIDATES)]}", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            reply = conn.getresponse()
            reply.read()
            if reply.status != 201:
                errors.append(f"vote {n} in {poll_id}: {reply.status}")
                continue
            accepted.append(time.monotonic())
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"vote {n} in {poll_id}: {error!r}")
            conn.close()
            conn = api_connection(api_url)
    conn.close()


# --- the figures ----------------------------------------------------------------------------------------------------

def origin_requests(api_log: Path) -> int:
    """Requests for a public document that the API has answered, from its access log: one line per request,
    naming the route, not the path (devstack/api.py), as `"GET /public/polls/{poll_id} HTTP/1.1" 200 -`."""
    with api_log.open("rb") as log:
        return sum(1 for line in log if PUBLIC_ROUTE_LINE in line)


def settle(api_log: Path, deadline_s: float = 60.0) -> None:
    """Wait until the API has answered what the phase left in flight (reads the viewers gave up on are still
    queued at an overloaded origin), so that the next phase counts only its own."""
    deadline = time.monotonic() + deadline_s
    seen = origin_requests(api_log)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = origin_requests(api_log)
        if now == seen:
            return
        seen = now
    raise BenchFailed(f"the API was still answering public reads {deadline_s:.0f} s after the phase")


def staleness(rows, accepted: Sequence[float]) -> List[float]:
    """Per read that showed a total: how long the oldest accepted vote it does not show had been accepted."""
    ages = []
    for answered, _status, total, _seconds, _cache in rows:
        if total is None:
            continue
        known = bisect.bisect_right(accepted, answered)  # accepted is in order: one voter after another
        ages.append(answered - accepted[total] if total < known else 0.0)
    return ages


def quantile(values: Sequence[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rounded(value: Optional[float], digits: int = 3) -> Optional[float]:
    return None if value is None else round(value, digits)


def phase(stack: LocalStack, edge: Edge, meter: CpuMeter, operator: str, tokens: Sequence[str], viewers: int,
          cached: bool, seconds: float, seed: int) -> dict:
    poll_id = f"audience-{viewers}-{'cache' if cached else 'direct'}-{seed}"
    with stack.client(operator) as client:
        reply = client.post("/polls", json={"poll_id": poll_id, "title": f"Audience of {viewers}",
                                            "candidates": list(CANDIDATES)})
        if reply.status_code != 201:
            raise BenchFailed(f"POST /polls answered {reply.status_code}: {reply.text[:200]}")
    accepted: List[float] = []
    errors: List[str] = []
    voting = threading.Thread(target=vote_for, args=(stack.api_url, poll_id, tokens, seconds, accepted, errors))
    port = edge.cached_port if cached else edge.direct_port
    log = stack.state_dir / "api.log"
    before_requests = origin_requests(log)
    cpu_before, wall_before = meter.sample(), time.monotonic()
    voting.start()
    reads = asyncio.run(audience(port, f"/public/polls/{poll_id}", viewers, seconds, seed))
    elapsed = time.monotonic() - wall_before
    cpu_after = meter.sample()
    voting.join()
    origin = origin_requests(log) - before_requests
    settle(log)
    rows = reads.rows
    answered = [r for r in rows if r[1] in (200, 304)]
    ages = staleness(rows, accepted)
    cpu = {name: round((cpu_after[name] - cpu_before[name]) / elapsed, 3) for name in ("api", "nginx", "bench")
           if name in cpu_after}
    document = reads.last_document
    return {
        "viewers": viewers, "cache": cached, "poll_id": poll_id, "seconds": round(elapsed, 1),
        "origin_requests": origin, "origin_per_s": round(origin / elapsed, 2),
        "reads": len(rows), "reads_per_s": round(len(rows) / elapsed, 1),
        "reads_per_viewer_per_s": round(len(rows) / elapsed / viewers, 3),
        "failed_reads": len(rows) - len(answered),
        "statuses": dict(Counter(str(r[1]) for r in rows)),
        "cache_status": dict(Counter(r[4] for r in rows)),
        "answer_s_p50": rounded(quantile([r[3] for r in answered], 0.5), 4),
        "answer_s_p95": rounded(quantile([r[3] for r in answered], 0.95), 4),
        "staleness_s_p50": rounded(quantile(ages, 0.5)), "staleness_s_p95": rounded(quantile(ages, 0.95)),
        "staleness_s_max": rounded(max(ages) if ages else None),
        "votes_accepted": len(accepted), "vote_errors": errors,
        "document_bytes": len(document), "document_gzip_bytes": len(gzip.compress(document)) if document else 0,
        "cpu_s_per_s": cpu,
    }


@contextmanager
def bench_edge(stack: LocalStack) -> Iterator[Edge]:
    with tempfile.TemporaryDirectory(prefix="tally-edge-") as work:
        os.chmod(work, 0o755)
        with Edge(stack.api_url, Path(work)) as edge:
            yield edge


def measure(sizes: Sequence[int], seconds: float) -> dict:
    voters_needed = int(seconds * VOTES_PER_S) + 1
    with LocalStack.start() as stack, bench_edge(stack) as edge:
        meter = CpuMeter.of_children(stack.children())
        meter.pids["nginx"] = edge.process.pid
        operator = stack.token(stack.operator["username"])
        started = time.perf_counter()
        tokens = create_voters(stack, "audience", voters_needed)  # each votes once in every phase's poll
        print(f"prepared {len(tokens)} signed-in voters in {time.perf_counter() - started:.1f} s", flush=True)
        phases = []
        for n, viewers in enumerate(sizes):
            for cached in (True, False):
                result = phase(stack, edge, meter, operator, tokens, viewers, cached, seconds, seed=n)
                print(f"{viewers} viewers, {'cache' if cached else 'no cache'}: origin "
                      f"{result['origin_per_s']}/s, staleness p95 {result['staleness_s_p95']} s, "
                      f"{result['reads_per_s']} reads/s, {result['failed_reads']} failed", flush=True)
                phases.append(result)
    return {"phases": phases}


def summarise(phases: List[dict]) -> dict:
    sizes = {}
    for result in phases:
        sizes.setdefault(result["viewers"], {})["cache" if result["cache"] else "direct"] = result
    ratios = {}
    for viewers, pair in sizes.items():
        if "cache" in pair and "direct" in pair and pair["cache"]["origin_per_s"]:
            ratios[str(viewers)] = round(pair["direct"]["origin_per_s"] / pair["cache"]["origin_per_s"], 1)
    return {"baseline_ratio": ratios,
            "target_met": all(p["origin_per_s"] <= TARGET_ORIGIN_PER_S for p in phases if p["cache"])}


def print_report(summary: dict) -> None:
    print()
    print("| viewers | cache | origin req/s | reads/s (per viewer) | failed | answer p50 / p95 | "
          "staleness p50 / p95 / max | API CPU s/s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p in summary["phases"]:
        print(f"| {p['viewers']} | {'nginx cache' if p['cache'] else 'none'} | {p['origin_per_s']} | "
              f"{p['reads_per_s']} ({p['reads_per_viewer_per_s']}) | {p['failed_reads']} | "
              f"{p['answer_s_p50']} / {p['answer_s_p95']} s | {p['staleness_s_p50']} / {p['staleness_s_p95']} / "
              f"{p['staleness_s_max']} s | {p['cpu_s_per_s'].get('api')} |")
    print(f"baseline ratio (origin req/s without the cache / with it): {summary['baseline_ratio']}; "
          f"target <= {TARGET_ORIGIN_PER_S}/s with the cache: {'met' if summary['target_met'] else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=PHASE_SECONDS, help="seconds per phase (default 30)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="viewers per phase (default 200,2000)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.seconds <= 0 or not sizes or min(sizes) < 1:
        parser.error("--seconds must be positive and every size at least 1")

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    summary = {"date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
               "command": " ".join([".venv/bin/python", "-m", "bench.audience", *sys.argv[1:]]),
               "nginx": subprocess.run([ensure_nginx(), "-v"], capture_output=True, text=True).stderr.strip()}
    started = time.perf_counter()
    summary.update(measure(sizes, args.seconds))
    summary.update(summarise(summary["phases"]))
    summary["run_seconds"] = round(time.perf_counter() - started, 1)
    summary["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(summary)
    print(json.dumps(summary))
    failed = [e for p in summary["phases"] for e in p["vote_errors"]]
    return 0 if summary["target_met"] and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
