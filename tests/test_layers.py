"""The package's layers: a lower layer never imports a higher one (docs/internals.md).

Every ``import`` in ``src/xls_gongkai`` — at module level or inside a function — is checked
against the rank of the module it names. The package root is the public API and may import
anything; ``TYPE_CHECKING`` imports count too (they would be real cycles for a type checker).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "xls_gongkai"

#: rank of each top-level module or subpackage of xls_gongkai (docs/internals.md)
RANKS = {
    "errors": 0,
    "spec": 1,
    "numbers": 2,
    "report": 2,
    "issues": 2,
    "output": 2,
    "collection": 2,
    "rules": 3,
    "sample": 3,
    "parsing": 4,
    "workbook": 5,
    "reading": 6,
    "documents": 6,
    "batch": 7,
    "cli": 8,
    "portal": 8,
    "__main__": 9,
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "xls_gongkai":
        return None
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "xls_gongkai":
                out.extend((node.lineno, f"xls_gongkai.{a.name}") for a in node.names if a.name != "__version__")
            else:
                out.append((node.lineno, node.module))
    return out


MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    own = path.relative_to(SRC).parts[0].removesuffix(".py")
    assert own in RANKS, f"{own} has no layer in RANKS (add it, and to docs/internals.md)"
    wrong = []
    for line, module in _imports(path):
        part = _part(module)
        if part is None or part == "":
            continue
        if RANKS[part] > RANKS[own]:
            wrong.append(f"{path.relative_to(SRC)}:{line} imports {module} (layer {RANKS[part]} > {RANKS[own]})")
    assert not wrong, "\n".join(wrong)


def test_every_layer_is_documented() -> None:
    text = (SRC.parents[1] / "docs" / "internals.md").read_text(encoding="utf-8")
    for name in RANKS:
        if not name.startswith("__"):
            assert f"`{name}" in text, name


def test_the_library_never_imports_django_or_the_portal() -> None:
    # The portal is a front end (rank 8, like cli, whose ``portal`` command imports it inside its
    # commands): nothing below the front ends may need Django installed.
    wrong = []
    for path in MODULES:
        if RANKS[path.relative_to(SRC).parts[0].removesuffix(".py")] >= RANKS["portal"]:
            continue
        for line, module in _imports(path):
            if module.split(".")[0] == "django" or module.startswith("xls_gongkai.portal"):
                wrong.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)
