"""Importing a roll: how long a 10,000-entry roll takes to put on a roll poll through the API, and what it costs
in DynamoDB writes and Cognito lookups, against a same-run floor.

What is timed: the roll sent as the CLI sends it (`python -m cli roll add`): requests of up to 1,000 entries
(`POST /polls/{id}/roll`, one client, one request after another; cut by tally_client/rollfile.py, which keeps a
body within the API's limit), every entry a 10-character username with an account and not on the roll yet (each
answer must be `added` == entries sent). Per request the API looks each entry up in Cognito (AdminGetUser, 4 at
a time) and writes, per 49 voters, one TransactWriteItems of each voter's blank ballot and roll entry and the
roll size's change (chalicelib/services/roll.py, adapters/dynamo_roll.py).

Baseline, the same run, interleaved with the import request by request (the order alternates): the floor of
writing anything per voter on this stack, boto3 `put_item` of the same blank ballot item (conditional
attribute_not_exists, as the transaction's blank is) straight into moto's ballots table, one client, one item
after another, as many items as the request had entries. The ratio is the import's time per entry over the raw
PutItem's time per item, per request; the figure is the median of the per-request ratios. An open poll needs
no import at all: its voters cost nothing until they vote.

The writes are counted, not guessed:
  - TransactWriteItems calls: per request, ceil(added / 49) when no transaction is cancelled, which holds when
    every entry answers `added` (a voter already on the roll would cancel one and send the rest again); checked.
  - write units: each item of a transaction costs 2 WCU per started KB (DynamoDB's transactional writes). The
    item sizes are measured from the stored items after the import (Query of the roll's entries, Scan of the
    poll's blanks, the tallies' roll lane), with DynamoDB's item size rule (attribute names' UTF-8 bytes plus
    the values': strings' UTF-8 bytes, numbers about 1 byte per 2 digits + 1, booleans 1 byte).
  - Cognito: one AdminGetUser per entry (entries are usernames; an email that is not a username costs a ListUsers
    more), and per request the operator check's AdminGetUser + AdminListGroupsForUser.
Each stored count is checked against N: the roll's size (GET /polls/{id}/roll), its entries and its blanks.

Also for a stack it started: the CPU milliseconds each process (moto, API, stream runner, this one) spent per
entry during the import requests, read from /proc.

Target: every 1,000-entry request ends within 29 s (API Gateway's limit, and the API function's timeout), here
on moto. The ratio has no target: it says whether a roll entry (a lookup and two items in a shared transaction)
costs this stack more or less than the least any per-voter write costs (one PutItem round trip each).

Run:  .venv/bin/python -m bench.roll_import [--voters 10000] [--batch 1000] [--stack DIR/stack.json]
Without --stack it starts its own stack (devstack/stack.py's LocalStack: free ports, a temp dir) and stops it at
the end, even on error. The accounts are made first, untimed (AdminCreateUser, 8 at a time). The last line
printed is a JSON object with every figure.
"""
import argparse
import json
import math
import signal
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, List

from botocore.exceptions import BotoCoreError, ClientError

from bench.harness import bench_stack
from bench.machine import machine
from chalicelib.adapters.dynamo_ballots import BLANK, blank_item
from chalicelib.adapters.dynamo_roll import VOTERS_PER_TRANSACTION
from chalicelib.adapters.dynamo_tallies import ROLL_LANE
from chalicelib.domain.ballots import DEFAULT_PEAK_VOTES_PER_S, bucket_of, buckets_for
from devstack.processes import CpuMeter
from tally_client.http import send
from tally_client.rollfile import roll_batches, roll_body_limit

TARGET_REQUEST_S = 29.0
KB = 1024
TRANSACTIONAL_WCU_PER_KB = 2
STANDARD_WCU_PER_KB = 1


# --- DynamoDB's item size ------------------------------------------------------------------------------------

def value_size(value: dict) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = Decimal(raw).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return len(raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    raise ValueError(f"no size rule here for {kind}")


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int, per_kb: int) -> int:
    return max(1, math.ceil(size / KB)) * per_kb


# --- preparation (untimed) -----------------------------------------------------------------------------------

def make_accounts(stack, names: List[str]) -> float:
    started = time.perf_counter()

    def make(name: str) -> None:
        stack.idp.admin_create_user(UserPoolId=stack.user_pool_id, Username=name, MessageAction="SUPPRESS")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(make, names))
    return time.perf_counter() - started


