"""The data flows one way: no module imports from a layer above its own (imports inside functions
count too). The layers, lowest first, are those of docs/architecture.md."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "adkit"
#: Layer of each top-level part of the package, lowest first.
LAYERS = [
    {"adkit.about", "adkit.errors", "adkit.validation", "adkit.fixedpoint", "adkit.metrics", "adkit.progress",
     "adkit.executors", "adkit.files"},
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
    {"adkit"},  # the package face: adkit.save / adkit.load
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


def test_no_import_circles():
    """No module reaches itself through the modules it imports (a package counts as its ``__init__``)."""
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
               for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, target, _ in imports():
        if resolve(target) != module:
            graph[module].add(resolve(target))
    state: dict[str, int] = {}
    circles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                circles.append(" -> ".join(path[path.index(t):] + [m, t]) if t in path else f"{m} -> {t}")
            elif t not in state:
                visit(t, path + [m])
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


#: The two lazy loaders, and the modules they may load: commands of the CLI, detectors of the registry.
LAZY = {"adkit/cli/__init__.py": "adkit.cli.", "adkit/detectors/registry.py": "adkit.detectors."}


def test_no_hidden_imports():
    """Imports are statements the layer checks see: no importlib or __import__ outside the two lazy
    loaders, and those load only modules of their own layer."""
    hidden = [str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py")
              if "importlib.import_module" in p.read_text() or "__import__(" in p.read_text()]
    assert sorted(hidden) == sorted(LAZY), hidden
    from adkit.cli import COMMANDS
    from adkit.detectors.registry import BUILTIN

    loaded = [f"adkit.cli.{m}" for m in COMMANDS.values()] + [t.partition(":")[0] for t in BUILTIN.values()]
    assert all(m.startswith(tuple(LAZY.values())) for m in loaded), loaded


def test_architecture_lists_every_module():
    """docs/architecture.md names every module of the package, one line each, and no module that is gone."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    block = text.split("The layout, one line per module:", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    listed = {line.split()[0] for line in block.splitlines() if line.startswith("  ") and line.split()}
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    assert not modules - listed, f"modules missing from docs/architecture.md: {sorted(modules - listed)}"
    assert not listed - modules, f"docs/architecture.md lists modules that are gone: {sorted(listed - modules)}"


def test_tests_own_their_data():
    """Tests, examples and benchmarks read the data that ships in tests/data, never a folder beside the
    repository: a fresh clone runs every one of them (issue 29)."""
    import os
    import re

    from conftest import SHARED_DATA

    root = PACKAGE.parent
    assert SHARED_DATA.resolve().is_relative_to(root.resolve()) or "ADKIT_SHARED_DATA" in os.environ
    beside = re.compile(r"(\.parent|parents\[\d\]) / \"shared\"")  # a path out of the repository into ../shared
    outside = [str(p.relative_to(root)) for d in ("tests", "examples", "benchmarks", "docs")
               for p in (root / d).glob("*.py") if beside.search(p.read_text()) and p.name != "test_layers.py"]
    assert not outside, f"these read data from outside the repository: {outside}"
    for sub in ("real", "pythia", "sensor"):
        assert any((root / "tests" / "data" / sub).iterdir()), sub
