"""The data flows one way: no module imports from a layer above its own (imports inside functions
count too). The layers, lowest first, are those of docs/architecture.md."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "adkit"
#: Layer of each top-level part of the package, lowest first.
LAYERS = [
    {"adkit", "adkit.errors", "adkit.validation", "adkit.fixedpoint", "adkit.metrics", "adkit.progress",
     "adkit.executors"},
    {"adkit.io"},
    {"adkit.datasets"},
    {"adkit.features"},
    {"adkit.quantum"},
    {"adkit.detectors"},
    {"adkit.artifact", "adkit.stats"},
    {"adkit.distill"},
    {"adkit.firmware", "adkit.export"},
    {"adkit.report"},
    {"adkit.workflows"},
    {"adkit.cli"},
]


def layer(module: str) -> int:
    parts = module.split(".")
    for n in (2, 1):
        key = ".".join(parts[:n])
        for i, names in enumerate(LAYERS):
            if key in names:
                return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def imports() -> list[tuple[str, str, int]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            out += [(module, n, node.lineno) for n in names if n == "adkit" or n.startswith("adkit.")]
    return out


def test_every_module_has_a_layer():
    for module, target, _ in imports():
        layer(module), layer(target)


def test_no_import_runs_back_up():
    backward = [f"{m}:{line} imports {t}" for m, t, line in imports() if layer(t) > layer(m)]
    assert not backward, "imports against the data flow:\n" + "\n".join(backward)
