"""``adkit info``."""
import click

from adkit.cli._options import JSON, MAPPING, InputPath


@click.command()
@click.argument("files", nargs=-1, required=True, type=InputPath())
@JSON
@MAPPING
@click.option("--tree", help="Tree name in ROOT files (default: Events or Delphes).")
@click.option("--dataset", help="HDF5 dataset (default: Particles, or the only 2-D table).")
def info(**options):
    """What each FILE is: format, trees, entries, which objects map onto the schema."""
    from adkit.workflows.inspect import info_command

    info_command(**options, echo=click.echo)
