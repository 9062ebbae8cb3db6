"""``adkit evaluate``."""
import click

from adkit.cli._options import JSON, MODEL_FILE, OVERWRITE, Finite, InputPath, reading, say


@click.command()
@MODEL_FILE
@click.option("--background", multiple=True, type=InputPath(), help="Background file (repeatable). Default: embedded.")
@click.option("--signal", "signals", multiple=True, help="NAME=FILE (repeatable). Default: the four embedded signals.")
@click.option("--scores", "scores_dir", type=click.Path(file_okay=False),
              help="A directory written by `adkit score FILES -o DIR`: evaluate on those scores (checked current).")
@click.option("--background-name", default="background", show_default=True,
              help="With --scores: the input whose scores are the background; the others are signals.")
@click.option("-o", "--output", "outdir", default="report", show_default=True, type=click.Path(file_okay=False))
@click.option("--rates", default="1,10,100", show_default=True, help="Trigger rates in kHz.")
@click.option("--bunch-rate", default=40.0, show_default=True, type=Finite(min=0, min_open=True), help="Input rate, MHz.")
@click.option("--store-thresholds", help="Rates in kHz whose thresholds are stored into the model (e.g. 1,10).")
@click.option("--force-thresholds", is_flag=True,
              help="Store thresholds even where fewer than 10 background events pass (unresolved).")
@JSON
@OVERWRITE
@click.option("--series", "series_files", multiple=True, type=InputPath(), help="Series models: labelled series (default: a demo).")
@click.option("--intervals", type=InputPath(dir_okay=False), help="Series models: CSV of anomalous start,stop (s).")
@click.option("--false-alarms", default="1,10,100", show_default=True, help="Series models: false alarms per hour.")
@click.option("--rate", type=Finite(min=0, min_open=True),
              help="Series models: samples per second, for series whose time stamps have no unit.")
@click.option("--protocol", type=click.Choice(["events", "ucr"]), default="events", show_default=True,
              help="Series models: events = efficiency vs false alarms; ucr = the UCR Anomaly Archive protocol "
                   "(the top-scored sample of each series within --tolerance of its anomaly).")
@click.option("--tolerance", type=click.IntRange(min=0), default=100, show_default=True,
              help="With --protocol ucr: samples the top-scored sample may lie outside the anomaly.")
@reading
def evaluate(**options):
    """AUC and TPR at FPR 1e-5/1e-4/1e-3 and at trigger rates, per signal; plots and a report."""
    from adkit.workflows.commands import evaluate_command

    evaluate_command(**options, say=say, echo=click.echo)
