"""Cold start: importing app.py in a fresh interpreter, against a bare Chalice + boto3 + Powertools app.

What a Lambda cold start pays for the app's own code is the import of app.py (Chalice imports the handler
module before the first event). The baseline is the least an app on this stack imports: a bare Chalice app
module that imports boto3 and creates Powertools' Logger, Metrics and Tracer, written to a temp dir. Each run
starts a new interpreter (`python -c "import app"`) and times the import inside it: wall time (perf_counter) and
the CPU time it took (process_time, which other load on a shared machine moves far less). Interpreter start-up is
the same for both and is reported apart, as the process's wall time. Runs are interleaved, app and baseline in
turn, the order alternating each round, after one discarded warm-up each. Figures are medians; a ratio is the
median of the per-round ratios app / baseline (each round's two runs are adjacent in time, so drift cancels).
Target: ratio <= 1.25.

Both run with a Lambda-like environment (LAMBDA_TASK_ROOT set, so Powertools' Tracer is on and imports the X-Ray
SDK, as in prod), the prod stage's environment variables and no TALLY_* table or endpoint overrides.

--no-pyc compiles every module from source on every run (`-X pycache_prefix=<empty dir>` and
PYTHONDONTWRITEBYTECODE=1): the Lambda zip Chalice builds carries no .pyc files and /var/task is read-only, so
on Lambda the app's modules and its bundled packages are compiled at each cold start. This mode compiles the
standard library too (Lambda's has .pyc), so its ratio understates the app's share.

--zip build/package/deployment.zip measures the Lambda package itself (what `make package` builds) instead: the
app imported from the zip's contents, which carry unchecked-hash .pyc files (infra/build_template.py adds them),
against the same contents with the .pyc files taken out, as Chalice alone builds the zip. Each runs as on Lambda:
the zip's tree first on sys.path (its bundled botocore shadows the runtime's), then this venv's site-packages
standing in for the runtime's boto3, no site hooks (`-S`), nothing written; the standard library keeps its .pyc,
as Lambda's does. The ratio is precompiled / source-only.

Run:  .venv/bin/python -m bench.cold_start [--runs 15] [--no-pyc | --zip build/package/deployment.zip]
The last line is a JSON object with every figure.
"""
import argparse
import ast
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List

from bench.machine import cpu_model
from infra import project_root

ROOT = project_root()

BASELINE = '''"""A bare Chalice app with boto3 and Powertools' Logger, Metrics and Tracer."""
import boto3  # noqa: F401
from aws_lambda_powertools import Logger, Metrics, Tracer
from chalice import Chalice

app = Chalice(app_name="baseline")
logger = Logger()
metrics = Metrics(namespace="Baseline")
tracer = Tracer()


@app.route("/")
def index():
    return {"hello": "world"}
'''

CHILD = ("import time; wall, cpu = time.perf_counter(), time.process_time(); import app; "
         "print(repr(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)))")


