"""Build the one CloudFormation (SAM) template Tally deploys with: `chalice package` plus infra/*.json merged in.

    python -m infra.build_template                      # writes build/merge-template.json only
    python -m infra.build_template --package build/package [--template-only]

The pieces in infra/ are partial templates, each owning one concern (tables.json, cognito.json, api.json,
stream.json, functions.json, iam.json, search.json, dashboard.json, alarms.json, waf.json). Every infra/*.json is a
piece: a new one needs no change here. They are combined here into
build/merge-template.json, which `chalice package --stage prod --merge-template` deep-merges into the template
Chalice generates from app.py: dicts merge, any other value (lists included) replaces Chalice's. tables.json
is the same file the local stack creates its tables from (devstack/tables.py): one definition of the tables.

Two things are computed rather than written down, so that they cannot drift from the code:
- The Cognito authorizer goes on every route of the app whose view is not marked @public (chalicelib/api/auth.py),
  read from app.routes, as `security` on the route's method in the swagger Chalice generates.
- Each function role's `Policies` list is written whole (a merge replaces lists): first the policy Chalice
  makes from .chalice/policy-prod.json (what names no resource of the template: X-Ray), then the role's
  least-privilege policy from iam.json (exact table, stream, queue, log group and index ARNs).
- Every route's Lambda integration invokes the API function's alias `live`, where provisioned concurrency lives.

--package runs Chalice. By default in the project, with its requirements.txt (the Lambda's Linux wheels come
from PyPI the first time; Chalice caches the dependency zip under .chalice/deployments/, so later runs are
offline), takes out the distributions nothing imports (slim, below), and then puts bytecode for every module into
the zip (precompile, below). --template-only packages a
copy of the app with no requirements: the same template, no download; the tests use it.
"""
import argparse
import ast
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from infra import project_root

ROOT = project_root()  # the Chalice project: app.py, chalicelib/, .chalice/
INFRA = ROOT / "infra"
BUILD = ROOT / "build"
MERGE_TEMPLATE = BUILD / "merge-template.json"
STAGE = "prod"
CHALICE_POLICY = ROOT / ".chalice" / f"policy-{STAGE}.json"
AUTHORIZER = "TallyCognito"
# The logical ids Chalice gives what app.py registers; the pieces merge into them.
CHALICE_RESOURCES = ("APIHandler", "ApiHandlerRole", "TallyBallots", "TallyBallotsRole", "RestAPI")


class PieceConflict(ValueError):
    pass


def _merge(into: Dict[str, Any], piece: Dict[str, Any], where: str) -> None:
    """Merge piece into `into`; two pieces setting the same leaf is an error (each value has one owner)."""
    for key, value in piece.items():
        path = f"{where}.{key}" if where else key
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value, path)
        else:
            raise PieceConflict(f"{path} is set by two pieces of infra/")


def load_pieces(infra: Path = INFRA) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for path in sorted(infra.glob("*.json")):
        piece = json.loads(path.read_text())
        piece.pop("_comment", None)
        _merge(merged, piece, "")
    return merged


def app_routes() -> Dict[str, Dict[str, bool]]:
    """path -> {method: public?} for every route app.py registers."""
    from app import app  # the project's app.py

    return {path: {method: bool(getattr(entry.view_function, "tally_public", False))
                   for method, entry in methods.items()}
            for path, methods in app.routes.items()}


def authorizer_paths(routes: Dict[str, Dict[str, bool]]) -> Dict[str, Any]:
    """Swagger `paths` additions: the Cognito authorizer on every method of every non-public route."""
    paths: Dict[str, Any] = {}
    for path, methods in sorted(routes.items()):
        for method, public in sorted(methods.items()):
            if not public:
                paths.setdefault(path, {})[method.lower()] = {"security": [{AUTHORIZER: []}]}
    return paths


