"""``adkit export``."""
import click

from adkit.cli._options import MODEL_FILE, OVERWRITE, say


@click.command()
@MODEL_FILE
@click.option("-o", "--output", type=click.Path(), help="Output file. Default: the model name with .pt.")
@click.option("--format", "fmt", type=click.Choice(["torchscript"]), default="torchscript", show_default=True)
@OVERWRITE
def export(**options):
    """Export a torch model with its preprocessing for software triggers, checked against adkit."""
    from adkit.workflows.inspect import export_command

    export_command(**options, say=say)