def environment(task_root: str, no_pyc: bool, pycache: str) -> Dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TALLY_", "OPENSEARCH_", "POWERTOOLS_", "AWS_ENDPOINT", "PYTHON"))}
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env.update(stage.get("environment_variables", {}))
    env.update(stage["stages"]["prod"].get("environment_variables", {}))
    env.update({
        "LAMBDA_TASK_ROOT": task_root,  # Powertools' Tracer is on in Lambda, and imports the X-Ray SDK
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start-bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    if no_pyc:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def lambda_trees(zip_path: Path, into: Path) -> Dict[str, Path]:
    """The zip's contents twice: as packaged, and without its .pyc files (as Chalice alone builds the zip)."""
    trees = {"precompiled": into / "precompiled", "source-only": into / "source-only"}
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        if not any(name.endswith(".pyc") for name in names):
            raise SystemExit(f"{zip_path} carries no .pyc: build it with `make package`")
        archive.extractall(trees["precompiled"])
        archive.extractall(trees["source-only"], members=[name for name in names if not name.endswith(".pyc")])
    return trees


def one_run(cwd: Path, env: Dict[str, str], isolated: bool = False) -> Dict[str, float]:
    started = time.perf_counter()
    command = [sys.executable, *(["-S"] if isolated else []), "-c", CHILD]
    done = subprocess.run(command, cwd=str(cwd), env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"importing app in {cwd} failed:\n{done.stderr}")
    import_ms, import_cpu_ms = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return {"import_ms": import_ms, "import_cpu_ms": import_cpu_ms, "process_ms": wall}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each (default 15)")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--no-pyc", action="store_true", help="compile every module from source each run")
    modes.add_argument("--zip", type=Path, help="the Lambda package: precompiled against source only")
    return parser.parse_args(argv)


def interleaved_samples(args: argparse.Namespace) -> Dict[str, List[Dict[str, float]]]:
    """Each subject's timed runs, the subject under test first: one discarded warm-up each, then rounds of one
    run each, the order alternating round by round."""
    with tempfile.TemporaryDirectory(prefix="tally-cold-") as tmp:
        baseline_dir = Path(tmp) / "baseline"
        baseline_dir.mkdir()
        (baseline_dir / "app.py").write_text(BASELINE)
        pycache = Path(tmp) / "empty-pycache"
        pycache.mkdir()
        env = environment(tmp, args.no_pyc, str(pycache))
        isolated = bool(args.zip)  # Lambda's sys.path: no site hooks
        if isolated:
            subjects = lambda_trees(args.zip, Path(tmp))
            env.update({"PYTHONPATH": sysconfig.get_paths()["purelib"], "PYTHONDONTWRITEBYTECODE": "1"})
        else:
            subjects = {"app": ROOT, "baseline": baseline_dir}
        samples: Dict[str, List[Dict[str, float]]] = {name: [] for name in subjects}
        for cwd in subjects.values():
            one_run(cwd, env, isolated)  # warm-up, discarded: the first run fills the page cache
        for round_ in range(args.runs):
            order = list(subjects) if round_ % 2 == 0 else list(reversed(list(subjects)))
            for name in order:
                samples[name].append(one_run(subjects[name], env, isolated))
    return samples


def figures(args: argparse.Namespace, samples: Dict[str, List[Dict[str, float]]]) -> dict:
    """The medians of each subject and the median of the per-round ratios, with the machine."""
    subject, baseline = samples

    def median(name: str, key: str) -> float:
        return round(statistics.median(sample[key] for sample in samples[name]), 1)

    def per_round(key: str) -> List[float]:
        return [round(a[key] / b[key], 3) for a, b in zip(samples[subject], samples[baseline], strict=True)]

    def ratio(key: str) -> float:
        # The median of the rounds' own ratios, not the ratio of the medians: each round's two runs are adjacent
        # in time, so a load that comes and goes cancels within a round. The two can differ by 0.1 or more.
        return round(statistics.median(per_round(key)), 3)

    return {
        "mode": (f"Lambda package {args.zip}" if args.zip
                 else "no .pyc (compiled from source)" if args.no_pyc else "with .pyc (as installed)"),
        "runs": args.runs,
        "subject": subject,
        "baseline": baseline,
        **{f"{name}_{key}": median(name, key) for name in samples
           for key in ("import_ms", "import_cpu_ms", "process_ms")},
        "import_ratio": ratio("import_ms"),
        "import_cpu_ratio": ratio("import_cpu_ms"),
        "process_ratio": ratio("process_ms"),
        "import_ratio_per_round": per_round("import_ms"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }


def print_figures(result: dict, args: argparse.Namespace) -> None:
    subject, baseline = result["subject"], result["baseline"]
    print(f"Cold start, {result['mode']}: median of {args.runs} interleaved runs each, "
          f"Python {result['python']}, {result['cores']} cores, {result['cpu']}, load {result['load_average']}")
    print(f"  {'':<18} {'import, wall':>14} {'import, CPU':>14} {'process, wall':>14}")
    for name in (subject, baseline):
        print(f"  {name:<18} {result[name + '_import_ms']:>11.1f} ms {result[name + '_import_cpu_ms']:>11.1f} ms "
              f"{result[name + '_process_ms']:>11.1f} ms")
    target = "" if args.zip else "; target <= 1.25x"
    print(f"  {'ratio':<18} {result['import_ratio']:>13.2f}x {result['import_cpu_ratio']:>13.2f}x "
          f"{result['process_ratio']:>13.2f}x   ({subject} / {baseline}, median of per-round ratios{target})")
    print(f"  per-round import ratios: {' '.join(f'{r:.2f}' for r in result['import_ratio_per_round'])}")
    print(json.dumps(result))


def main(argv=None) -> dict:
    args = parse_args(argv)
    result = figures(args, interleaved_samples(args))
    print_figures(result, args)
    return result


if __name__ == "__main__":
    main()
