"""The tools are held to the core's shape: no function or method in them longer than 60 lines (issue 21).

A function's length is counted from its `def` line to the last line of its body, both included, less the lines of
its docstring; decorators are not counted. A nested function or class is part of the function that holds it, and is
also counted on its own.
"""
import ast
from pathlib import Path
from typing import Iterator, List

from infra import project_root

ROOT = project_root()
MAX_LINES = 60
# The packages around the core (chalicelib/ is the model they are held to), and infra's modules.
PACKAGES = ("devstack", "cli", "loadtest", "bench", "tally_client", "capacity")


def tool_files() -> List[Path]:
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    return files + sorted((ROOT / "infra").glob("*.py"))


def function_lengths(source: str) -> Iterator[tuple]:
    """(name, first line, length) of every function and method in `source`, counted as the module says."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = node.end_lineno - node.lineno + 1
        if ast.get_docstring(node) is not None:
            docstring = node.body[0]
            length -= docstring.end_lineno - docstring.lineno + 1
        yield node.name, node.lineno, length


def test_every_tool_package_is_there():
    missing = [package for package in PACKAGES if not (ROOT / package / "__init__.py").exists()]
    assert not missing, f"the shape test reads packages that are not in the project: {missing}"


def test_no_tool_function_is_longer_than_60_lines():
    long = [f"{path.relative_to(ROOT)}:{line} {name}: {length} lines"
            for path in tool_files()
            for name, line, length in function_lengths(path.read_text())
            if length > MAX_LINES]
    assert not long, f"functions over {MAX_LINES} lines (split them by step):\n" + "\n".join(long)


def test_the_count_runs_from_the_def_line_to_the_end_of_the_body_without_the_docstring():
    body = "".join(f"    x{i} = {i}\n" for i in range(59))
    source = f'@decorated\ndef short():\n    """Said\n    twice."""\n{body}\ndef long():\n{body}    return 1\n'
    assert {name: length for name, _, length in function_lengths(source)} == {"short": 60, "long": 61}
