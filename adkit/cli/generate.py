"""``adkit generate``."""
import click

from adkit.cli._options import OVERWRITE, SEED, say

EVENTS = click.IntRange(1, 50_000_000)


@click.command()
@click.option("-o", "--output", "outdir", default="data", show_default=True, type=click.Path(file_okay=False))
@click.option("--events", type=EVENTS, default=200_000, show_default=True, help="Background events.")
@click.option("--signal-events", type=EVENTS, default=20_000, show_default=True, help="Events per signal.")
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--format", "formats", default="h5,root", show_default=True, help="Comma-separated: h5, root.")
@OVERWRITE
def generate(**options):
    """Write the embedded default background and the four signals (ADC2021 .h5, NanoAOD-like .root)."""
    from adkit.workflows.inspect import generate_command

    generate_command(**options, say=say)
