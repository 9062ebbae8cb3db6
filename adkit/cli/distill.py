"""``adkit distill``."""
import click

from adkit.cli._options import DEFAULT_MODEL, JSON, OVERWRITE, SEED, Finite, InputPath, progress, say


@click.command()
@click.option("--teacher", default=DEFAULT_MODEL, show_default=True, type=InputPath(), help="Trained model to distill.")
@click.option("--target", type=click.Choice(["fpga", "cpu"]),
              help="fpga (default): HLS project, C simulation checked; cpu: TorchScript, checked.")
@click.option("-o", "--output", default="student.adkit", show_default=True, type=click.Path(), help="Student model file.")
@click.option("--hls-dir", default="hls", show_default=True, type=click.Path(file_okay=False), help="HLS project.")
@click.option("--config", type=InputPath(dir_okay=False), help="YAML: hidden, precision, layer_precision, ...")
@click.option("--data", multiple=True, type=InputPath(), help="Background to distill on (repeatable). Default: embedded.")
@click.option("--background", multiple=True, type=InputPath(), help="Held-out background. Default: embedded test set.")
@click.option("--signal", "signals", multiple=True, help="Held-out NAME=FILE (repeatable).")
@click.option("--student", type=click.Choice(["nn", "bdt", "selfsup"]),
              help="nn: a quantized MLP (default); bdt: boosted decision trees, firmware through conifer; selfsup: "
                   "the self-supervised network of --preset axol1tl-v6 (trained on the background, not on the "
                   "teacher's score; the teacher is the comparison).")
@click.option("--trees", type=click.IntRange(min=1), help="--student bdt: boosting rounds (default 60).")
@click.option("--depth", type=click.IntRange(min=1, max=12), help="--student bdt: depth of each tree (default 4).")
@click.option("--hidden", help="Hidden layer sizes, e.g. 32,16 (default).")
@click.option("--precision", help="e.g. input=ap_fixed<14,6>,weight=ap_fixed<8,2>,activation=ap_fixed<14,6>")
@click.option("--sparsity", type=Finite(0, 1, max_open=True), help="Fraction of hidden weights pruned.")
@click.option("--quantization", type=click.Choice(["uniform", "hgq"]),
              help="uniform (default): one type per layer and kind; hgq: every weight's bit width learned in "
                   "training (HGQ, with PQuantML's quantizer: adkit[compress]), pruning weights that reach 0 bits.")
@click.option("--bit-cost", type=Finite(0, 1), help="--quantization hgq: weight of the bit operations (EBOPs) in the "
                                                   "loss (default 1e-6); larger, smaller firmware.")
@click.option("--epochs", type=click.IntRange(min=1), help="Student training epochs (default 30).")
@click.option("--lr-schedule", type=click.Choice(["constant", "cosine"]),
              help="constant (default) learning rate, or cosine decay to 0 over the epochs (the student kept is the "
                   "last epoch's).")
@click.option("--augment", type=Finite(min=0),
              help="Artificial events per background event, labelled by the teacher (default 1 for a teacher of "
                   "collision objects or of a series, 0 for a table).")
@click.option("--augment-method", type=click.Choice(["objects", "mix", "uniform", "shuffle", "smear", "bursts"]),
              help="objects: background events with extra leptons/jets copied from other events (default for "
                   "collision objects); mix, uniform, shuffle, smear: in feature space; bursts: series windows "
                   "with a transient added (the only one, and default, for a time-series teacher).")
@click.option("--teacher-score", help="The teacher's score the student learns, e.g. latent (Σμ² of a VAE/CVAE "
                                      "encoder, the AXOL1TL score). Default: the teacher's score.")
@click.option("--seed", type=SEED, help="Random seed (default 0).")
@click.option("--rates", help="Trigger rates in kHz: thresholds stored (default 1,10,100).")
@click.option("--backend", type=click.Choice(["Vitis", "Vivado"]), help="hls4ml backend (default Vitis).")
@click.option("--part", help="FPGA part (default xcvu13p-flga2577-2-e).")
@click.option("--clock", type=Finite(min=0, min_open=True), help="Clock period in ns (default 6.25).")
@click.option("--synth", type=click.Choice(["hls", "yosys"]), is_flag=False, flag_value="hls",
              help="Synthesis: hls (bare --synth) runs HLS synthesis of the hls4ml project (needs vitis_hls/"
                   "vivado_hls on PATH); yosys runs Yosys synth_xilinx on the --rtl Verilog (adkit[synth]).")
@click.option("--format", "cpu_format", type=click.Choice(["torchscript"]), help="--target cpu: torchscript (default).")
@click.option("--strategy", type=click.Choice(["latency", "da"]),
              help="latency (default): hls4ml's Latency strategy; da: also trace the student as da4ml adder graphs (no DSPs), check them on every held-out event "
                   "and estimate LUTs and cycles; the student's types then round half up (AP_RND).")
@click.option("--preset", type=click.Choice(["axol1tl", "axol1tl-v6"]),
              help="axol1tl: the CMS AXOL1TL v5 student (57-32-16-1, ap_fixed<14,6> inputs, ap_fixed<6,3> weights), "
                   "distributed arithmetic, and whether it fits 2 bunch crossings at 40 MHz on --part; axol1tl-v6: "
                   "the self-supervised score (decoded vs hidden representation), ap_fixed<5,1> weights, da4ml "
                   "only (--target cpu --rtl DIR).")
@click.option("--rtl", type=click.Path(file_okay=False),
              help="With --strategy da: write the network as Verilog (da4ml) into this new directory.")
@click.option("--cell", type=click.Choice(["gru", "lstm"]),
              help="Time-series teacher: the student's recurrent layer (default gru).")
@click.option("--fprs", help="Time-series teacher: thresholds at these fractions of the held-out background windows "
                             "(default 0.01,0.001).")
@click.option("--min-kept", type=click.FloatRange(0, 1),
              help="Warn where the student keeps less than this fraction of the teacher's TPR at a stored rate "
                   "(default 0.5).")
@JSON
@OVERWRITE
def distill(**options):
    """Distill a model into a small quantized student and emit trigger firmware (or a CPU export).

    A time-series teacher (lstm-ae, gru-ae, conv-ae, ...) gets a quantized GRU or LSTM student
    (--cell), checked on the windows of held-out labelled series (--background)."""
    from adkit.workflows.commands import distill_command
    from adkit.workflows.distill import options_from

    paths = {k: options.pop(k) for k in ("teacher", "output", "hls_dir", "background", "signals", "overwrite")}
    as_json = options.pop("as_json")
    distill_command(options_from(options, options.pop("config"), say), **paths, as_json=as_json,
                    progress=progress(), say=say, echo=click.echo)
