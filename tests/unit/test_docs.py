"""The README and docs/ name only what is in the project, and what they tell a reader to run runs.

A document drifts silently: a file is renamed, a make target goes, a figure measured once is quoted long after
the code changed. Each rule here fails on the first such drift, naming the document and what it names.
"""
import ast
import importlib.util
import io
import re
import subprocess
import sys
import tokenize
from functools import lru_cache
from pathlib import Path, PurePosixPath

import pytest

from infra import project_root

ROOT = project_root()
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Documents a reader follows, and the sources whose docstrings and comments cite files.
CITING = [*DOCS, ROOT / "openapi.yaml"]
SOURCE_DIRS = ("chalicelib", "devstack", "cli", "loadtest", "bench", "infra", "dashboard", "tests", "capacity",
               "tally_client")
SOURCE_SUFFIXES = {".py", ".js", ".mjs", ".html", ".css"}
FILE_SUFFIXES = ("py", "md", "json", "yaml", "yml", "js", "mjs", "html", "css", "txt", "toml", "ini", "csv", "png",
                 "zip", "pickle", "log", "jsonl", "sqlite3", "cfg")

# Paths a run makes, so a fresh checkout lacks them: the venvs, the built dashboard and package, and the local
# stack's state directory with the files in it (devstack/state.py names them).
GENERATED_PREFIXES = (".venv/", ".venv-checkov/", ".devstack/", "build/", "dashboard/vendor/", "vendor/",
                      "node_modules/", ".chalice/deployments/")
GENERATED_NAMES = {"stack.json", "voters.json", "operator.json", "moto-state.pickle", "devstack.lock", "stream.json",
                   "stream-status.json", "dead-letters.jsonl", "summary.json", "deployment.zip", "sam.json",
                   "results.sqlite3", "LICENSE.md", "chart.js-LICENSE.md",  # the vendored packages' licences
                   "members.csv", "board.csv"}  # the reader's own files in the README's example


