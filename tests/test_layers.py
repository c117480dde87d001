"""The package layout is the architecture: checks over prenv's sources (ast, no imports run).

- The pure packages (`prenv.core`, `prenv.render`) import no impure one: no adapter, no command, no
  I/O library. `prenv.core` imports only itself; `prenv.render` only the core and itself.
- Each package imports only the packages below it in `LAYERS` (and itself): the README's tree, in order.
- prenv's own modules are imported at the top of a module, never inside a function.
- Each class name is defined once in `prenv/`.
- Environment variables are read in one place, `prenv/commands/wiring.py`, each once.
- The state bucket is built in one place.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

PRENV = Path(__file__).resolve().parent.parent / "prenv"
WIRING = PRENV / "commands" / "wiring.py"

# Bottom to top: each package may import those before it, never one after it.
LAYERS = (
    "prenv.core",
    "prenv.render",
    "prenv.github",
    "prenv.aws",
    "prenv.engine",
    "prenv.sandbox",
    "prenv.report",
    "prenv.commands",
    "prenv.cli",
)
# What a pure package may import from prenv (beside itself).
PURE = {"prenv.core": ("prenv.core",), "prenv.render": ("prenv.core", "prenv.render")}
# Libraries that do I/O (network, processes, threads, the process environment) or belong to an adapter.
IMPURE_LIBRARIES = (
    "boto3",
    "botocore",
    "github",
    "requests",
    "moto",
    "click",
    "os",
    "subprocess",
    "socket",
    "shutil",
    "tempfile",
    "threading",
    "concurrent",
    "urllib.request",
    "http",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PRENV.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[tuple[str, ast.Module]]:
    return [(module_name(p), ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PRENV.rglob("*.py"))]


def imported(tree: ast.AST) -> list[str]:
    """Every module an import statement under `tree` names (for `from x import y`: `x` and `x.y`)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def pure_package(module: str) -> str | None:
    return next((package for package in PURE if within(module, package)), None)


def layer_violations(modules: list[tuple[str, ast.Module]]) -> list[str]:
    found = []
    for module, tree in modules:
        package = pure_package(module)
        if package is None:
            continue
        for name in imported(tree):
            outside = within(name, "prenv") and not any(within(name, allowed) for allowed in PURE[package])
            if outside or any(within(name, library) for library in IMPURE_LIBRARIES):
                found.append(f"{module} imports {name}")
    return sorted(set(found))


def test_the_pure_packages_import_nothing_impure() -> None:
    modules = sources()
    assert {pure_package(m) for m, _ in modules} >= set(PURE), "the pure packages exist"
    assert layer_violations(modules) == []


@pytest.mark.parametrize(
    ("module", "source", "problem"),
    [
        (
            "prenv.core.naming",
            "from prenv.aws.client import Aws",
            "prenv.core.naming imports prenv.aws.client",
        ),
        ("prenv.core.plan", "from prenv.render import markdown", "prenv.core.plan imports prenv.render"),
        ("prenv.render.x", "import subprocess", "prenv.render.x imports subprocess"),
        ("prenv.render.x", "from os import environ", "prenv.render.x imports os"),
        ("prenv.core.x", "from prenv import cli", "prenv.core.x imports prenv"),
    ],
)
def test_the_layer_check_catches_an_impure_import(module: str, source: str, problem: str) -> None:
    assert problem in layer_violations([(module, ast.parse(source))])


def test_the_layer_check_allows_what_a_pure_package_may_import() -> None:
    allowed = "from prenv.core.config import Config\nimport jinja2\nimport re\n"
    assert layer_violations([("prenv.render.x", ast.parse(allowed))]) == []


def layer_of(module: str) -> int | None:
    return next((index for index, package in enumerate(LAYERS) if within(module, package)), None)


def test_each_package_imports_only_the_layers_below_it() -> None:
    found = []
    for module, tree in sources():
        own = layer_of(module)
        if own is None:
            continue  # prenv/__init__.py, __main__.py
        for name in imported(tree):
            other = layer_of(name)
            if other is not None and other > own:
                found.append(f"{module} imports {name}")
    assert sorted(set(found)) == []
    assert {layer_of(module) for module, _ in sources()} >= set(range(len(LAYERS))), "every layer exists"


def test_prenv_modules_are_imported_at_the_top_only() -> None:
    found = []
    for module, tree in sources():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                found += [f"{module}.{function.name} imports {name}" for name in imported(function)]
    assert [line for line in found if " imports prenv" in line] == []


def test_each_class_name_is_defined_once() -> None:
    where: dict[str, list[str]] = {}
    for module, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(module)
    assert {name: modules for name, modules in where.items() if len(modules) > 1} == {}


def environment_reads(tree: ast.AST) -> list[str]:
    """Variables read with `<env>.get("NAME")`, `<env>["NAME"]`, `os.environ...` or `getenv("NAME")`."""
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            reads.append("os.environ")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getenv":
            reads.append("getenv")
        receiver, key = None, None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            receiver, key = node.func.value, node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):  # not a write
            receiver, key = node.value, node.slice
        named = isinstance(receiver, ast.Name) and receiver.id in ("env", "environ", "environment")
        if named and isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads.append(key.value)
    return reads


def test_environment_variables_are_read_once_in_the_wiring() -> None:
    elsewhere = {
        module: reads
        for module, tree in sources()
        if module != "prenv.commands.wiring" and (reads := environment_reads(tree))
    }
    assert elsewhere == {}
    reads = environment_reads(ast.parse(WIRING.read_text(encoding="utf-8")))
    assert "GITHUB_TOKEN" in reads
    assert "PRENV_SANDBOX" in reads
    assert [name for name, count in Counter(reads).items() if count > 1] == []


def test_the_state_bucket_is_built_in_one_place() -> None:
    sites = [
        module
        for module, tree in sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "StateBucket"
    ]
    assert sites == ["prenv.commands.wiring"]