# The API function's alias (infra/functions.json, AutoPublishAlias): provisioned concurrency lives on it, so API
# Gateway must invoke it rather than the unqualified function, whose invocations never use provisioned environments.
API_ALIAS_INVOCATION = {"Fn::Sub": ["arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                                    "functions/${Alias}/invocations", {"Alias": {"Ref": "APIHandler.Alias"}}]}


def alias_integrations(routes: Dict[str, Dict[str, bool]]) -> Dict[str, Any]:
    """Swagger `paths` additions: every route's Lambda integration invokes the API function's alias."""
    return {path: {method.lower(): {"x-amazon-apigateway-integration": {"uri": API_ALIAS_INVOCATION}}
                   for method in sorted(methods)}
            for path, methods in sorted(routes.items())}


def role_policies(merged: Dict[str, Any], chalice_policy: Dict[str, Any]) -> None:
    for role in ("ApiHandlerRole", "TallyBallotsRole"):
        properties = merged["Resources"][role]["Properties"]
        own = properties["Policies"]
        # Chalice names the policy it makes from the policy file "<Role>Policy"; keep that name and content.
        properties["Policies"] = [{"PolicyName": f"{role}Policy", "PolicyDocument": chalice_policy}, *own]


def build_merge_template(routes: Optional[Dict[str, Dict[str, bool]]] = None) -> Dict[str, Any]:
    merged = load_pieces()
    api_body = merged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    routes = app_routes() if routes is None else routes
    _merge(api_body, {"paths": authorizer_paths(routes)}, "DefinitionBody")
    _merge(api_body, {"paths": alias_integrations(routes)}, "DefinitionBody")
    role_policies(merged, json.loads(CHALICE_POLICY.read_text()))
    return merged


def write_merge_template(path: Path = MERGE_TEMPLATE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_merge_template(), indent=2) + "\n")
    return path


def _stage_app(into: Path) -> Path:
    """A copy of what Chalice packages, with no requirements: the template, without downloading wheels."""
    project = into / "project"
    project.mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", project / "app.py")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (project / ".chalice").mkdir()
    for name in ["config.json", *(p.name for p in (ROOT / ".chalice").glob("policy-*.json"))]:
        shutil.copy2(ROOT / ".chalice" / name, project / ".chalice" / name)
    (project / "requirements.txt").write_text("# --template-only: no dependencies packaged\n")
    return project


def _chalice(project: Path, merge_template: Path, out: Path) -> None:
    env = dict(os.environ)
    if not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        # Chalice wants a region to package; the template itself says ${AWS::Region} everywhere.
        env["AWS_DEFAULT_REGION"] = "us-east-1"
    command = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())",
               "--project-dir", str(project), "package", "--stage", STAGE,
               "--merge-template", str(merge_template), str(out)]
    subprocess.run(command, check=True, env=env, cwd=str(project))


def check_template(template: Dict[str, Any]) -> List[str]:
    """What would make the merged template wrong even if CloudFormation accepted it."""
    problems = []
    for logical_id, resource in template["Resources"].items():
        if "Type" not in resource:
            problems.append(f"{logical_id}: merged into a resource Chalice did not generate (renamed handler?)")
    for name in CHALICE_RESOURCES:
        if name not in template["Resources"]:
            problems.append(f"{name}: Chalice no longer generates it; infra/ merges into it")
    paths = template["Resources"].get("RestAPI", {}).get("Properties", {}).get("DefinitionBody", {}).get("paths", {})
    for path, methods in paths.items():
        for method, operation in methods.items():
            if "x-amazon-apigateway-integration" not in operation:
                problems.append(f"{method.upper()} {path}: merged into a route Chalice did not generate")
    return problems