@lru_cache(maxsize=None)
def project_files() -> frozenset:
    """Every file of the checkout that is not ignored (tracked or new), and every folder above one."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    files = {name for name in listed if name and (ROOT / name).exists()}
    folders = {str(parent) + "/" for name in files for parent in PurePosixPath(name).parents if str(parent) != "."}
    return frozenset(files | folders)


def in_project(path: str) -> bool:
    """A project file or folder, named from the root or by its tail (`services/ports.py`, `test_routes.py`)."""
    path = path.removeprefix("./")
    if any(path.startswith(prefix) for prefix in GENERATED_PREFIXES) or path in GENERATED_NAMES:
        return True
    if "*" in path:
        return any(PurePosixPath(name).match(path) for name in project_files())
    return any(name == path or name.endswith("/" + path) for name in project_files())


def text_of(document: Path) -> str:
    return document.read_text(encoding="utf-8")


def code_spans(text: str) -> list:
    """What the document sets as code: inline `spans` and the lines of fenced blocks."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return re.findall(r"`([^`\n]+)`", prose) + [line for block in blocks for line in block.splitlines()]


PATH_LIKE = re.compile(r"^\.{0,2}/?[\w@.-]+(?:/[\w@.*-]*)*$")


def looks_like_a_path(span: str) -> bool:
    if not PATH_LIKE.match(span) or span.startswith("/") or "://" in span:
        return False  # `/health` and `/api/` are routes, not files
    stem, dot, suffix = span.rpartition(".")
    return "/" in span.strip("/") or span.endswith("/") or (bool(stem) and dot == "." and suffix in FILE_SUFFIXES)


def named_paths(document: Path) -> list:
    """The files and folders a document names in backticks or links (links relative to the document)."""
    text = text_of(document)
    found = [(span, span) for span in code_spans(text) if looks_like_a_path(span)]
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        target = target.split("#", 1)[0]
        if target and not re.match(r"^[a-z]+:", target):
            found.append((target, str((document.parent / target).resolve().relative_to(ROOT))
                          + ("/" if target.endswith("/") else "")))
    return found


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_every_path_a_document_names_is_in_the_project(document):
    missing = [named for named, path in named_paths(document) if not in_project(path)]
    assert not missing, f"{document.name} names what the project does not hold: {missing}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_every_link_to_a_section_finds_its_heading(document):
    broken = []
    for target, anchor in re.findall(r"\]\(([^)\s#]*)#([^)\s]+)\)", text_of(document)):
        linked = (document.parent / target).resolve() if target else document
        if linked.suffix == ".md" and linked.exists():
            headings = {slug(line.lstrip("#")) for line in text_of(linked).splitlines() if line.startswith("#")}
            if anchor not in headings:
                broken.append(f"{target}#{anchor}")
    assert not broken, f"{document.name} links to sections that are not there: {broken}"


@lru_cache(maxsize=None)
def make_targets() -> frozenset:
    """The Makefile's targets, from its rules (`name: prerequisites`), not by running make."""
    rules = re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", (ROOT / "Makefile").read_text(), flags=re.M)
    return frozenset(rules)


def named_make_targets(document: Path) -> list:
    return [target for span in code_spans(text_of(document))
            for target in re.findall(r"(?:^|[\s;&|(])make ([a-z][\w-]*)", " " + span)]


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_every_make_target_a_document_names_is_in_the_makefile(document):
    missing = sorted(set(named_make_targets(document)) - make_targets())
    assert not missing, f"{document.name} names make targets the Makefile lacks: {missing}"


MODULE_COMMAND = re.compile(r"(?:\.venv/bin/)?python3? -m ([A-Za-z_][\w.]*\w)(?![\w.])((?: [a-z][\w-]*)?)")


def named_commands() -> list:
    """(module, subcommand or "") for every `python -m module [subcommand]` the documents name."""
    found = set()
    for document in DOCS:
        for span in code_spans(text_of(document)):
            found.update((module, sub.strip()) for module, sub in MODULE_COMMAND.findall(span))
    return sorted(found)


@pytest.mark.parametrize("module", sorted({module for module, _ in named_commands()}))
def test_every_module_a_document_runs_is_importable(module):
    assert importlib.util.find_spec(module) is not None, f"the documents run `python -m {module}`, which is gone"


# Modules with no command line to ask: they print what they make and take no arguments, so they are run whole.
NO_ARGUMENTS = {"infra.cloudfront_waf": "prints the CloudFront web ACL's template"}


@pytest.mark.parametrize("module,subcommand", named_commands(), ids=lambda part: part or "-")
def test_every_command_a_document_runs_answers_help(module, subcommand):
    """`--help` at least: the module has a command line, and the subcommand the document uses is one of it."""
    asked = [] if module in NO_ARGUMENTS else [*([subcommand] if subcommand else []), "--help"]
    run = subprocess.run([sys.executable, "-m", module, *asked], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, f"`python -m {module} {' '.join(asked)}` exits {run.returncode}: {run.stderr[-800:]}"
    assert module in NO_ARGUMENTS or "usage" in run.stdout.lower(), f"`python -m {module}` has no --help"


def project_sources() -> list:
    return sorted(path for folder in SOURCE_DIRS if (ROOT / folder).is_dir() for path in (ROOT / folder).rglob("*")
                  if path.suffix in SOURCE_SUFFIXES and path.is_file()
                  and str(path.relative_to(ROOT)) in project_files()) + [ROOT / "app.py", ROOT / "Makefile"]


# A citation: a Markdown file by name, or a file with its folder (`infra/tables.json`, or one up from the citer).
# A folder in capitals is a placeholder (`DIR/stack.json`); after a colon it is a URL's port (`:8080/vote.html`).
CITATION = re.compile(r"(?<![\w./:%%-])((?:\.\./|\./)?(?:(?![A-Z]+/)[\w-]+/)+[\w.-]+\.(?:%s)|[\w.-]+\.md)(?![\w/])"
                      % "|".join(FILE_SUFFIXES))


def prose_of(path: Path) -> str:
    """What a source says to its reader: a Python file's docstrings and comments, another file's comments
    (code and test data name files of their own, made up or made at run time)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".py":
        return "\n".join(re.findall(r"/\*.*?\*/|<!--.*?-->|(?<![:\\\"'])//[^\n]*|^\s*#[^\n]*", text, flags=re.S | re.M))
    parts = [token.string for token in tokenize.generate_tokens(io.StringIO(text).readline)
             if token.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.append(ast.get_docstring(node) or "")
    return "\n".join(parts)


def cited_files(path: Path) -> list:
    text = path.read_text(encoding="utf-8") if path in CITING else prose_of(path)
    return [cited.rstrip(".") for cited in CITATION.findall(text)]


def resolves(citing: Path, relative: str) -> bool:
    """A path relative to the citing file: inside the checkout, and there."""
    target = (citing.parent / relative).resolve()
    return target.is_relative_to(ROOT) and in_project(str(target.relative_to(ROOT)))


def test_no_document_or_module_cites_a_file_that_is_not_in_the_project():
    outside = []
    for path in CITING + project_sources():
        for cited in cited_files(path):
            if not (resolves(path, cited) if cited.startswith(("../", "./")) else in_project(cited)):
                outside.append(f"{path.relative_to(ROOT)}: {cited}")
    assert not outside, "cited but not in the project (cite openapi.yaml or the docs/ file):\n" + "\n".join(outside)


# Figures a bench or the capacity model produces change with the code, the machine and AWS's prices: they live in
# bench/RESULTS.md (with the commit they were measured at), and the documents point there. Rates, durations,
# sizes and money are what a measurement reports; each one a document may state is a figure nobody measures:
ALLOWED_FIGURES = {
    # the functions' memory (.chalice/config.json) and the search volume (infra/search.json)
    "256 MB": "configured", "512 MB": "configured", "10 GB": "configured", "2.5 GB": "configured (alarm: a quarter)",
    # the design's sizes: a bucket per 100 votes/s (chalicelib/domain/ballots.py), the big vote's and the
    # try-out's peaks (infra/overrides/*.json)
    "100 votes/s": "design", "10,000 votes/s": "design", "1,000 votes/s": "design",
    # AWS's published default quotas (what preflight compares with)
    "10,000 requests/s": "quota", "120/s": "quota", "50/s": "quota", "250,000/s": "quota",
    "1,000 writes/s": "quota (a DynamoDB partition)",
    # AWS's published prices, and the budget the capacity model checks the vote request against
    "$4.50": "budget", "$3.50": "price", "$0.0055": "price", "$0.015": "price", "$5": "price", "$1": "price",
    "$0.60": "price",
}
FIGURE = re.compile(r"\$\d[\d,.]*\d|\$\d|\b\d[\d,.]*\s?(?:ms|MB|MiB|GB|GiB|(?:votes|requests|writes)/s|/s)\b"
                    r"|\bp(?:50|9[059])\s+(?:of\s+)?\d[\d.,]*")


def figures(document: Path) -> list:
    return [figure.replace("\u00a0", " ") for figure in FIGURE.findall(text_of(document))]


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_measured_figures_live_only_in_bench_results(document):
    quoted = sorted({figure for figure in figures(document) if figure not in ALLOWED_FIGURES})
    assert not quoted, (f"{document.name} quotes figures a measurement or the capacity model makes: {quoted}; "
                        "point to bench/RESULTS.md instead (or, for a design constant, price or quota, "
                        "add it to ALLOWED_FIGURES with its source)")


def test_every_allowed_figure_is_still_quoted():
    """An allowance no document uses any more goes, so that the list stays the few figures that need one."""
    quoted = {figure for document in DOCS for figure in figures(document)}
    assert not set(ALLOWED_FIGURES) - quoted, sorted(set(ALLOWED_FIGURES) - quoted)
