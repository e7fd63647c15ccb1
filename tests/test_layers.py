"""No module of Shequn imports, at load time, a module that imports it back: the layers
themselves are import-linter's (pyproject.toml, run by scripts/test)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(path: Path, modules: set[str]) -> set[str]:
    """The Shequn modules `path` imports at its top level (not in functions, not for types)."""
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m != _name(path)}


def test_no_module_imports_one_that_imports_it_back() -> None:
    paths = [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]
    modules = {_name(p) for p in paths}
    graph = {_name(p): _load_time_imports(p, modules) for p in paths}
    assert "shequn.engine.rules" in graph["shequn.engine.ingest"]  # the check sees imports
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"an import cycle: {' → '.join(exc.args[1])}") from None
