"""The Lambda zip leaves out the distributions nothing the functions run imports (grpcio, protobuf and
opensearch-protobufs, which opensearch-py 3.x requires for a gRPC transport the app never uses), and refuses to
when something the app reaches does import them."""
import ast
import sys
import zipfile
from pathlib import Path

import pytest

from infra import build_template, project_root

ROOT = project_root()


def record(*paths):
    return "\n".join(f"{path},sha256=x,1" for path in paths) + "\n"


def write_zip(path, app="import used\n", used="VALUE = 1\n", extra=None):
    files = {
        "app.py": app,
        "used/__init__.py": used,
        "grpc/__init__.py": "from grpc import _channel\n",
        "grpc/_channel.py": "",
        "grpc/_cython/cygrpc.cpython-311-aarch64-linux-gnu.so": "\x7fELF",
        "grpcio-1.85.3.dist-info/RECORD": record("grpc/__init__.py", "grpc/_channel.py",
                                                 "grpc/_cython/cygrpc.cpython-311-aarch64-linux-gnu.so"),
        "grpcio-1.85.3.dist-info/METADATA": "Name: grpcio\n",
        "google/protobuf/__init__.py": "",
        "google/protobuf/json_format.py": "",
        "protobuf-7.36.2.dist-info/RECORD": record("google/protobuf/__init__.py", "google/protobuf/json_format.py"),
        "opensearch/protobufs/__init__.py": "import grpc\n",
        "opensearch_protobufs-1.2.0.dist-info/RECORD": record("opensearch/protobufs/__init__.py"),
        # Reached by nothing app.py imports, as Powertools' Kafka deserializer is not.
        "unreached/kafka.py": "from google.protobuf import json_format\n",
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def names(path):
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def test_the_unused_distributions_and_their_records_leave_the_zip(tmp_path):
    path = write_zip(tmp_path / "deployment.zip")
    taken = build_template.slim(path)
    assert names(path) == {"app.py", "used/__init__.py", "unreached/kafka.py"}
    assert taken["files"] == 10 and taken["modules_checked"] == 2  # app and used


def test_a_module_the_app_reaches_that_imports_one_of_them_stops_the_package(tmp_path):
    path = write_zip(tmp_path / "deployment.zip", used="from .deep import x\n",
                     extra={"used/deep.py": "def x():\n    from google.protobuf import json_format\n"})
    before = path.read_bytes()
    with pytest.raises(SystemExit, match="used/deep.py imports google.protobuf"):
        build_template.slim(path)
    assert path.read_bytes() == before


def test_an_import_the_code_can_do_without_is_no_reason_to_keep_them(tmp_path):
    path = write_zip(tmp_path / "deployment.zip",
                     used="try:\n    import grpc\nexcept ImportError:\n    grpc = None\n")
    build_template.slim(path)
    assert "grpc/__init__.py" not in names(path)


def test_a_distribution_no_longer_installed_is_said(tmp_path):
    path = write_zip(tmp_path / "deployment.zip")
    with pytest.raises(SystemExit, match="not in the zip"):
        build_template.slim(path, unused=("grpcio", "left-pad"))


def test_relative_imports_resolve_in_their_package():
    assert "pkg.sub.mod" in build_template.imports_of("from .mod import x\n", "pkg.sub")
    assert "pkg.other" in build_template.imports_of("from .. import other\n", "pkg.sub")


def test_nothing_the_app_imports_needs_grpc_or_protobuf_in_this_venv():
    # The same question asked of the installed packages: a module of the app's import closure that imports one
    # of them unconditionally would be found missing on Lambda.
    site = next(Path(p) for p in sys.path if (Path(p) / "opensearchpy").is_dir())
    for package in ("opensearchpy", "aws_lambda_powertools/logging", "aws_lambda_powertools/metrics", "jwt"):
        for source in (site / package).rglob("*.py"):
            for name in build_template.imports_of(source.read_text(), ""):
                assert not name.startswith(("grpc", "google.protobuf", "opensearch.protobufs")), (source, name)
    for source in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        tree = ast.parse(source.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import) and
                    any(a.name.split(".")[0] == "grpc" for a in n.names)], source
