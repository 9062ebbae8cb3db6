"""``adkit compare``."""
import click

from adkit.cli._options import JSON, OVERWRITE, SEED, InputPath, reading, say


@click.command()
@click.argument("reference", nargs=1, type=InputPath())
@click.argument("sample", nargs=1, type=InputPath())
@click.option("-o", "--output", "outdir", default="compare", show_default=True, type=click.Path(file_okay=False))
@click.option("--features", help="Features a,b,... (default met,ht,lepton_pt_sum,n_leptons,n_jets; tables: all).")
@click.option("--seed", type=SEED, default=0, show_default=True)
@JSON
@OVERWRITE
@reading
def compare(reference, sample, **options):
    """How far SAMPLE (e.g. a generator's events) is from REFERENCE: FPD, KPD and W1 per feature
    (Kansal et al.), each with its uncertainty, and a plot per feature."""
    from adkit.workflows.compare import compare_command

    compare_command(reference=[reference], sample=[sample], **options, say=say, echo=click.echo)
