"""checkov on the packaged template: every failed check is either fixed or waived, with its reason, in
infra/checkov-skips.yaml; a failure not listed there fails this test, and so does a waiver that no longer fails.

checkov runs from its own venv (.venv-checkov, pinned in requirements-checkov.txt): its dependencies pin boto3,
networkx and packaging below the project's. `make test` creates it. It runs offline: BC_SKIP_MAPPING and
--skip-download keep it from fetching guidelines or policies from the vendor's platform.
"""
import json
import os
import subprocess

import pytest
import yaml

from infra import project_root

ROOT = project_root()
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS = ROOT / "infra" / "checkov-skips.yaml"
VERSION = "3.3.30"


def waivers():
    """{(check, resource): reason} from infra/checkov-skips.yaml."""
    listed = {}
    for waiver in yaml.safe_load(SKIPS.read_text())["waivers"]:
        assert waiver["reason"].strip(), waiver["check"]
        for resource in waiver["resources"]:
            assert (waiver["check"], resource) not in listed, (waiver["check"], resource)
            listed[(waiver["check"], resource)] = waiver["reason"]
    return listed


@pytest.fixture(scope="module")
def report(packaged):
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: `make test` installs it (requirements-checkov.txt)")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [str(CHECKOV), "--file", str(packaged), "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--quiet", "--compact"],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode in (0, 1), result.stderr  # 1: some check failed
    found = json.loads(result.stdout)
    return found[0] if isinstance(found, list) else found


def test_checkov_is_the_pinned_version(report):
    assert report["summary"]["checkov_version"] == VERSION
    assert f"checkov=={VERSION}" in (ROOT / "requirements-checkov.txt").read_text().splitlines()


def test_checkov_parses_the_whole_template(report, resources):
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= len(resources) - 5  # it skips a few it has no checks for
    assert report["summary"]["passed"] > 0


def test_every_failed_check_is_waived_with_a_reason(report):
    failed = {(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]}
    unlisted = sorted(failed - set(waivers()))
    assert not unlisted, ("checkov failures not fixed and not waived in infra/checkov-skips.yaml:\n  "
                          + "\n  ".join(f"{check} {resource}" for check, resource in unlisted))


def test_no_waiver_outlives_its_failure(report):
    failed = {(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]}
    stale = sorted(set(waivers()) - failed)
    assert not stale, "waivers in infra/checkov-skips.yaml for checks that now pass (remove them):\n  " + "\n  ".join(
        f"{check} {resource}" for check, resource in stale)
