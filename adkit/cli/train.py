"""``adkit train``."""
import json

import click

from adkit.cli._options import JSON, SEED, Deprecated, Finite, InputPath, progress, reading, say


@click.command()
@click.option("--detector", help="Detector name (see `adkit models`). Default: ae.")
@click.option("--model", "old_detector", cls=Deprecated, new="--detector", hidden=True)
@click.option("--data", multiple=True, type=InputPath(), help="Training file (repeatable). Default: embedded background.")
@click.option("--reference", multiple=True, type=InputPath(), help="nplm, nplm-nn: the sample --data is set against.")
@click.option("--config", type=InputPath(dir_okay=False), help="YAML run config (detector, epochs, seed, features, params).")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs.")
@click.option("--seed", type=SEED, help="Random seed (default 0).")
@click.option("--features", help="Comma-separated feature names (default: the 57 raw inputs).")
@click.option("--conditions", "--condition", "conditions", help="Condition features or table columns (cvae), a,b,...")
@click.option("--param", "params", multiple=True, help="Detector hyper-parameter NAME=VALUE (repeatable).")
@click.option("--kernel", type=click.Choice(["rbf", "quantum"]), help="Kernel of svc (as --param kernel=...).")
@click.option("--preprocessing", type=click.Choice(["auto", "physics", "log-pooled", "log-pooled-unseen", "standard"]), default="auto",
              show_default=True, help="Input scaling (docs/detectors.md); auto: the detector's choice.")
@click.option("-o", "--output", type=click.Path(), help="Model file to write. Default: ./model.adkit.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model file.")
@click.option("--resume", is_flag=True, help="Continue an interrupted training from its checkpoint.")
@click.option("--encoder", type=InputPath(dir_okay=False), help="Train in the latent space of this AE model file.")
@click.option("--window", type=click.IntRange(min=1), help="Time series: samples per window (default 128).")
@click.option("--stride", type=click.IntRange(min=1), help="Time series: samples between windows (default window/4).")
@click.option("--channels", help="Time series: comma-separated value columns (default: all but time/label/context).")
@click.option("--time-column", help="Time series: the time stamp column (default: time, timestamp, t, gps_time).")
@click.option("--label", help="Time series: the 0/1 annotation column (default: is_anomaly, label or anomaly); "
                              "it is no channel, and labelled windows are left out of training.")
@click.option("--rate", type=Finite(min=0, min_open=True), help="Time series without time stamps: Hz.")
@JSON
@reading
def train(detector, old_detector, as_json, **options):
    """Train a detector and write the model file."""
    from adkit.workflows.commands import train_command
    from adkit.workflows.train import train_summary

    model = train_command(detector=detector or old_detector, **options, progress=progress(), say=say)
    if as_json:
        click.echo(json.dumps(train_summary(model, options.get("output")), indent=2, default=str))
