"""``adkit nplm``."""
import click

from adkit.cli._options import JSON, OVERWRITE, SEED, Deprecated, Finite, InputPath, executing, progress, reading, say


@click.command()
@click.option("--reference", multiple=True, required=True, type=InputPath(), help="Reference (SM) file, repeatable.")
@click.option("--data", multiple=True, required=True, type=InputPath(), help="Data file to test, repeatable.")
@click.option("-o", "--output", "outdir", default="nplm", show_default=True, type=click.Path(file_okay=False))
@click.option("--features", help="Features a,b,... (default met,ht,lepton_pt_sum,n_leptons,n_jets; tables: all).")
@click.option("--detector", type=click.Choice(["nplm", "nplm-nn"]), default="nplm", show_default=True,
              help="nplm: Nyström kernel logistic regression (fast); nplm-nn: the original NPLM network.")
@click.option("--model", "old_model", type=click.Choice(["kernel", "nn"]), cls=Deprecated, new="--detector",
              hidden=True)
@click.option("--n-expected", type=Finite(min=0, min_open=True), help="N(0) under the reference (default observed).")
@click.option("--toys", type=click.IntRange(0, 1_000_000), default=100, show_default=True, help="Null toys (0: no p-value).")
@executing
@click.option("--param", "params", multiple=True, help="Model parameter NAME=VALUE (sigma, n_centres, lam, epochs, ...).")
@click.option("--nuisance", "nuisances", multiple=True,
              help="A systematic uncertainty of the reference, profiled (repeatable): NAME=0.05 a normalisation "
                   "(relative σ), NAME=UP_FILE,DOWN_FILE a shape (reference samples at +1σ and −1σ).")
@click.option("--feature-set", "feature_sets", multiple=True,
              help="Another feature set a,b,... to test beside --features (repeatable): one test each on the same "
                   "toys, combined by the smallest p-value calibrated on those toys.")
@click.option("--sigmas", help="Kernel widths a,b,... (standardised units): one test each on the same toys, "
                               "combined by the smallest p-value calibrated on those toys.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--plot-features", help="Features for the f(x) projection plots (default: the first four).")
@click.option("--save-model", type=click.Path(dir_okay=False), help="Also write the learned f(x) as an adkit model.")
@JSON
@OVERWRITE
@reading
def nplm(detector, old_model, **options):
    """NPLM goodness-of-fit test: is DATA compatible with REFERENCE? Prints t, p-value and Z."""
    from adkit.workflows.nplm import nplm_command

    detector = {"kernel": "nplm", "nn": "nplm-nn"}.get(old_model, detector)
    nplm_command(detector=detector, **options, progress=progress(), say=say, echo=click.echo)
