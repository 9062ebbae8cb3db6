"""``adkit show``."""
import click

from adkit.cli._options import DEFAULT_MODEL, InputPath


@click.command()
@click.argument("model_path", default=DEFAULT_MODEL, type=InputPath())
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
def show(**options):
    """Summary of a model file's manifest (validated exactly as `score` validates it)."""
    from adkit.workflows.inspect import show_command

    show_command(**options, echo=click.echo)
