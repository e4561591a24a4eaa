"""The packaged template, built once per session the way `make package` builds it, offline.

`--template-only` packages a copy of the app without its requirements: Chalice emits the same template (the code
is a zip beside it either way) without fetching the Lambda's Linux wheels from PyPI.
"""
import json

import pytest

from infra import build_template


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