def precompile(zip_path: Path, runtime: str) -> int:
    """Add `__pycache__/*.pyc` for every module in the Lambda zip; return how many were added.

    Chalice's zip holds only `.py` files and Lambda's /var/task is read-only, so without them every module of the
    zip (the app and the bundled botocore, Powertools, cryptography, ...) is compiled from source at every cold
    start and the result thrown away. They are unchecked-hash pycs (PEP 552), loaded without comparing the
    source's mtime, which a zip does not keep reliably; and they are valid only for the Python that wrote them.
    """
    this_python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != this_python:
        raise SystemExit(f"the functions run on {runtime} but this is {this_python}: bytecode written here would "
                         "be ignored there; package with the runtime's Python")
    with tempfile.TemporaryDirectory(prefix="tally-pyc-") as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            # Chalice copies chalicelib/__pycache__ from the working tree: timestamp pycs of whatever ran last.
            sources = [info for info in archive.infolist() if not info.filename.endswith(".pyc")]
            archive.extractall(tree, members=sources)
        # A few bundled files may not be valid for this Python (py2 leftovers, templates): they stay source-only,
        # and nothing imports them.
        compileall.compile_dir(tree, quiet=2, workers=0, ddir="/var/task",
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled = sorted(tree.rglob("*.pyc"))
        rebuilt = zip_path.with_suffix(".rebuilt")
        with zipfile.ZipFile(zip_path) as archive, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out:
            for info in sources:
                out.writestr(info, archive.read(info))
            for path in compiled:
                out.write(path, path.relative_to(tree).as_posix())
        rebuilt.replace(zip_path)
    return len(compiled)


# Distributions the Lambda zip leaves out: installed as dependencies, imported by nothing the functions run.
# opensearch-py 3.x requires opensearch-protobufs (the message types of its gRPC transport), which requires grpcio
# and protobuf: 8.2 of the zip's 37.2 MB, and 21 MB unzipped, that the HTTP client the app uses never imports.
UNUSED_DISTRIBUTIONS = ("grpcio", "protobuf", "opensearch-protobufs")


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _module_of(path: str) -> Optional[str]:
    """The dotted module a file of the zip is, or the package its __init__.py makes; None for other files."""
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _optional(node: ast.AST, parents: Dict[ast.AST, ast.AST]) -> bool:
    """An import inside `try: ... except ImportError` (or ModuleNotFoundError): code that runs without it."""
    while node in parents:
        node, child = parents[node], node
        if isinstance(node, ast.Try) and child in node.body:
            for handler in node.handlers:
                names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                    return True
    return False


def imports_of(source: str, package: str = "") -> List[str]:
    """The modules a source file imports unconditionally (absolute names; relative imports resolved in package)."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and not _optional(node, parents):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not _optional(node, parents):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, *([base] if base else [])])
            found += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return found


def slim(zip_path: Path, unused: Tuple[str, ...] = UNUSED_DISTRIBUTIONS, entry: str = "app") -> Dict[str, int]:
    """Take the unused distributions' files (their dist-info RECORD lists them) out of the zip.

    Refuses (SystemExit) if a module the functions can reach from `entry` (app.py, then whatever its imports
    import, in function bodies too, outside `try/except ImportError`) imports one of the modules taken out: a
    dependency that starts to use one must be packaged again, not found missing on Lambda. Modules nothing reaches
    may import them (Powertools' Kafka protobuf deserializer does). Returns the files and bytes (unzipped) taken out.
    """
    wanted = {_normalized(name) for name in unused}
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()

        def distribution(record: str) -> str:
            return _normalized(record.split("/")[0][:-len(".dist-info")].rsplit("-", 1)[0])

        records = [n for n in names if n.endswith(".dist-info/RECORD") and distribution(n) in wanted]
        if {distribution(r) for r in records} != wanted:
            raise SystemExit(f"slim: {sorted(wanted - {distribution(r) for r in records})} not in the zip: "
                             "is UNUSED_DISTRIBUTIONS still right?")
        removed = set()
        for record in records:
            removed |= {line.split(",", 1)[0] for line in archive.read(record).decode().splitlines() if line}
            removed |= {n for n in names if n.startswith(record.split("/")[0] + "/")}
        removed &= set(names)
        gone = {module for module in map(_module_of, removed) if module}
        sources = {_module_of(n): n for n in names if n.endswith(".py") and n not in removed}

        def parents_of(module: str) -> List[str]:
            return [".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 2)]

        reached, pending = set(), [entry]
        while pending:
            module = pending.pop()
            if module in reached or module not in sources:
                continue
            reached.add(module)
            name = sources[module]
            package = module if name.endswith("/__init__.py") else module.rpartition(".")[0]
            try:
                imported = imports_of(archive.read(name).decode("utf-8"), package)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue  # not valid for this Python: nothing can import it either (precompile skips it too)
            needed = sorted({i for i in imported if any(p in gone for p in parents_of(i))})
            if needed:
                raise SystemExit(f"slim: {name} imports {', '.join(needed)}, which UNUSED_DISTRIBUTIONS takes out")
            pending += [p for i in imported for p in parents_of(i)]
        size = sum(archive.getinfo(n).file_size for n in removed)
        rebuilt = zip_path.with_suffix(".slim")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                if info.filename not in removed:
                    out.writestr(info, archive.read(info))
    rebuilt.replace(zip_path)
    return {"files": len(removed), "bytes": size, "modules_checked": len(reached)}


# ELF e_machine of the shared objects each Lambda architecture can load.
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}


def foreign_native_code(zip_path: Path, architecture: str) -> List[str]:
    """The shared objects in the zip that are not built for the functions' architecture (empty: it can load all).

    The functions run on arm64 (.chalice/config.json, lambda_architecture), and the package bundles compiled
    extensions (cryptography, cffi, ...). Chalice downloads their aarch64 manylinux wheels, but a wheel it could
    not get would leave the build machine's x86_64 one in the zip, which imports fine here and crashes there.
    """
    wanted = ELF_MACHINES[architecture]
    foreign = []
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if not (name.endswith(".so") or ".so." in name):
                continue
            with archive.open(info) as member:
                header = member.read(20)
            machine = int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None
            if machine != wanted:
                foreign.append(f"{info.filename} (ELF machine {machine!r}, want {wanted:#x} for {architecture})")
    return foreign


def package(out: Path, template_only: bool = False, merge_template: Path = MERGE_TEMPLATE) -> Path:
    """Run chalice package with the merge template; return the path of the packaged template."""
    merge_template = write_merge_template(merge_template)
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if template_only:
        with tempfile.TemporaryDirectory(prefix="tally-package-") as tmp:
            _chalice(_stage_app(Path(tmp)), merge_template, out)
    else:
        _chalice(ROOT, merge_template, out)
    template_path = out / "sam.json"
    template = json.loads(template_path.read_text())
    problems = check_template(template)
    if problems:
        raise SystemExit("the packaged template is wrong:\n  " + "\n  ".join(problems))
    if not template_only:
        runtimes = {resource["Properties"]["Runtime"] for resource in template["Resources"].values()
                    if resource.get("Type") == "AWS::Serverless::Function"}
        (runtime,) = runtimes  # one zip serves every function
        architectures = {arch for resource in template["Resources"].values()
                         if resource.get("Type") == "AWS::Serverless::Function"
                         for arch in resource["Properties"].get("Architectures", ["x86_64"])}
        (architecture,) = architectures
        taken_out = slim(out / "deployment.zip")
        print(f"deployment.zip: {', '.join(UNUSED_DISTRIBUTIONS)} taken out ({taken_out['files']} files, "
              f"{taken_out['bytes'] / 1e6:.1f} MB unzipped): nothing the functions run imports them")
        foreign = foreign_native_code(out / "deployment.zip", architecture)
        if foreign:
            raise SystemExit(f"deployment.zip holds native code the {architecture} functions cannot load:\n  "
                             + "\n  ".join(foreign))
        print(f"deployment.zip: {precompile(out / 'deployment.zip', runtime)} modules precompiled for {runtime}, "
              f"native code built for {architecture}")
    return template_path


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", metavar="OUT", help="also run chalice package into OUT (e.g. build/package)")
    parser.add_argument("--template-only", action="store_true",
                        help="package a copy of the app without requirements.txt (no download; same template)")
    args = parser.parse_args(argv)
    if args.package:
        template = package(Path(args.package), args.template_only)
        print(f"packaged template: {template.relative_to(ROOT) if template.is_relative_to(ROOT) else template}")
    else:
        print(f"merge template: {write_merge_template().relative_to(ROOT)}")


if __name__ == "__main__":
    main()
