"""``adkit generate``."""
import click

from adkit.cli._options import OVERWRITE, SEED, executing, progress, say

EVENTS = click.IntRange(1, 50_000_000)


@click.command()
@click.option("-o", "--output", "outdir", default="data", show_default=True, type=click.Path(file_okay=False))
@click.option("--engine", type=click.Choice(["embedded", "pythia"]), default="embedded", show_default=True,
              help="embedded: adkit's fast built-in generator; pythia: Pythia 8 and FastJet (pip install "
                   "'adkit[pythia]'), in chunks that an interrupted run picks up again.")
@click.option("--events", type=EVENTS, default=200_000, show_default=True,
              help="Background events (mixed W 59.2 %, QCD 33.8 %, Z 6.7 %, ttbar 0.3 % by --engine pythia).")
@click.option("--signal-events", type=EVENTS, default=20_000, show_default=True, help="Events per signal.")
@click.option("--processes", help="--engine pythia: comma-separated processes to make (default: all eight).")
@click.option("--chunk", type=click.IntRange(10, 1_000_000), default=2_000, show_default=True,
              help="--engine pythia: events per task (each with its own seed; the unit an interrupted run resumes).")
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--format", "formats", default="h5,root", show_default=True, help="Comma-separated: h5, root.")
@click.option("--gw", is_flag=True,
              help="Instead: gravitational-wave strain in OUTPUT/gw/ (ml4gw: whitened H1 and L1 noise with the "
                   "Advanced LIGO design PSD, BBH and sine-Gaussian injections; pip install 'adkit[gw]').")
@click.option("--seconds", type=click.FloatRange(10, 3600), default=600.0, show_default=True,
              help="--gw: seconds of training noise and of background noise.")
@click.option("--snrs", default="4,6,8,10,15,20,30", show_default=True,
              help="--gw: comma-separated network SNRs of the injections.")
@click.option("--per-snr", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="--gw: injections of each kind at each SNR (one every 4 s; at most 1000 of a kind).")
@executing
@OVERWRITE
def generate(gw, seconds, snrs, per_snr, **options):
    """Write a background sample and the four signals (ADC2021 .h5, NanoAOD-like .root), or with --gw
    two-detector gravitational-wave strain."""
    events_only = ("events", "signal_events", "formats", "chunk", "engine", "processes")
    given = [n for n in ("seconds", "snrs", "per_snr", *events_only)
             if click.get_current_context().get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE]
    wrong = [n for n in given if (n in events_only) == gw]
    if wrong:
        from adkit.errors import ConfigError

        opt = "--" + ("format" if wrong[0] == "formats" else wrong[0].replace("_", "-"))
        raise ConfigError(f"{opt} is for {'collision events: drop it with --gw' if gw else '--gw: add --gw'}")
    if gw:
        from adkit.workflows.gw import generate_gw_command

        generate_gw_command(options, seconds=seconds, snrs=snrs, per_snr=per_snr, say=say)
        return
    from adkit.workflows.inspect import generate_command

    generate_command(**options, progress=progress(), say=say)
