"""What checking the index against the exact counters adds to a results request (issue 11).

In one process against moto (mock_aws) and the embedded index: a poll of --ballots ballots counted over --lanes
stream shards, then, interleaved over --rounds rounds, --calls calls of each:
  index      the index's counts alone: what a results request read before the check (the baseline);
  tallies    the added read: one Query of the poll's lane items;
  results    the whole use case as the route runs it (both reads and the comparison).
It prints ms per call, the ratios against the baseline, and a JSON line. moto's in-process Query is not
DynamoDB's network round trip: on AWS the added read is one consistent Query of the poll's lanes (one item per
stream shard that ever carried the poll, ~100 bytes each: 1 RRU up to 4 KB).

Run:  .venv/bin/python -m bench.results_check [--ballots 5000] [--lanes 8] [--calls 200] [--rounds 3]
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import boto3
from moto import mock_aws

from chalicelib import config
from chalicelib.adapters.dynamo_tallies import DynamoTallyStore
from chalicelib.adapters.sqlite_index import SqliteIndex
from chalicelib.domain.ballots import Ballot
from chalicelib.domain.polls import new_poll
from chalicelib.domain.results import windows
from chalicelib.domain.stream import StreamBallot
from chalicelib.domain.times import utc_now
from chalicelib.runtime import Runtime
from devstack.tables import create_tables


def timed(call, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n * 1000


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ballots", type=int, default=5000)
    parser.add_argument("--lanes", type=int, default=8)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        settings = config.load({"AWS_REGION": "us-east-1", "TALLY_INDEX_PATH": f"{tmp}/results.sqlite3"})
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), settings)
        rt = Runtime(settings)
        poll = new_poll({"poll_id": "bench", "title": "Bench", "candidates": ["red", "green", "blue"]}, utc_now())
        rt.poll_store.add(poll)
        tallies: DynamoTallyStore = rt.tallies
        index: SqliteIndex = rt.index
        ballots = [StreamBallot(str(n + 1).zfill(40), Ballot("bench", f"v{n}", ("red", "green", "blue")[n % 3],
                                                             utc_now())) for n in range(args.ballots)]
        for lane in range(args.lanes):
            tallies.apply("bench", f"shardId-{lane}", ballots[lane::args.lanes])
        index.write(ballots, utc_now())
        w = windows(poll, utc_now())
        samples = {"index": [], "tallies": [], "results": []}
        for _ in range(args.rounds):
            samples["index"].append(timed(lambda: index.counts("bench", w), args.calls))
            samples["tallies"].append(timed(lambda: tallies.counts("bench"), args.calls))
            samples["results"].append(timed(lambda: rt.results.results("bench", operator=True), args.calls))
        view = rt.results.results("bench", operator=True)
        assert view["total"] == args.ballots and view["source"] == "index"
    ms = {name: statistics.median(values) for name, values in samples.items()}
    summary = {"ms_per_call": {k: round(v, 3) for k, v in ms.items()},
               "tallies_over_index": round(ms["tallies"] / ms["index"], 2),
               "results_over_index": round(ms["results"] / ms["index"], 2),
               "inputs": vars(args)}
    print(f"{'read':<10}{'ms/call':>10}{'x index':>10}")
    for name in ("index", "tallies", "results"):
        print(f"{name:<10}{ms[name]:>10.3f}{ms[name] / ms['index']:>10.2f}")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
