"""Two Lambda packages side by side: their size, and what a cold start pays for each, interleaved in one run.

    .venv/bin/python -m bench.package_compare --before OLD.zip --after build/package/deployment.zip [--runs 15]
        [--tmp /dev/shm]

A Lambda cold start downloads the package, extracts it into /var/task and imports the handler module. For each zip
this reports its size (zipped, extracted, files), the wall time to extract it (zipfile, into a fresh directory)
and the import of app.py from its extracted tree as bench/cold_start.py --zip measures it (the tree first on
sys.path, this venv's site-packages standing in for the runtime's boto3, `-S`, nothing written; its environment and
child are cold_start's own). Each round runs both, the order alternating; figures are medians and each ratio is the
median of the per-round after / before ratios (the baseline is the `before` package in the same run).
The last line is a JSON object with every figure.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List

from bench.cold_start import environment, one_run
from bench.machine import cpu_model


def sizes(zip_path: Path) -> Dict[str, float]:
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    return {"zip_mb": round(zip_path.stat().st_size / 1e6, 2),
            "extracted_mb": round(sum(i.file_size for i in infos) / 1e6, 2), "files": len(infos)}


def extract_ms(zip_path: Path, into: Path) -> float:
    if into.exists():
        shutil.rmtree(into)
    started = time.perf_counter()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
    return (time.perf_counter() - started) * 1000


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the baseline package")
    parser.add_argument("--after", type=Path, required=True, help="the package under test")
    parser.add_argument("--runs", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--tmp", type=Path, default=None,
                        help="where to extract (default: the system's temporary directory); /dev/shm takes the "
                             "disk out of the figure, which a machine shared with other work makes noisy")
    args = parser.parse_args(argv)
    zips = {"before": args.before, "after": args.after}
    samples: Dict[str, Dict[str, List[float]]] = {name: {"extract_ms": [], "import_ms": []} for name in zips}
    with tempfile.TemporaryDirectory(prefix="tally-package-", dir=args.tmp) as tmp:
        env = environment(tmp, False, str(Path(tmp) / "empty-pycache"))
        env.update({"PYTHONPATH": sysconfig.get_paths()["purelib"], "PYTHONDONTWRITEBYTECODE": "1"})
        trees = {name: Path(tmp) / name for name in zips}
        for name, path in zips.items():  # warm-up, discarded: fills the page cache
            extract_ms(path, trees[name])
            one_run(trees[name], env, isolated=True)
        for round_ in range(args.runs):
            for name in (list(zips) if round_ % 2 == 0 else list(reversed(list(zips)))):
                samples[name]["extract_ms"].append(extract_ms(zips[name], trees[name]))
                samples[name]["import_ms"].append(one_run(trees[name], env, isolated=True)["import_ms"])

    def ratio(key: str) -> float:
        return round(statistics.median(a / b for a, b in zip(samples["after"][key], samples["before"][key],
                                                             strict=True)), 3)

    result = {name: {**sizes(path), **{key: round(statistics.median(values), 1)
                                       for key, values in samples[name].items()}}
              for name, path in zips.items()}
    result.update({"extract_ratio": ratio("extract_ms"), "import_ratio": ratio("import_ms"), "runs": args.runs,
                   "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
                   "cpu": cpu_model(), "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d")})
    print(f"Two Lambda packages, median of {args.runs} interleaved rounds, Python {result['python']}, "
          f"{result['cores']} cores, {result['cpu']}, load {result['load_average']}")
    print(f"  {'':<8} {'zip':>9} {'extracted':>10} {'files':>7} {'extract':>10} {'import app':>11}")
    for name in zips:
        r = result[name]
        print(f"  {name:<8} {r['zip_mb']:>6.1f} MB {r['extracted_mb']:>7.1f} MB {r['files']:>7,} "
              f"{r['extract_ms']:>7.0f} ms {r['import_ms']:>8.1f} ms")
    print(f"  after / before: extract {result['extract_ratio']:.2f}x, import {result['import_ratio']:.2f}x "
          "(median of per-round ratios)")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
