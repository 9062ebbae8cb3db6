"""The ``adkit`` command line: one small module per command, each one call into :mod:`adkit.workflows`.

User errors become one line on stderr and exit code 2 (``--debug``: the traceback). Each command
runs in its own input scope (:mod:`adkit.files`): no output may resolve to a file it read.
"""
from __future__ import annotations

import importlib
import sys

import click

from adkit.errors import AdkitError, os_error_line

#: command → module under adkit.cli that defines it (a function of the same name).
COMMANDS = {**{c: c for c in ("info", "train", "score", "evaluate", "generate", "show", "distill", "export", "encode",
                              "nplm", "compare")}, "models": "listing", "features": "listing"}


class AdkitGroup(click.Group):
    """Lazily loaded commands; user errors as one line and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str):
        return getattr(importlib.import_module(f"adkit.cli.{COMMANDS[name]}"), name) if name in COMMANDS else None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as e:
            ctx = getattr(e, "ctx", None)
            path = f"adkit {ctx.info_name}" if ctx is not None and ctx.parent is not None else "adkit"
            hint = f" (see '{path} --help')" if isinstance(e, click.UsageError) else ""
            click.echo(f"adkit: error: {' '.join(e.format_message().split())}{hint}", err=True)
            rv = e.exit_code
        except click.Abort:
            click.echo("adkit: aborted", err=True)
            rv = 1
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context):
        from adkit.files import input_scope

        try:
            with input_scope():
                return super().invoke(ctx)
        except AdkitError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"adkit: error: {' '.join(str(e).split())}", err=True)
            ctx.exit(2)
        except OSError as e:  # the system refused something (permissions, name too long, ...): one line too
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"adkit: error: {os_error_line(e)}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("adkit: interrupted; no partial output left under a final name (train: --resume)", err=True)
            ctx.exit(130)


# No option is read from the environment: an option that replaces or rewrites files (--overwrite,
# --store-thresholds) must come from the command line (docs/safety.md lists the variables that stay).
@click.group(cls=AdkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of user errors.")
@click.version_option(package_name="adkit")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """adkit: anomaly detection for collider and sensor data."""
    ctx.obj = {"debug": debug}
