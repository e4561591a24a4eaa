"""The Lambda zip carries bytecode that the runtime loads instead of compiling the source at each cold start."""
import os
import subprocess
import sys
import zipfile

import pytest

from infra import build_template

THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def lambda_zip(tmp_path):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "from pkg.mod import VALUE\n")
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/mod.py", "VALUE = 'from the bytecode'\n")
        archive.writestr("pkg/data.json", "{}")
        archive.writestr("pkg/__pycache__/gone.cpython-311.pyc", b"left over in a developer's tree")
    return path


def test_every_module_gets_unchecked_bytecode_that_the_interpreter_uses(lambda_zip, tmp_path):
    assert build_template.precompile(lambda_zip, THIS_RUNTIME) == 3
    tree = tmp_path / "task"
    with zipfile.ZipFile(lambda_zip) as archive:
        names = set(archive.namelist())
        archive.extractall(tree)
    assert {"app.py", "pkg/data.json", "pkg/mod.py"} <= names
    assert not any("gone" in name for name in names)
    # The source is edited after packaging: an interpreter that reads the bytecode does not notice, as on Lambda,
    # where /var/task is read-only and nothing would be compiled or written.
    (tree / "pkg" / "mod.py").write_text("VALUE = 'from the source'\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    done = subprocess.run([sys.executable, "-S", "-c", "import app; print(app.VALUE)"], cwd=tree, env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "from the bytecode"


def test_bytecode_for_another_python_is_refused(lambda_zip):
    before = lambda_zip.read_bytes()
    with pytest.raises(SystemExit, match="python3.99"):
        build_template.precompile(lambda_zip, "python3.99")
    assert lambda_zip.read_bytes() == before
