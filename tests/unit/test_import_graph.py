"""The harness's house rules, read from its import statements (every one, at module level or inside a function).

Lab packages stand side by side and never import each other's modules: what two of them need lives one floor down
(``harness.kit``, the ``harness.postgres*`` and ``harness.pgbouncer`` modules). The emulator is the system the lab
drives, so a lab package may use its public face (``harness.emulator``, its ``__all__``) but none of its modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "harness"
LAB_PACKAGES = ("bench", "compare", "emulator", "faults", "pitfalls")
PUBLIC_FACES = {"harness.emulator"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in HARNESS.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The harness modules a file imports (``from a import b`` counts as ``a.b`` when ``b`` is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAB_PACKAGES else None


def test_no_lab_package_imports_another_lab_packages_modules() -> None:
    crossings = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _package(module) is not None
        and _package(target) not in (None, _package(module))
        and target not in PUBLIC_FACES
    )
    assert crossings == []


def test_the_kit_and_the_servers_import_no_lab_package() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _package(module) is None
        and module.startswith(("harness.kit", "harness.postgres", "harness.pgbouncer"))
        and _package(target) is not None
    )
    assert upward == []


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (its modules in order, the first repeated at the end), or [] when there is none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        path.append(module)
        for target in sorted(graph.get(module, ())):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(module)
        return []

    for module in sorted(graph):
        found = visit(module)
        if found:
            return found
    return []


def test_no_module_imports_itself_through_others() -> None:
    assert _cycle(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
