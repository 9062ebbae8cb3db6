"""Option types and option groups shared by the commands (no adkit logic here)."""
from __future__ import annotations

import math
from pathlib import Path

import click

from adkit.about import DEFAULT_MODEL


def say(msg: str) -> None:  # notices (defaults used, files written) go to stderr
    click.echo(msg, err=True)


def progress() -> bool:  # rich bars on a terminal, plain lines every few seconds otherwise (adkit.progress.bar)
    return True


class InputPath(click.Path):
    """A path option naming an input: noted at parse time, so no output can be written over it."""

    def convert(self, value, param, ctx):
        from adkit.io.inputs import note_input

        value = super().convert(value, param, ctx)
        if value is not None and Path(value).exists():
            note_input(value)
        return value


class Finite(click.FloatRange):
    """A float option in a range that also refuses NaN and inf (click's ranges let NaN through)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if rv is not None and not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


class Deprecated(click.Option):
    """An old spelling, accepted for one release with a notice naming the new one."""

    def __init__(self, *args, new: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.new = new

    def handle_parse_result(self, ctx, opts, args):
        if opts.get(self.name) is not None:
            say(f"adkit: {self.opts[0]} is deprecated here; use {self.new}")
        return super().handle_parse_result(ctx, opts, args)


SEED = click.IntRange(0, 2**32 - 1)
MODEL_FILE = click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, type=InputPath(),
                          help="The model file.")
OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
MAPPING = click.option("--mapping", type=InputPath(dir_okay=False), help="YAML mapping of tree/branches/objects.")


def reading(f):  # --mapping, --nan-policy and --step: how event files are read
    f = click.option("--step", type=click.IntRange(1, 10_000_000), default=100_000, show_default=True,
                     help="Events per chunk (bounds memory).")(f)
    f = click.option("--nan-policy", type=click.Choice(["reject", "drop", "zero"]), default="reject",
                     show_default=True, help="Events with NaN/inf inputs: fail, skip them, or set them to 0.")(f)
    return MAPPING(f)


def executing(f):  # --executor, --workers and --scheduler: where parallel tasks run
    f = click.option("--scheduler", help="Address of an existing dask scheduler (tcp://host:8786).")(f)
    f = click.option("--workers", type=click.IntRange(1, 1024), default=1, show_default=True,
                     help="Parallel worker processes (local pool or dask LocalCluster).")(f)
    return click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                        help="Where tasks run: this machine (a process pool with --workers > 1) or dask.")(f)
