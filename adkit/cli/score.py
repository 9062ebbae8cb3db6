"""``adkit score``."""
import click

from adkit.cli._options import JSON, MODEL_FILE, OVERWRITE, InputPath, executing, progress, reading, say


@click.command()
@click.argument("files", nargs=-1, required=True, type=InputPath())
@MODEL_FILE
@click.option("-o", "--output", type=click.Path(),
              help="One input: score file (.h5 or .parquet), default ./<input>.scores.h5. Several inputs: a "
                   "directory (default ./scores) with one <input>.scores.h5 per input and manifest.json; a "
                   ".h5/.parquet name instead collects them all into one table (local executor).")
@click.option("--friend", is_flag=True, help="Also write a ROOT friend tree per ROOT input.")
@OVERWRITE
@executing
@click.option("--task-events", type=click.IntRange(min=1), default=1_000_000, show_default=True, help="Per task.")
@click.option("--format", "fmt", type=click.Choice(["h5", "parquet"]), default="h5", show_default=True)
@click.option("--strict", is_flag=True,
              help="Stop (exit 2, nothing written) when too many events lie outside the model's training range.")
@click.option("--ood-limit", type=click.FloatRange(0, 1), default=None,
              help="Fraction of events outside the training range that warns (or, --strict, stops). [default: 0.5]")
@click.option("--follow", is_flag=True,
              help="Series models: watch the CSV grow and print one line per new window (row, time, score, alarms).")
@click.option("--poll", type=click.FloatRange(min=0.01), default=0.5, show_default=True,
              help="With --follow: seconds between reads of the file.")
@click.option("--max-windows", type=click.IntRange(min=1), help="With --follow: stop after this many windows.")
@JSON
@reading
def score(as_json, follow, poll, max_windows, **options):
    """Score every event of FILES: source, entry, score, a pass bit per stored threshold."""
    if follow:
        from adkit.artifact import Model
        from adkit.workflows.stream import follow_command

        follow_command(Model.load(options["model_path"]), options["files"], poll=poll, max_windows=max_windows,
                       echo=click.echo, say=say, as_json=as_json)
        return
    from adkit.workflows.commands import score_command

    summary = score_command(**options, progress=progress(), say=say)
    if as_json:
        import json

        click.echo(json.dumps(summary, indent=2, default=str))