def create_poll(api: str, token: str, poll_id: str, electorate: str) -> None:
    status, _, body = send(api, "POST", "/polls", token, {"poll_id": poll_id, "title": f"Roll bench {poll_id}",
                                                            "candidates": ["yes", "no"], "electorate": electorate})
    if status != 201:
        raise SystemExit(f"could not create {poll_id}: {status} {body}")


# --- the two sides ---------------------------------------------------------------------------------------------

def import_request(api: str, token: str, poll_id: str, names: List[str]) -> Dict:
    started = time.perf_counter()
    status, _, report = send(api, "POST", f"/polls/{poll_id}/roll", token, {"voters": names}, timeout=300)
    seconds = time.perf_counter() - started
    error = None
    if status != 200:
        error = f"{status} {report}"
    elif report != {"added": len(names), "already": 0, "invited": 0, "unknown": []}:
        error = f"not every entry added: {report}"
    return {"seconds": seconds, "entries": len(names), "report": report, "error": error,
            "transactions": math.ceil(report.get("added", 0) / VOTERS_PER_TRANSACTION) if not error else None}


def raw_puts(dynamodb, table: str, poll_id: str, buckets: int, count: int) -> Dict:
    keys = [f"raw-{uuid.uuid4().hex}" for _ in range(count)]
    errors, started = [], time.perf_counter()
    for key in keys:
        try:
            dynamodb.put_item(TableName=table, Item=blank_item(poll_id, key, bucket_of(key, buckets)),
                              ConditionExpression="attribute_not_exists(voter_id)")
        except (BotoCoreError, ClientError) as error:
            errors.append(f"{type(error).__name__}: {error}")
    return {"seconds": time.perf_counter() - started, "items": count, "errors": errors}


# --- counting what was written --------------------------------------------------------------------------------

def stored_items(stack, settings, poll_id: str) -> Dict[str, List[dict]]:
    dynamodb = stack.aws_client("dynamodb")
    entries = [item for page in dynamodb.get_paginator("query").paginate(
        TableName=settings.rolls_table, KeyConditionExpression="poll_id = :p",
        ExpressionAttributeValues={":p": {"S": poll_id}}) for item in page["Items"]]
    blanks = [item for page in dynamodb.get_paginator("scan").paginate(
        TableName=settings.ballots_table, FilterExpression="poll_id = :p",
        ExpressionAttributeValues={":p": {"S": poll_id}}) for item in page["Items"]]
    lane = dynamodb.get_item(TableName=settings.tallies_table, ConsistentRead=True,
                             Key={"poll_id": {"S": poll_id}, "shard_id": {"S": ROLL_LANE}}).get("Item") or {}
    return {"entries": entries, "blanks": blanks, "lane": lane}


def write_cost(stored: Dict, transactions: int) -> Dict:
    blank_units = sum(units(item_size(item), TRANSACTIONAL_WCU_PER_KB) for item in stored["blanks"])
    entry_units = sum(units(item_size(item), TRANSACTIONAL_WCU_PER_KB) for item in stored["entries"])
    lane_units = transactions * units(item_size(stored["lane"]), TRANSACTIONAL_WCU_PER_KB)
    voters = len(stored["entries"]) or 1
    total = blank_units + entry_units + lane_units
    return {
        "transactions": transactions,
        "items_written": len(stored["blanks"]) + len(stored["entries"]) + transactions,
        "blank_bytes_max": max((item_size(i) for i in stored["blanks"]), default=0),
        "entry_bytes_max": max((item_size(i) for i in stored["entries"]), default=0),
        "lane_bytes": item_size(stored["lane"]) if stored["lane"] else 0,
        "wcu_blanks": blank_units, "wcu_entries": entry_units, "wcu_roll_size": lane_units, "wcu_total": total,
        "wcu_per_voter": round(total / voters, 3),
        # What the same voters would cost with ordinary PutItems of the same items and no transaction.
        "wcu_same_items_plain_put": sum(units(item_size(i), STANDARD_WCU_PER_KB)
                                        for i in stored["blanks"] + stored["entries"]),
    }


# --- the run ---------------------------------------------------------------------------------------------------

