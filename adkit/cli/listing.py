"""``adkit models`` and ``adkit features``."""
import click


@click.command()
def models():
    """List the registered detectors."""
    from adkit.workflows.inspect import detector_lines

    click.echo("\n".join(detector_lines()))


@click.command()
def features():
    """List the feature names valid for --features and --conditions."""
    from adkit.workflows.inspect import feature_lines

    click.echo("\n".join(feature_lines()))
