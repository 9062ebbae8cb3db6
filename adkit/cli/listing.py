"""``adkit models`` and ``adkit features``."""
import json

import click

from adkit.cli._options import JSON


@click.command()
@JSON
def models(as_json):
    """List the registered detectors."""
    from adkit.workflows.inspect import detector_lines, detector_table

    click.echo(json.dumps(detector_table(), indent=2) if as_json else "\n".join(detector_lines()))


@click.command()
@JSON
def features(as_json):
    """List the feature names valid for --features and --conditions."""
    from adkit.workflows.inspect import feature_lines, feature_table

    click.echo(json.dumps(feature_table(), indent=2) if as_json else "\n".join(feature_lines()))
