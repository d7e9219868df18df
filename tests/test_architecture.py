"""analytics/ is layered the way data travels: storage < intake < compute < output.

A package may import its own layer, lower layers and the foundation (settings, normalize);
never a higher layer, never Streamlit. cli, demo and __main__ are the faces and may import
anything in analytics. Imports inside functions count: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ANALYTICS = Path(__file__).resolve().parent.parent / "analytics"
LAYERS = ["storage", "intake", "compute", "output"]
FOUNDATION = {"settings", "normalize"}
FACES = {"cli", "demo", "__main__"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from analytics import coverage` names a module, not an attribute
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def layer_of(module: str) -> str | None:
    """The layer or role of an analytics module name, None for anything outside analytics."""
    parts = module.split(".")
    if parts[0] != "analytics" or len(parts) < 2:
        return None
    return parts[1]


def source_files() -> list[Path]:
    return sorted(ANALYTICS.rglob("*.py"))


def test_every_module_sits_in_a_layer_or_is_foundation_or_face():
    for path in source_files():
        rel = path.relative_to(ANALYTICS)
        top = rel.parts[0].removesuffix(".py")
        assert top in {*LAYERS, *FOUNDATION, *FACES, "__init__"}, rel


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ANALYTICS)))
def test_no_streamlit_in_analytics(path):
    imports = imported_modules(path)
    assert not {m for m in imports if m.split(".")[0] == "streamlit"}


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ANALYTICS)))
def test_no_module_imports_a_higher_layer(path):
    rel = path.relative_to(ANALYTICS)
    own = rel.parts[0].removesuffix(".py")
    if own in FACES or own == "__init__":
        return
    allowed = set(FOUNDATION)
    if own in LAYERS:
        allowed.update(LAYERS[: LAYERS.index(own) + 1])
    imported = {layer_of(m) for m in imported_modules(path)} - {None}
    assert imported <= allowed, f"{rel} imports {sorted(imported - allowed)}"


def test_the_checker_sees_a_deferred_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from analytics.output import charts\n", encoding="utf-8")
    assert "analytics.output.charts" in imported_modules(module)
    assert layer_of("analytics.output.charts") == "output"
