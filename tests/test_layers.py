"""The layout: each package owns one arrow of the flow, and imports only what lies below it.

reported data -> daily series -> fitted model -> scenario-adjusted intensity -> simulated paths
-> tables, files and charts. The import graph is read from the source (every ``import``,
including those inside functions; ``if TYPE_CHECKING:`` blocks excepted).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simulate"

#: Layers, low to high: a module imports only modules of its own layer or lower ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("simulate.about", "simulate.errors", "simulate.rng", "simulate.fingerprint"),
    ("simulate.data", "simulate.examples"),
    ("simulate.models",),
    ("simulate.scenarios",),
    ("simulate.engine", "simulate.budget"),
    ("simulate.evaluation",),
    ("simulate.pipeline",),
    ("simulate.summaries",),
    ("simulate.outputs",),
    ("simulate.compare",),
    ("simulate.batch",),
    ("simulate.notebook",),
    ("simulate.cli", "simulate.__main__"),
    ("simulate",),  # the package's face: the notebook call and the version
)

MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    best, depth = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and p.count(".") > depth:
                best, depth = i, p.count(".")
    if best < 0:
        raise AssertionError(f"{module}: in no layer; add it to LAYERS")
    return best


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `module` imports (a ``from X import name`` of a submodule
    counts as importing the submodule)."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                visit(ast.Module(body=child.orelse, type_ignores=[]))  # the else branch runs
                continue
            if isinstance(child, ast.Import):
                out.update(a.name for a in child.names if a.name.split(".")[0] == "simulate")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    anchor = base[: len(base) - (child.level - 1)]
                    target = ".".join([*anchor, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                if target.split(".")[0] != "simulate":
                    continue
                submodules = {f"{target}.{a.name}" for a in child.names} & known
                out.update(submodules)
                if len(submodules) < len(child.names):  # names defined by `target` itself
                    out.add(target)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    out.discard(module)
    return {m for m in out if m in known}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def test_no_module_imports_a_layer_above_it() -> None:
    upward = [
        f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
        for m, targets in _graph().items()
        for t in sorted(targets)
        if _layer(t) > _layer(m)
    ]
    assert upward == []


def test_there_are_no_import_cycles() -> None:
    graph = _graph()
    # A package's __init__ importing its own submodules is how packages export names; a cycle
    # through it would still be a cycle, so nothing is excused.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    assert cycles == []


def test_the_layers_test_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "engine.py"
    source.write_text(
        "from .pipeline import run\nfrom .rng import child\n"
        "def f():\n    import simulate.summaries\n"
        "if TYPE_CHECKING:\n    from .batch import run_batch\n"
        "else:\n    import simulate.compare.tables as t\n"
    )
    known = {"simulate.pipeline", "simulate.rng", "simulate.summaries", "simulate.batch",
             "simulate.compare.tables"}  # fmt: skip
    got = _imports("simulate.engine", source, known)
    # imports inside functions and in the else branch count; TYPE_CHECKING-only ones do not
    assert got == {"simulate.pipeline", "simulate.rng", "simulate.summaries",
                   "simulate.compare.tables"}  # fmt: skip
    assert _layer("simulate.pipeline") > _layer("simulate.engine")


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("simulate.models", ("tomllib", "click", "matplotlib")),
        ("simulate.pipeline", ("click", "matplotlib")),
    ],
)
def test_lower_layers_do_not_load_parsers_the_cli_or_charts(  # the engine: test_scenarios_layout
    module: str, forbidden: tuple[str, ...]
) -> None:
    code = f"import sys, {module}\nprint(','.join(m for m in {forbidden!r} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""


def test_no_source_file_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_exception_class_is_defined_in_the_errors_module() -> None:
    elsewhere = []
    for m, p in _modules().items():
        if m == "simulate.errors":
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name)
                and (b.id.endswith(("Error", "Exception")))
                or isinstance(b, ast.Attribute)
                and b.attr.endswith(("Error", "Exception"))
                for b in node.bases
            ):
                elsewhere.append(f"{m}.{node.name}")
    assert elsewhere == []


def test_the_package_ships_its_type_information() -> None:
    assert (PACKAGE / "py.typed").is_file()