@dataclass
class ImportRounds:
    """The roll's import requests and the raw baseline's phases, interleaved, with the CPU each process spent on
    the requests and the wall time of the whole."""
    requests: List[Dict] = field(default_factory=list)
    baselines: List[Dict] = field(default_factory=list)
    cpu: Dict[str, float] = field(default_factory=dict)
    wall: float = 0.0


def timed_import(stack, meter: CpuMeter, token: str, poll_id: str, chunk: List[str], cpu: Dict[str, float]) -> Dict:
    """One import request, the CPU each process spent on it added to `cpu`."""
    before = meter.sample()
    request = import_request(stack.api_url, token, poll_id, chunk)
    after = meter.sample()
    for process in after:
        cpu[process] = cpu.get(process, 0.0) + after[process] - before[process]
    return request


def interleaved_import(stack, meter: CpuMeter, token: str, names: List[str], batch: int, roll_poll: str,
                       raw_poll: str) -> ImportRounds:
    """The roll in batches cut as the CLI cuts them (tally_client/rollfile.py, with the limit GET /config gives),
    each request beside a raw phase of as many blank ballots, the order alternating request by request."""
    rounds = ImportRounds()
    ballots_table = stack.settings().ballots_table
    raw_buckets = buckets_for(DEFAULT_PEAK_VOTES_PER_S)
    dynamodb = stack.aws_client("dynamodb", retries={"total_max_attempts": 1})
    _, _, config = send(stack.api_url, "GET", "/config")
    started = time.perf_counter()
    for number, chunk in enumerate(roll_batches(names, max_bytes=roll_body_limit(config), max_entries=batch)):
        sides = ["import", "raw"] if number % 2 == 0 else ["raw", "import"]
        for side in sides:
            if side == "import":
                rounds.requests.append(timed_import(stack, meter, token, roll_poll, chunk, rounds.cpu))
            else:
                rounds.baselines.append(raw_puts(dynamodb, ballots_table, raw_poll, raw_buckets, len(chunk)))
        request, baseline = rounds.requests[-1], rounds.baselines[-1]
        ratio = (request["seconds"] / request["entries"]) / (baseline["seconds"] / baseline["items"])
        request["ratio"] = ratio
        print(f"request {number + 1}: {request['entries']:,} entries in {request['seconds']:.2f} s "
              f"({request['error'] or 'all added'}); raw PutItem {baseline['items']:,} in "
              f"{baseline['seconds']:.2f} s; ratio {ratio:.2f} ({sides[0]} first)", flush=True)
    rounds.wall = time.perf_counter() - started
    return rounds


def measure(stack, meter: CpuMeter, voters: int, batch: int) -> Dict:
    token = stack.token(stack.operator["username"])
    # Short usernames (10 characters); the batches are cut as the CLI cuts them (tally_client/rollfile.py, with the
    # limits GET /config gives: a roll change's body and entries per request), so longer ones could go in more.
    tag = uuid.uuid4().hex[:4]
    names = [f"r{tag}{n:05d}" for n in range(voters)]
    load_before = machine()["load_average"]
    made = make_accounts(stack, names)
    print(f"made {voters:,} accounts in {made:.1f} s (untimed)", flush=True)
    roll_poll, raw_poll = f"rollbench-{tag}", f"rollbench-raw-{tag}"
    create_poll(stack.api_url, token, roll_poll, "roll")
    create_poll(stack.api_url, token, raw_poll, "roll")  # nobody on its roll: the raw blanks are all it holds
    rounds = interleaved_import(stack, meter, token, names, batch, roll_poll, raw_poll)
    status, _, page = send(stack.api_url, "GET", f"/polls/{roll_poll}/roll", token)
    stored = stored_items(stack, stack.settings(), roll_poll)
    counts = {"roll_size": page.get("size") if status == 200 else None, "roll_entries": len(stored["entries"]),
              "blanks": sum(1 for item in stored["blanks"] if BLANK in item)}
    return {"voters": voters, "batch": batch, "requests": len(rounds.requests), "accounts_made_s": round(made, 1),
            **figures(rounds, stored, counts, voters),
            "machine": {**machine(), "load_average_before": load_before}}


