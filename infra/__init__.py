"""The deployment's definitions (the template's pieces, infra/*.json) and its tools:
`python -m infra.build_template` and `python -m infra.publish_dashboard`."""
import json
from importlib import resources
from pathlib import Path


def project_root() -> Path:
    """The checkout the project is installed from (editable: `make` runs `pip install -e .`), where app.py,
    .chalice/, dashboard/, build/ and .devstack/ are. The one place that finds it from a file's path."""
    return Path(__file__).resolve().parent.parent


def piece(name: str) -> dict:
    """One of the template's pieces as JSON: piece("tables") is infra/tables.json."""
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text())
