"""The tree's architecture holds: no import cycles among civicgrid's modules, counting
imports inside functions too (the layer contracts themselves are import-linter's, in
setup.cfg, run by `make test`), and modules and functions stay small enough to read."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "web")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for top in PACKAGES
        for path in sorted((ROOT / top).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _imported_names(tree: ast.AST) -> Iterator[str]:
    """Every module name an import statement anywhere in ``tree`` may load (top level,
    inside functions and under ``if TYPE_CHECKING`` alike)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield f"{node.module}.{alias.name}"
            yield node.module


def import_graph() -> dict[str, set[str]]:
    """Module → the civicgrid modules it imports (a name resolves to its longest module)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {resolve(n) for n in _imported_names(ast.parse(path.read_text("utf-8")))}
        # Importing geo.x.y runs the package __init__s on the way, which import nothing.
        graph[name] = {t for t in targets if t and t != name and not name.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from geo.core import errors\n")
    assert "geo.core.errors" in set(_imported_names(tree))


def test_no_import_cycles_among_geo_and_web_modules():
    assert cycles(import_graph()) == []


def test_geo_top_level_holds_only_packages():
    loose = [p.name for p in (ROOT / "geo").glob("*.py") if p.name != "__init__.py"]
    assert loose == []


def test_every_package_says_what_it_owns():
    for init in [*(ROOT / "geo").rglob("__init__.py"), *(ROOT / "web").rglob("__init__.py")]:
        if "migrations" in init.parts or init.parent.name in PACKAGES:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8")))
        assert doc and len(doc) > 40, f"{init.relative_to(ROOT)} needs a docstring"


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _python_files() -> list[Path]:
    return [
        path
        for top in ("geo", "web", "scripts", "bench", "tests")
        for path in sorted((ROOT / top).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _python_files()
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_over_60_lines():
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)"
        for path in _python_files()
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []
