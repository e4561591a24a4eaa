"""The tools stand side by side on two shared packages: each of cli, loadtest and bench may import tally_client
(the client side) and devstack (the local stack), never one another; devstack imports no tool; tally_client
imports no tool and not devstack. Every import counts, the ones inside functions too."""
import ast
from pathlib import Path

from infra import project_root

ROOT = project_root()
TOOLS = ("cli", "loadtest", "bench")
# What each package must not import.
FORBIDDEN = {
    "tally_client": {"devstack", *TOOLS},
    "devstack": set(TOOLS),
    **{tool: set(TOOLS) - {tool} for tool in TOOLS},
}


def imported_packages(source: str, package: str):
    """(line, top-level package) of every import in `source`, a module of `package`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            # `from .x import y` stays inside the package, however many dots.
            yield node.lineno, package if node.level else node.module.split(".")[0]


def sideways_imports(package: str, root: Path) -> list:
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, imported in imported_packages(path.read_text(), package):
            if imported in FORBIDDEN[package]:
                found.append(f"{path.relative_to(root)}:{line} imports {imported}")
    return found


def test_no_tool_imports_another_and_tally_client_imports_no_tool():
    found = [problem for package in FORBIDDEN for problem in sideways_imports(package, ROOT)]
    assert not found, "imports across the tools:\n" + "\n".join(found)


def test_the_check_finds_imports_inside_functions_and_relative_ones_stay_home(tmp_path):
    (tmp_path / "loadtest").mkdir()
    (tmp_path / "loadtest" / "example.py").write_text(
        "import json\nfrom . import voters\n\n\ndef run():\n    from cli.target import resolve\n"
        "    import bench.harness\n")
    assert sideways_imports("loadtest", tmp_path) == ["loadtest/example.py:6 imports cli",
                                                      "loadtest/example.py:7 imports bench"]
