"""The docs stay true: every command they show parses against the real command line, and every page's
run blocks run (quick mode: small data, one epoch), with exact blocks equal to what adkit prints now."""
from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest
from conftest import JOBS

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
gen = importlib.util.module_from_spec(spec)
sys.modules["docs_generate"] = gen  # dataclasses look their module up there
spec.loader.exec_module(gen)

PAGES = sorted((ROOT / "docs").glob("*.md"))
TEXTS = [*PAGES, ROOT / "README.md", ROOT / "CONTRIBUTING.md"]


def shown_commands(path: Path) -> list[str]:
    """Every adkit/python command a page shows: ``$`` lines, the README's ``&&`` chains, inline code."""
    text = path.read_text()
    lines = [ln[2:] for ln in text.splitlines() if ln.startswith("$ ")]
    lines += [ln for ln in text.splitlines() if ln.startswith("python3 -m venv")]  # the README's quick start
    lines += [m.group(1) for m in re.finditer(r"`((?:adkit|python) [^`]+)`", text)]
    return [part.strip() for line in lines for part in line.split("&&") if part.strip().startswith(("adkit ",
                                                                                                     "python "))]


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_every_command_in_the_docs_parses(path):
    problems = []
    if path.parent.name == "docs":
        gen.blocks(path)  # a $ block without a run/shown marker fails here
    for cmd in shown_commands(path):
        try:
            argv = gen.argv_of(cmd)
        except ValueError:
            continue  # not a command line (prose in backticks)
        if not argv:
            continue
        try:
            if argv[0] == "adkit" and len(argv) > 1 and not argv[1].startswith("-"):
                gen.parse_check(argv[1:])
            elif argv[0] == "python" and len(argv) > 1 and argv[1].startswith(("examples/", "benchmarks/", "docs/")):
                gen.script_check(argv[1:])
        except Exception as e:  # noqa: BLE001 (collect every problem of the page)
            if "requires an argument" in str(e) and argv[-1].startswith("--"):
                continue  # prose naming an option (`adkit evaluate --store-thresholds`), its value left out
            problems.append(f"{cmd!r}: {e}")
    assert not problems, "\n".join(problems)


def test_a_misspelt_option_is_caught():
    with pytest.raises(Exception, match="no_such"):
        gen.parse_check(shlex.split("score x.h5 --no_such 1"))
    with pytest.raises(ValueError, match="not one of"):
        gen.parse_check(shlex.split("train --preprocessing logs"))


RUN_PAGES = [p for p in PAGES if any(b.mode in ("run", "exact") for b in gen.blocks(p))]


def page_job(page: Path) -> list[str]:
    return [sys.executable, str(ROOT / "docs" / "generate.py"), "--quick", "--check", page.name]


def background_jobs(item) -> dict[str, list[str]]:
    """The quick run of the page a collected test checks (tests/conftest.py starts it early)."""
    page = item.callspec.params.get("page") if hasattr(item, "callspec") else None
    if page is None or item.originalname != "test_page_commands_run":
        return {}
    return {f"docs/{page.name}": page_job(page)}


@pytest.mark.parametrize("page", RUN_PAGES, ids=lambda p: p.name)
def test_page_commands_run(page, shared_data):
    r, _ = JOBS.result(f"docs/{page.name}", page_job(page))
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


#: Pages whose every benchmark output must carry the hash of the script that printed it (issue 29).
STAMPED = ("physics-table.md", "ae-default.md", "benchmarks.md", "synthesis.md", "compress.md", "gw.md")


def test_benchmark_outputs_are_not_older_than_their_scripts():
    """An output block records the sha256 of its script (and the benchmark modules it imports) when it
    is regenerated; a changed script makes the recorded output stale, and that fails here."""
    stale, unstamped = [], []
    for page in PAGES:
        for b in gen.blocks(page):
            if b.mode != "output":
                continue
            script = gen.argv_of(b.commands[0])[1]
            if b.script_hash is None:
                if page.name in STAMPED:
                    unstamped.append(f"{page.name}:{b.start}: {b.commands[0]}")
            elif b.script_hash != gen.script_hash(ROOT / script):
                stale.append(f"{page.name}:{b.start}: {b.commands[0]} (regenerate: python docs/generate.py "
                             f"--benchmarks {page.name})")
    third = (ROOT / "docs" / "physics-table.md").read_text().splitlines()[2]
    recorded = re.search(r"script sha256 ([0-9a-f]{12})", third)
    if recorded is None or recorded.group(1) != gen.script_hash(ROOT / "benchmarks" / "physics.py"):
        stale.append("physics-table.md (regenerate: python benchmarks/physics.py --markdown docs/physics-table.md)")
    assert not unstamped, f"output blocks without their script's hash: {unstamped}"
    assert not stale, f"output older than its script: {stale}"


def test_a_changed_script_makes_its_output_stale(tmp_path):
    script = tmp_path / "bench.py"
    script.write_text("from helper import x\nprint(x)\n")
    (tmp_path / "helper.py").write_text("x = 1\n")
    before = gen.script_hash(script)
    (tmp_path / "helper.py").write_text("x = 2\n")
    assert gen.script_hash(script) != before, "a change in an imported benchmark module counts"
    page = tmp_path / "p.md"
    page.write_text(f"# P\n\n<!-- output of: python bench.py | script sha256 {before} -->\n```\n1\n```\n")
    (b,) = gen.blocks(page)
    assert b.mode == "output" and b.script_hash == before and b.commands == ["python bench.py"]
