"""Run the commands shown in the docs and write their real output into the pages (or check them).

A console block in a page is either *run* or *shown*:

    <!-- run -->                  <!-- run: exact -->                <!-- shown -->
    ```console                    ```console                         ```console
    $ adkit models                $ adkit info FILE                  $ dask scheduler --port 8786 &
    (its output, written here)    (output, compared in the tests)    (commands only, never run)
    ```                           ```                                ```

Every ``$`` line of every page (and the README's quick start) is parsed against the real
command line, so a documented option that does not exist fails the tests. The commands of
``run`` blocks are executed, page by page, in a sandbox directory that holds ``data/`` (the
embedded sample written by ``adkit generate``) and ``../shared``; the
block then becomes each command followed by what it printed. ``exact`` blocks are compared
with a fresh run in the tests. ``--quick`` (what the tests use) adds small-data options to
each command (:data:`QUICK`) and does not write pages.

    python docs/generate.py              # rerun every run block, rewrite the pages
    python docs/generate.py --check      # exit 1 if an exact block differs
    python docs/generate.py readers.md   # one page
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Options a command gets in quick mode (small data, one epoch), unless it names them itself.
QUICK = {"train": ["--epochs", "1"], "generate": ["--events", "20000", "--signal-events", "1000"],
         "distill": ["--epochs", "1"], "nplm": ["--toys", "2"], "examples": ["--small"], "benchmarks": ["--quick"]}
#: Sizes a command names itself, capped in quick mode.
CAPS = {"generate": {"--events": 20000, "--signal-events": 1000}, "nplm": {"--toys": 2}, "train": {"--epochs": 1}}
MARKER = re.compile(r"^<!-- (run|run: exact|shown) -->$")


@dataclass
class Block:
    page: Path
    mode: str  # run, exact, shown
    start: int  # line index of the opening fence
    stop: int  # line index of the closing fence
    commands: list[str] = field(default_factory=list)


def blocks(page: Path) -> list[Block]:
    """The marked console blocks of a page; an unmarked block with ``$`` lines is an error."""
    lines = page.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            j = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("```"))
            cmds = [ln[2:] for ln in lines[i + 1:j] if ln.startswith("$ ")]
            m = MARKER.match(lines[i - 1]) if i else None
            if cmds and not m:
                raise SystemExit(f"{page.name}:{i + 1}: a block with $ commands needs a <!-- run --> or "
                                 "<!-- shown --> marker on the line before it")
            if m:
                out.append(Block(page, {"run": "run", "run: exact": "exact", "shown": "shown"}[m.group(1)], i, j, cmds))
            i = j + 1
        else:
            i += 1
    return out


def argv_of(command: str) -> list[str]:
    """A displayed command as arguments: its trailing ``# comment`` and ``&`` dropped."""
    text = re.sub(r"\s+#\s.*$", "", command).rstrip(" &")
    return shlex.split(text)


def quick(argv: list[str]) -> list[str]:
    """``argv`` (``adkit`` already dropped) with the quick-mode options it does not set itself."""
    key = argv[0].split("/")[0] if argv and argv[0].endswith(".py") else argv[0]
    extra = QUICK.get(key, [])
    if key == "train" and not _has_epochs(argv):
        extra = []
    names = {a.split("=")[0] for a in argv}
    out = list(argv)
    for i, a in enumerate(out[:-1]):  # sizes a page names itself are capped at the quick ones
        if a in CAPS.get(key, {}) and out[i + 1].isdigit():
            out[i + 1] = str(min(int(out[i + 1]), CAPS[key][a]))
    for k in range(0, len(extra), 2):
        opt = extra[k]
        val = extra[k + 1:k + 2] if k + 1 < len(extra) and not extra[k + 1].startswith("--") else []
        if opt not in names:
            out += [opt, *val]
    return out


def _has_epochs(argv: list[str]) -> bool:
    """Whether ``train argv`` trains a detector that has an ``epochs`` parameter."""
    from adkit.detectors import registry

    name = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--detector"), "ae")
    try:
        return "epochs" in registry.get(name)().get_params()
    except Exception:  # noqa: BLE001 (an unknown detector fails in the command itself)
        return False


def parse_check(argv: list[str]) -> None:
    """Parse an ``adkit`` command line without running it: unknown commands, options and choices fail."""
    import click

    from adkit.cli import main

    ctx = main.make_context("adkit", [argv[0]], resilient_parsing=True)
    cmd = main.get_command(ctx, argv[0])
    if cmd is None:
        raise ValueError(f"adkit has no command {argv[0]!r}")
    sub = click.Context(cmd, info_name=argv[0], parent=ctx)  # a context only: nothing is converted or run
    opts, _, _ = cmd.make_parser(sub).parse_args(list(argv[1:]))
    for p in cmd.params:
        if isinstance(p.type, click.Choice) and p.name in opts and opts[p.name] is not None:
            values = opts[p.name] if isinstance(opts[p.name], (list, tuple)) else [opts[p.name]]
            bad = [v for v in values if v not in p.type.choices]
            if bad:
                raise ValueError(f"{argv[0]} {p.opts[0]} {bad[0]!r}: not one of {', '.join(p.type.choices)}")


