"""The packaged template, built once per session the way `make package` builds it, offline.

`--template-only` packages a copy of the app without its requirements: Chalice emits the same template (the code
is a zip beside it either way) without fetching the Lambda's Linux wheels from PyPI.
"""
import json

import pytest
from moto import mock_aws

from infra import build_template

AWS_REGION = "eu-west-1"  # deploy's and preflight's tests: a Region other than the local stack's


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    root = tmp_path_factory.mktemp("package")
    path = build_template.package(root / "out", template_only=True, merge_template=root / "merge-template.json")
    return path


@pytest.fixture(scope="session")
def template(packaged):
    return json.loads(packaged.read_text())


@pytest.fixture(scope="session")
def resources(template):
    return template["Resources"]


@pytest.fixture
def aws(monkeypatch):
    """An emulated AWS account (moto) for the deploy and preflight commands, with test credentials."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": AWS_REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield
