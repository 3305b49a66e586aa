"""The import graph of core/: no circles, no import hidden inside a function, no Streamlit."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

# Imports inside a function, each with its reason. core.store_postgres (a leaf: it imports psycopg, nothing of core) is
# imported when a PostgreSQL store opens: psycopg's import is a quarter second of every SQLite server's start.
KNOWN_LATE: set[tuple[str, str]] = {("core.store", "core.store_postgres")}
# The modules of the two packages, bottom up: each imports only those before it.
SPEC_MODULES = [
    "core.spec.values",
    "core.spec.sections",
    "core.spec.limits",
    "core.spec.validation",
    "core.spec.codecs",
]
ENGINE_MODULES = ["core.engine.optim", "core.engine.device", "core.engine.evaluation", "core.engine.trainer"]
PACKAGES = {"core.spec", "core.engine"}  # none: validate() counts parameters by arithmetic (core.budget)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_imports(path: Path, modules: set[str]) -> list[tuple[str, bool]]:
    """(core module, inside a function?) for every import of a core module in a file.

    `from core.data import toy` imports the submodule core.data.toy as well as the package core.data.
    """
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            names = []
            if isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
            elif isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            found.extend((n, inner) for n in names if n in modules)
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return found


def graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """Module-level edges between core modules, and (module, target) of every function-level import."""
    modules = {module_name(p): p for p in CORE.rglob("*.py")}
    edges, late = {m: set() for m in modules}, []
    for name, path in modules.items():
        for target, inner in core_imports(path, set(modules)):
            if inner:
                late.append((name, target))
            else:
                edges[name].add(target)
    return edges, late


def reaches(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        for n in edges[todo.pop()] - seen:
            seen.add(n)
            todo.append(n)
    return seen


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def dfs(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == "open":
                return stack[stack.index(n) :] + [n]
            if n not in state and (c := dfs(n)):
                return c
        state[m] = "done"
        stack.pop()
        return None

    for m in sorted(edges):
        if m not in state and (c := dfs(m)):
            return c
    return None


def test_core_has_no_import_circle():
    edges, late = graph()
    for m, t in late:
        edges[m].add(t)  # an import inside a function still runs: it closes a circle too
    for m, t in KNOWN_LATE:
        edges[m].discard(t)
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))


def test_find_cycle_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_core_import_inside_a_function():
    _, late = graph()
    assert set(late) <= KNOWN_LATE, sorted(set(late) - KNOWN_LATE)


def test_layers_point_bottom_up():
    """registry -> spec -> data/models -> engine -> families -> trainers -> jobs: never back up.

    Inside the spec package: values -> sections -> limits -> validation -> codecs; inside the engine:
    optim -> device -> evaluation -> trainer.
    """
    edges, _ = graph()
    order = ["core.registry", *SPEC_MODULES, "core.spec", "core.data.dataset", "core.models"]
    order += [*ENGINE_MODULES, "core.engine", "core.gan", "core.trainers", "core.jobs.job", "core.jobs"]
    for i, low in enumerate(order):
        assert not reaches(edges, low) & set(order[i + 1 :]), f"{low} imports a module above it"
    users = {m for m, e in edges.items() if "core.trainers" in e}
    assert users == {"core.jobs.job", "core.__main__", "core.optim_cli"}, (
        users
    )  # the runner and its race/landscape commands


def test_packages_are_entered_by_their_name():
    """Outside core/spec and core/engine, code imports `core.spec` / `core.engine`, never one of their modules."""
    edges, _ = graph()
    inner = set(SPEC_MODULES) | set(ENGINE_MODULES)
    assert {m for m in edges if m.startswith(("core.spec.", "core.engine."))} == inner  # the lists name them all
    outside = {}
    for path in [
        ROOT / "app.py",
        *(p for d in ("core", "ui", "pages", "tests", "bench") for p in (ROOT / d).rglob("*.py")),
    ]:
        if path.relative_to(ROOT).parts[:2] in (("core", "spec"), ("core", "engine")):
            continue
        if found := {t for t, _ in core_imports(path, inner)}:
            outside[str(path.relative_to(ROOT))] = sorted(found)
    assert not outside, outside


def test_every_core_module_imports_without_streamlit():
    names = sorted(module_name(p) for p in CORE.rglob("*.py") if p.name != "__main__.py")
    code = f"import importlib, sys; [importlib.import_module(m) for m in {names!r}]; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