def script_check(argv: list[str]) -> None:
    """A ``python SCRIPT ...`` line: the script exists and accepts every option shown."""
    script = ROOT / argv[0]
    if not script.exists():
        raise ValueError(f"no script {argv[0]}")
    opts = [a.split("=")[0] for a in argv[1:] if a.startswith("--")]
    if opts:
        help_text = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                                   cwd=ROOT).stdout
        missing = [o for o in opts if o not in help_text]
        if missing:
            raise ValueError(f"{argv[0]} has no option {missing[0]}")


def sandbox(where: Path, quick_mode: bool) -> Path:
    """A working directory with ``data/`` (HDF5) and ``../shared`` as the docs assume."""
    work = where / "work"
    work.mkdir(parents=True, exist_ok=True)
    shared = ROOT.parent / "shared"
    if shared.is_dir() and not (where / "shared").exists():
        (where / "shared").symlink_to(shared)
    argv = ["generate", "-o", "data", "--format", "h5"]
    code, text = run_adkit(quick(argv) if quick_mode else argv, work)
    if code != 0:
        raise RuntimeError(f"sandbox set-up `adkit {' '.join(argv)}` failed: {text}")
    return work


def run_adkit(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``adkit argv`` in-process in ``cwd``: (exit code, what it printed on stdout and stderr)."""
    from click.testing import CliRunner

    from adkit.cli import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            r = CliRunner().invoke(main, argv, catch_exceptions=False, terminal_width=120, env={"COLUMNS": "120"})
    finally:
        os.chdir(old)
    return r.exit_code, r.output  # stdout and stderr interleaved, as a terminal shows them


def run_block(block: Block, work: Path, quick_mode: bool) -> list[str]:
    """Run a block's commands in order; returns the block's new body (commands and their output)."""
    body = []
    for cmd in block.commands:
        argv = argv_of(cmd)
        if argv[0] == "adkit":
            args = quick(argv[1:]) if quick_mode else argv[1:]
            import glob

            args = [a for g in args for a in (sorted(glob.glob(g, root_dir=work)) or [g] if "*" in g else [g])]
            code, text = run_adkit(args, work)
        elif argv[0] == "python":
            if quick_mode and argv[1].startswith("examples/"):
                body.append(f"$ {cmd}")  # tests/test_cli.py::test_examples_run runs every example (--small)
                continue
            args = quick(argv[1:]) if quick_mode else argv[1:]
            r = subprocess.run([sys.executable, str(ROOT / args[0]), *args[1:]], cwd=work, capture_output=True,
                               text=True)
            code, text = r.returncode, r.stdout + r.stderr
        else:
            raise ValueError(f"{block.page.name}: a run block can only run adkit and python commands: {cmd}")
        expected = 2 if re.search(r"#.*exit (code )?2", cmd) else 0
        if code != expected:
            raise RuntimeError(f"{block.page.name}:{block.start + 1}: `{cmd}` exited {code}, not {expected}:\n"
                               f"{text[-2000:]}")
        body += [f"$ {cmd}", *_normalise(text, work).rstrip("\n").splitlines()]
    return body


def _normalise(text: str, work: Path) -> str:
    return text.replace(str(work) + "/", "").replace(str(work), ".")


def pages(names: list[str] | None = None) -> list[Path]:
    found = sorted(DOCS.glob("*.md"))
    return [p for p in found if not names or p.name in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pages", nargs="*", help="page names (default: all of docs/)")
    ap.add_argument("--check", action="store_true", help="compare exact blocks, write nothing; exit 1 on a difference")
    ap.add_argument("--quick", action="store_true", help="small data and one epoch; write nothing")
    ap.add_argument("--exact-only", action="store_true", help="rerun only the exact blocks (fast)")
    args = ap.parse_args(argv)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages(args.pages):
            todo = [b for b in blocks(page) if b.mode == "exact" or (b.mode == "run" and not args.exact_only)]
            for b in blocks(page):
                for cmd in b.commands:
                    a = argv_of(cmd)
                    if a[0] == "adkit":
                        parse_check(a[1:])
            if not todo:
                continue
            where = Path(tmp) / page.stem
            work = sandbox(where, args.quick)
            lines = page.read_text().splitlines()
            new = {}
            for b in todo:  # in page order: a page may train a model and then show it
                new[b.start] = run_block(b, work, args.quick)
            for b in sorted(todo, key=lambda b: -b.start):
                old = lines[b.start + 1:b.stop]
                if b.mode == "exact" and old != new[b.start]:
                    failed += 1
                    print(f"{page.name}:{b.start + 1}: the block differs from what the commands print now")
                lines[b.start + 1:b.stop] = new[b.start]
            if not (args.check or args.quick):
                page.write_text("\n".join(lines) + "\n")
                print(f"wrote {page.relative_to(ROOT)}")
            shutil.rmtree(where, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