def figures(rounds: ImportRounds, stored: Dict, counts: Dict, voters: int) -> Dict:
    """The import against its baseline, what it stored and wrote, and every error (a count that is not the
    roll's size among them)."""
    requests, baselines = rounds.requests, rounds.baselines
    transactions = sum(r["transactions"] or 0 for r in requests)
    import_seconds = sum(r["seconds"] for r in requests)
    raw_seconds = sum(b["seconds"] for b in baselines)
    raw_items = sum(b["items"] for b in baselines)
    errors = [r["error"] for r in requests if r["error"]] + [e for b in baselines for e in b["errors"]]
    if any(count != voters for count in counts.values()):
        errors.append(f"stored counts {counts} are not {voters}")
    seconds = [r["seconds"] for r in requests]
    return {
        "wall_s": round(rounds.wall, 1), "import_s": round(import_seconds, 2),
        "entries_per_s": round(voters / import_seconds, 1),
        "request_s_median": round(statistics.median(seconds), 2), "request_s_max": round(max(seconds), 2),
        "target_request_s": TARGET_REQUEST_S, "request_target_met": max(seconds) <= TARGET_REQUEST_S,
        "raw_put_s": round(raw_seconds, 2), "raw_puts_per_s": round(raw_items / raw_seconds, 1),
        "ratio_median": round(statistics.median(r["ratio"] for r in requests), 2),
        "ratios": [round(r["ratio"], 2) for r in requests],
        "ratio_of_totals": round((import_seconds / voters) / (raw_seconds / raw_items), 2),
        **counts,
        **write_cost(stored, transactions),
        "cognito_admin_get_user": voters + len(requests), "cognito_list_groups": len(requests),
        "cpu_ms_per_entry": {k: round(v * 1000 / voters, 2) for k, v in rounds.cpu.items() if not math.isnan(v)},
        "errors": errors,
    }


def print_table(s: Dict) -> None:
    rows = [
        ("roll imported", f"{s['voters']:,} entries in {s['requests']} requests of up to {s['batch']:,}"),
        ("import time (requests only)", f"{s['import_s']:.1f} s = {s['entries_per_s']:.1f} entries/s"),
        ("wall time incl. interleaved baseline", f"{s['wall_s']:.1f} s"),
        ("request p50 / max", f"{s['request_s_median']:.2f} / {s['request_s_max']:.2f} s (target <= "
                              f"{TARGET_REQUEST_S:.0f} s: {'met' if s['request_target_met'] else 'NOT met'})"),
        ("baseline raw conditional PutItem", f"{s['raw_puts_per_s']:.1f} items/s, one client"),
        ("import per entry / raw PutItem per item", f"median {s['ratio_median']:.2f} (per request {s['ratios']}); "
                                                    f"of totals {s['ratio_of_totals']:.2f}"),
        ("stored: roll size, entries, blanks", f"{s['roll_size']}, {s['roll_entries']}, {s['blanks']}"),
        ("TransactWriteItems calls", f"{s['transactions']:,} ({s['items_written']:,} items)"),
        ("item sizes: blank, entry, roll lane",
         f"{s['blank_bytes_max']} / {s['entry_bytes_max']} / {s['lane_bytes']} B"),
        ("write units (transactional, 2 per KB)", f"{s['wcu_total']:,} = blanks {s['wcu_blanks']:,} + entries "
                                                  f"{s['wcu_entries']:,} + size {s['wcu_roll_size']:,}; "
                                                  f"{s['wcu_per_voter']} per voter"),
        ("same items as plain PutItems", f"{s['wcu_same_items_plain_put']:,} WCU"),
        ("Cognito calls", f"AdminGetUser {s['cognito_admin_get_user']:,}, AdminListGroupsForUser "
                          f"{s['cognito_list_groups']}"),
        ("CPU ms per entry", ", ".join(f"{k} {v}" for k, v in s["cpu_ms_per_entry"].items())),
        ("load average before / after", f"{s['machine']['load_average_before']} / {s['machine']['load_average']}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for error in s["errors"][:10]:
        print(f"ERROR: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=10_000, help="entries on the roll (default 10,000)")
    parser.add_argument("--batch", type=int, default=1000, help="entries per request, 1 to 1,000 (default 1,000)")
    parser.add_argument("--stack", help="stack.json of a running stack, instead of starting one")
    args = parser.parse_args()
    if args.voters < 1 or not 1 <= args.batch <= 1000:
        parser.error("--voters must be at least 1 and --batch 1 to 1,000")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with bench_stack(args.stack) as (stack, meter):
        summary = measure(stack, meter, args.voters, args.batch)
    print_table(summary)
    print(json.dumps(summary))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
