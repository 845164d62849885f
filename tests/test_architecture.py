"""The shape of sessions_app that docs/ARCHITECTURE.md describes (issue #13): imports run one way, with
no cycle (lazy imports inside functions count too), no module is long, and the sockets stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "sessions_app"
MAX_MODULE_LINES = 400
MAX_CONSUMER_CLASS_LINES = 120


def modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The sessions_app modules this file imports, anywhere in it."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name in known:
                targets.add(name)
    return targets


def graph() -> dict[str, set[str]]:
    known = modules()
    edges = {name: imports_of(path, known) - {name} for name, path in known.items()}
    for name in edges:  # `from sessions_app.live import hub` names the module, not the package
        package_imports = {t for t in edges[name] if known[t].name == "__init__.py"}
        for package in package_imports:
            if any(t.startswith(package + ".") for t in edges[name]):
                edges[name].discard(package)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_inside_sessions_app():
    edges = graph()
    assert "sessions_app.live.effects" in edges["sessions_app.live.consumers"]  # the graph sees imports
    assert cycles(edges) == []


def test_the_engine_knows_nothing_of_sockets_or_pages():
    edges = graph()
    engine = [name for name in edges if name.startswith("sessions_app.engine")]
    for name in engine:
        assert not {t for t in edges[name] if t.startswith(("sessions_app.live", "sessions_app.web"))}, name


def test_no_module_is_long():
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_the_sockets_are_thin():
    for path in (APP / "live" / "consumers.py", APP / "live" / "sockets.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Consumer", "Base")):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_CONSUMER_CLASS_LINES, (path.name, node.name, length)
