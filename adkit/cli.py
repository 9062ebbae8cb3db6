"""The ``adkit`` command line: thin commands over the library API.

User errors (:class:`adkit.errors.AdkitError`) become one line on stderr and exit code 2;
``--debug`` shows the traceback. Heavy libraries load inside the commands, so ``adkit --help``
stays fast.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from adkit.errors import AdkitError, ConfigError

DEFAULT_MODEL = "model.adkit"


class AdkitGroup(click.Group):
    """A click group that turns user errors into one line and exit code 2.

    Each command runs in its own input scope (:mod:`adkit.io.files`): every file it reads is
    noted, and no output may resolve to one of them.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            path = f"adkit {e.ctx.info_name}" if e.ctx is not None and e.ctx.parent is not None else "adkit"
            hint = f" (see '{path} --help')"
            click.echo(f"adkit: error: {' '.join(e.format_message().split())}{hint}", err=True)
            rv = e.exit_code
        except click.ClickException as e:
            click.echo(f"adkit: error: {' '.join(e.format_message().split())}", err=True)
            rv = e.exit_code
        except click.Abort:
            click.echo("adkit: aborted", err=True)
            rv = 1
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context):
        from adkit.io.files import input_scope

        try:
            with input_scope():
                return super().invoke(ctx)
        except AdkitError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"adkit: error: {' '.join(str(e).split())}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("adkit: interrupted; no partial output was left under a final name "
                       "(training resumes with --resume)", err=True)
            ctx.exit(130)


class InputPath(click.Path):
    """A path option naming an input: noted at parse time, so no output can be written over it."""

    def convert(self, value, param, ctx):
        from adkit.io.files import note_input

        value = super().convert(value, param, ctx)
        if value is not None and Path(value).exists():
            note_input(value)
        return value


def _say(msg: str) -> None:
    click.echo(msg, err=True)


def _csv_floats(value: str | None, option: str) -> list[float]:
    if not value:
        return []
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option}: expected comma-separated numbers, got {value!r}") from None


def _mapping(mapping: str | None, tree: str | None = None, dataset: str | None = None):
    from adkit.io import Mapping

    m = Mapping.load(mapping) if mapping else None
    if tree or dataset:
        from dataclasses import replace

        m = replace(m or Mapping(), tree=tree or (m.tree if m else None), dataset=dataset or (m.dataset if m else None))
    return m


def _progress_enabled() -> bool:
    return sys.stderr.isatty()


class Finite(click.FloatRange):
    """A float option in a range that also refuses NaN and inf (click's ranges let NaN through)."""

    def convert(self, value, param, ctx):
        import math

        rv = super().convert(value, param, ctx)
        if rv is not None and not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


SEED = click.IntRange(0, 2**32 - 1)
MAX_GENERATE_EVENTS = 50_000_000

mapping_option = click.option("--mapping", type=InputPath(dir_okay=False), help="YAML mapping of tree/branches/objects.")
tree_option = click.option("--tree", help="Tree name in ROOT files (default: Events or Delphes).")
dataset_option = click.option("--dataset", help="HDF5 dataset (default: Particles, or the only 2-D table).")
nan_option = click.option("--nan-policy", type=click.Choice(["reject", "drop", "zero"]), default="reject",
                          show_default=True, help="Events with NaN/inf inputs: fail, skip them, or set them to 0.")
step_option = click.option("--step", type=click.IntRange(min=1), default=100_000, show_default=True,
                           help="Events per chunk (bounds memory).")


@click.group(cls=AdkitGroup, context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ADKIT"})
@click.option("--debug", is_flag=True, help="Show tracebacks of user errors.")
@click.version_option(package_name="adkit")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """adkit: anomaly detection for collider and sensor data."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("files", nargs=-1, required=True, type=InputPath())
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@mapping_option
@tree_option
@dataset_option
def info(files, as_json, mapping, tree, dataset):
    """What each FILE is: format, trees, entries, which objects map onto the schema."""
    from adkit.io import inspect_file

    m = _mapping(mapping, tree, dataset)
    infos = [inspect_file(f, m) for f in files]
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for d in infos:
        where = d.get("tree") or d.get("dataset")
        console.print(f"[bold]{d['path']}[/bold]  {d['format']}, {d['size'] / 1e6:.2f} MB, "
                      f"{d['entries']} entries in {where!r}, layout {d['layout']}")
        if d.get("trees") and len(d["trees"]) > 1:
            console.print("  trees: " + ", ".join(f"{k} ({v})" for k, v in d["trees"].items()))
        if "objects" in d:
            t = Table("object", "max kept", "branches", "status")
            for obj, s in d["objects"].items():
                status = "[green]mapped[/green]" if not s["missing"] else f"[red]missing {', '.join(s['missing'])}[/red]"
                t.add_row(obj, str(s["max"]), ", ".join(s["branches"]), status)
            console.print(t)
        if "columns" in d:
            console.print(f"  table columns ({len(d['columns'])}): {', '.join(d['columns'][:12])}"
                          f"{' ...' if len(d['columns']) > 12 else ''}")


TRAIN_KEYS = {"model", "epochs", "seed", "features", "conditions", "params", "mapping", "data", "encoder"}
DISTILL_KEYS = {"hidden", "precision", "layer_precision", "sparsity", "epochs", "seed", "lr", "batch_size",
                "transform", "data", "rates", "part", "clock", "backend", "augment"}


def _load_config(path: str | None, valid: set[str] = TRAIN_KEYS) -> dict:
    if not path:
        return {}
    import yaml

    from adkit.io.files import read_text
    from adkit.validation import DISTILL_CONFIG, TRAIN_CONFIG, check_document

    p = Path(path)
    try:
        cfg = yaml.safe_load(read_text(p, "config")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
    bad = set(cfg) - valid if isinstance(cfg, dict) else {"(not a dictionary)"}
    if bad:
        raise ConfigError(f"{p}: unknown key(s) {sorted(bad)}; valid: {sorted(valid)}")
    check_document(cfg, TRAIN_CONFIG if valid is TRAIN_KEYS else DISTILL_CONFIG, str(p))
    return cfg


def _parse_params(items: tuple[str, ...]) -> dict:
    import yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = yaml.safe_load(v)
        except yaml.YAMLError:
            raise ConfigError(f"--param {item!r}: the value is not a number, a word or a [list]") from None
    return out


@main.command()
@click.option("--model", "model_name", help="Detector name (see `adkit models`). Default: ae.")
@click.option("--data", multiple=True, type=InputPath(), help="Training file (repeatable). Default: embedded background.")
@click.option("--reference", multiple=True, type=InputPath(),
              help="Two-sample detectors (nplm, nplm-nn): the reference sample that --data is learned against.")
@click.option("--config", type=InputPath(dir_okay=False), help="YAML run config (model, epochs, seed, features, params).")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs.")
@click.option("--seed", type=SEED, help="Random seed (default 0).")
@click.option("--features", help="Comma-separated feature names (default: the 57 raw inputs).")
@click.option("--conditions", "--condition", "conditions",
              help="Comma-separated condition features or table columns (conditional detectors).")
@click.option("--param", "params", multiple=True, help="Detector hyper-parameter NAME=VALUE (repeatable).")
@click.option("--kernel", type=click.Choice(["rbf", "quantum"]),
              help="Kernel of the svc detector: rbf, or the quantum fidelity kernel (same as --param kernel=...).")
@click.option("--preprocessing", type=click.Choice(["auto", "physics", "log-pooled", "standard"]), default="auto",
              show_default=True,
              help="Input scaling: physics = log pT and per-object-type scales, empty slots kept at 0; log-pooled "
                   "= the same with empty slots scaled like any value; standard = per-column z-scores. auto: "
                   "the detector's choice for collider events (log-pooled for ae, physics for the others), "
                   "standard for tables.")
@click.option("-o", "--output", type=click.Path(), help=f"Model file to write. Default: ./{DEFAULT_MODEL}.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model file.")
@click.option("--resume", is_flag=True, help="Continue an interrupted training from its checkpoint.")
@click.option("--encoder", type=InputPath(dir_okay=False),
              help="Train in the latent space of this trained AE model (stored inside the new model).")
@click.option("--window", type=click.IntRange(min=1), help="Time series: samples per window (default 128).")
@click.option("--stride", type=click.IntRange(min=1), help="Time series: samples between windows (default window/4).")
@click.option("--channels", help="Time series: comma-separated value columns (default: all but time/label/context).")
@click.option("--time-column", help="Time series: the time stamp column (default: time, timestamp, t, gps_time).")
@click.option("--rate", type=Finite(min=0, min_open=True), help="Time series without time stamps: Hz.")
@mapping_option
@nan_option
@step_option
def train(model_name, data, reference, config, epochs, seed, features, conditions, params, kernel, preprocessing,
          output, overwrite, resume, encoder, window, stride, channels, time_column, rate, mapping, nan_policy, step):
    """Train a detector and write the model file."""
    from adkit.detectors import registry
    from adkit.features import FeatureSet
    from adkit.io.writers import check_output
    from adkit.pipeline import train as train_api

    cfg = _load_config(config)
    if not (model_name or cfg.get("model")):
        _say("using the default --model ae")
    model_name = model_name or cfg.get("model") or "ae"
    det_cls = registry.get(model_name)  # fail on a bad name before any work
    if kernel:
        if "kernel" not in det_cls.param_names():
            raise ConfigError(f"--kernel applies to detectors with a kernel choice (svc), not {model_name!r}")
        params = (*params, f"kernel={kernel}")
    data = list(data) or list(cfg.get("data") or [])
    if _series_mode(data, det_cls, window or stride or channels or time_column or rate):
        _train_series(model_name, data, output, overwrite, resume, epochs, seed, conditions, params, cfg, window,
                      stride, channels, time_column, rate)
        return
    FeatureSet.parse(features or cfg.get("features"))
    conditions = conditions or cfg.get("conditions")
    if det_cls.uses_condition and not conditions and not encoder:
        from adkit.pipeline import DEFAULT_CONDITIONS

        _say(f"{model_name} is conditional: on collider events it conditions on {DEFAULT_CONDITIONS} "
             "by default (change with --conditions)")
    elif conditions and not det_cls.uses_condition:
        raise ConfigError(f"detector {model_name!r} does not use conditions; drop --conditions "
                          f"(conditional detectors: {', '.join(n for n in registry.available() if _conditional(n))})")
    from adkit.pipeline import check_samples

    check_samples(det_cls, data, reference)  # before any default is announced
    output = output or DEFAULT_MODEL
    if output == DEFAULT_MODEL:
        _say(f"writing the model to ./{DEFAULT_MODEL} (change with -o)")
    check_output(output, overwrite)
    if not data:
        _say("no --data: training on the embedded default background (adkit.datasets)")
    m = _mapping(mapping)
    if m is None and isinstance(cfg.get("mapping"), dict):
        from adkit.io import Mapping

        m = Mapping.from_dict(cfg["mapping"], f"{config}: mapping")
    elif m is None and isinstance(cfg.get("mapping"), str):
        m = _mapping(cfg["mapping"])
    hp = {**(cfg.get("params") or {}), **_parse_params(params)}
    enc = None
    if encoder or cfg.get("encoder"):
        from adkit.artifact import Model

        enc = Model.load(encoder or cfg["encoder"])
    elif getattr(det_cls, "latent", False):
        _say(f"{model_name} works in a latent space: without --encoder it reads the raw features "
             "(train an AE with --param latent_dim=8 and pass --encoder ae.adkit)")
    model = train_api(model_name, data, params=hp, features=features or cfg.get("features"), encoder=enc,
                      conditions=conditions, mapping=m,
                      seed=seed if seed is not None else int(cfg.get("seed", 0)),
                      epochs=epochs or cfg.get("epochs"), step=step, nan_policy=nan_policy,
                      checkpoint=f"{output}.ckpt", resume=resume, progress=_progress_enabled(),
                      preprocessing=preprocessing, reference=list(reference))
    model.save(output, overwrite)
    last = model.metrics.get("train", {})
    loss = f", final val loss {last['val_loss']:.4g}" if "val_loss" in last else ""
    _say(f"wrote {output}: {model_name} on {model.provenance['events']} events, "
         f"{model.n_features} features{loss}")


def _series_mode(data: list, det_cls, series_options) -> bool:
    """Time-series training: series files (CSV/NPY/NPZ, sensor-demo), series options, or a sequence model."""
    from adkit.series import is_series_input

    return bool(series_options) or any(is_series_input(d) for d in data) or getattr(det_cls, "sequence", False)


def _train_series(model_name, data, output, overwrite, resume, epochs, seed, conditions, params, cfg, window, stride,
                  channels, time_column, rate) -> None:
    from adkit.io.writers import check_output
    from adkit.series.pipeline import DEFAULT_WINDOW, train_series

    output = output or DEFAULT_MODEL
    if output == DEFAULT_MODEL:
        _say(f"writing the model to ./{DEFAULT_MODEL} (change with -o)")
    check_output(output, overwrite)
    if not data:
        data = ["sensor-demo"]
        _say("no --data: training on the embedded sensor demo (sensor-demo: two noisy channels with transients)")
    if not window:
        _say(f"time series: windows of {DEFAULT_WINDOW} samples (change with --window)")
    hp = {**(cfg.get("params") or {}), **_parse_params(params)}
    conds = [c.strip() for c in (conditions or cfg.get("conditions") or "").split(",") if c.strip()]
    model = train_series(model_name, data, window=window or DEFAULT_WINDOW, stride=stride,
                         channels=[c.strip() for c in channels.split(",")] if channels else None, conditions=conds,
                         time_column=time_column, rate=rate, params=hp,
                         seed=seed if seed is not None else int(cfg.get("seed", 0)), epochs=epochs or cfg.get("epochs"),
                         checkpoint=f"{output}.ckpt", resume=resume, progress=_progress_enabled(),
                         on_gaps=lambda s: _say(f"{s.path}: {len(s.gaps)} gap(s) in the time stamps (first at row "
                                                f"{s.gaps[0][0]}, {s.gaps[0][1]:g} s); no window spans a gap"))
    model.save(output, overwrite)
    spec = model.spec
    last = model.metrics.get("train", {})
    loss = f", final val loss {last['val_loss']:.4g}" if "val_loss" in last else ""
    _say(f"wrote {output}: {model_name} on {model.provenance['windows']} windows of {spec.window} samples x "
         f"{len(spec.channels)} channel(s) ({', '.join(spec.channels)}){loss}")


def _signals(signals: tuple[str, ...]) -> dict[str, list[str]]:
    sig: dict[str, list[str]] = {}
    for s in signals:
        if "=" not in s:
            raise ConfigError(f"--signal {s!r}: expected NAME=FILE")
        name, path = s.split("=", 1)
        from adkit.io.files import note_input

        sig.setdefault(name, []).append(str(note_input(path)))
    return sig


def _conditional(name: str) -> bool:
    from adkit.detectors import registry

    try:
        return registry.get(name).uses_condition
    except AdkitError:
        return False


executor_option = click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                               help="Where tasks run: this machine (a process pool with --workers > 1) or dask.")
workers_option = click.option("--workers", type=click.IntRange(1, 1024), default=1, show_default=True,
                              help="Parallel worker processes (local pool or dask LocalCluster).")
scheduler_option = click.option("--scheduler", help="Address of an existing dask scheduler (tcp://host:8786).")


def _executor(executor: str, workers: int, scheduler: str | None):
    from adkit.executors import Executor

    if scheduler and executor != "dask":
        executor = "dask"
    return Executor(executor, workers, scheduler)


@main.command()
@click.argument("files", nargs=-1, required=True, type=InputPath())
@click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, type=InputPath())
@click.option("-o", "--output", type=click.Path(),
              help="One input: score file (.h5 or .parquet), default ./<input>.scores.h5. Several inputs: a "
                   "directory (default ./scores) with one <input>.scores.h5 per input and manifest.json; a "
                   ".h5/.parquet name instead collects them all into one table (local executor).")
@click.option("--friend", is_flag=True, help="Also write a ROOT friend tree per ROOT input.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@executor_option
@workers_option
@scheduler_option
@click.option("--task-events", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Entries per task when scoring into a directory (the unit of parallel work and of resume).")
@click.option("--format", "fmt", type=click.Choice(["h5", "parquet"]), default="h5", show_default=True,
              help="Score file format in directory mode.")
@mapping_option
@nan_option
@step_option
def score(files, model_path, output, friend, overwrite, executor, workers, scheduler, task_events, fmt, mapping,
          nan_policy, step):
    """Score every event of FILES: source, entry, score, a pass bit per stored threshold."""
    from adkit.artifact import Model
    from adkit.io.writers import SCORE_FORMATS
    from adkit.scoring import score_files

    if model_path == DEFAULT_MODEL:
        _say(f"using the model ./{DEFAULT_MODEL} (change with --model)")
    model = Model.load(model_path)
    if model.spec.kind == "series":
        _score_series(model, files, output, overwrite)
        return
    parallel = executor == "dask" or scheduler or workers > 1
    to_file = output is not None and Path(output).suffix.lower() in SCORE_FORMATS
    directory = (len(files) > 1 and not to_file) or (output is not None and not to_file and
                                                     (Path(output).is_dir() or output.endswith("/")))
    if parallel and not directory and len(files) > 1:
        raise ConfigError("with several inputs and --executor dask/--workers, -o must name a directory "
                          "(each input gets its own score file there)")
    if directory or parallel:
        if friend:
            raise ConfigError("--friend works with the single-table output (one input, or -o FILE.h5)")
        _score_tasks(model_path, files, output, directory, fmt, overwrite, executor, workers, scheduler, task_events,
                     mapping, nan_policy, step)
        return
    if output is None:
        output = f"{Path(files[0]).name.rsplit('.', 1)[0]}.scores.h5"
        _say(f"writing scores to ./{output} (change with -o)")
    summary = score_files(model, files, output, mapping=_mapping(mapping), step=step, nan_policy=nan_policy,
                          overwrite=overwrite, friend=friend, progress=_progress_enabled())
    thr = ", ".join(t.name for t in model.thresholds) or "none stored (set them with `adkit evaluate --store-thresholds`)"
    _say(f"wrote {summary['output']}: {summary['events']} events from {summary['files']} file(s); thresholds: {thr}")
    for f in summary["friends"]:
        _say(f"wrote friend tree {f} (tree 'adkit')")


def _score_series(model, files, output, overwrite) -> None:
    """A score per window and per input row for each series file."""
    from adkit.io.files import check_output
    from adkit.scaleout import output_names
    from adkit.series.pipeline import score_series, write_series_scores

    if len(files) > 1:
        outdir = Path(output or "scores")
        if outdir.exists() and not outdir.is_dir():
            raise ConfigError(f"{outdir}: exists and is not a directory; -o names a directory for several inputs")
        outputs = [outdir / n for n in output_names(files)]
    else:
        outputs = [Path(output or f"{Path(files[0]).name.rsplit('.', 1)[0]}.scores.h5")]
        if output is None:
            _say(f"writing scores to ./{outputs[0]} (change with -o)")
    for out in outputs:  # every output checked before any is written
        out.parent.mkdir(parents=True, exist_ok=True)
        check_output(out, overwrite)
    for f, out in zip(files, outputs):
        r = score_series(model, f)
        write_series_scores(r, out, f, overwrite)
        _say(f"wrote {out}: {len(r['score'])} samples (score per row, max over covering windows), "
             f"{len(r['window_score'])} windows")


def _score_tasks(model_path, files, output, directory, fmt, overwrite, executor, workers, scheduler, task_events,
                 mapping, nan_policy, step) -> None:
    """Directory mode (and any parallel run): one score file per input, a manifest, resume."""
    from adkit.scaleout import output_names, score_many

    if directory:
        outdir = Path(output or "scores")
        if output is None:
            _say("several inputs: writing one score file per input into ./scores/ (change with -o)")
        if outdir.exists() and not outdir.is_dir():
            raise ConfigError(f"{outdir}: exists and is not a directory; -o names a directory for several inputs")
        outdir.mkdir(parents=True, exist_ok=True)
        outputs = [outdir / n for n in output_names(files, "." + fmt)]
        manifest = outdir / "manifest.json"
    else:
        out = Path(output or f"{Path(files[0]).name.rsplit('.', 1)[0]}.scores.h5")
        outputs, manifest = [out], out.with_name(f"{out.name}.manifest.json")
    m = _mapping(mapping)
    bar = _TaskBar(_progress_enabled(), "score tasks")
    with _executor(executor, workers, scheduler) as ex, bar:
        if ex.dashboard:
            _say(f"dask dashboard: {ex.dashboard}")
        summary = score_many(model_path, files, outputs, manifest, executor=ex, mapping=m.to_dict() if m else None,
                             task_events=task_events, step=step, nan_policy=nan_policy, overwrite=overwrite,
                             on_task=bar.update)
    counts = {k: sum(f["status"] == k for f in summary["files"]) for k in ("done", "skipped", "failed")}
    _say(f"scored {counts['done']} file(s), skipped {counts['skipped']} already complete, {counts['failed']} failed: "
         f"{summary['events']} events in {summary['tasks']} task(s), {summary['seconds']:.1f} s; manifest "
         f"{summary['manifest']}")
    for f in summary["files"]:
        if f["status"] == "failed":
            reason = f["reason"] if f["reason"].startswith(f["input"]) else f"{f['input']}: {f['reason']}"
            _say(f"failed: {reason}")
    if counts["failed"]:
        raise AdkitError(f"{counts['failed']} of {len(files)} input(s) failed (listed above and in "
                         f"{summary['manifest']}); the others were scored")


@main.command()
@click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, type=InputPath())
@click.option("--background", multiple=True, type=InputPath(), help="Background file (repeatable). Default: embedded.")
@click.option("--signal", "signals", multiple=True, help="NAME=FILE (repeatable). Default: the four embedded signals.")
@click.option("-o", "--output", "outdir", default="report", show_default=True, type=click.Path(file_okay=False),
              help="Directory for metrics.json, report.md and the plots.")
@click.option("--rates", default="1,10,100", show_default=True, help="Trigger rates in kHz.")
@click.option("--bunch-rate", default=40.0, show_default=True, type=Finite(min=0, min_open=True),
              help="Input (bunch-crossing) rate in MHz.")
@click.option("--store-thresholds", help="Rates in kHz whose thresholds are stored into the model (e.g. 1,10).")
@click.option("--overwrite", is_flag=True, help="Replace existing report files.")
@click.option("--series", "series_files", multiple=True,
              help="Time-series models: labelled series (label column is_anomaly/label). Default for a model trained "
                   "on sensor-demo: a new demo series.")
@click.option("--intervals", type=InputPath(dir_okay=False),
              help="Time-series models: CSV of labelled anomalous intervals (columns start, stop; seconds), "
                   "instead of a label column.")
@click.option("--false-alarms", default="1,10,100", show_default=True,
              help="Time-series models: false alarms per hour at which the efficiency is reported.")
@mapping_option
@nan_option
@step_option
def evaluate(model_path, background, signals, outdir, rates, bunch_rate, store_thresholds, overwrite, series_files,
             intervals, false_alarms, mapping, nan_policy, step):
    """AUC and TPR at FPR 1e-5/1e-4/1e-3 and at trigger rates, per signal; plots and a report."""
    from rich.console import Console
    from rich.table import Table

    from adkit.artifact import Model
    from adkit.pipeline import evaluate as evaluate_api
    from adkit.pipeline import thresholds_from
    from adkit.report import footnote, table_rows, write_report

    model = Model.load(model_path)
    if model.spec.kind == "series":
        _evaluate_series(model, model_path, series_files, outdir, false_alarms, store_thresholds, overwrite, intervals)
        return
    sig = _signals(signals)
    if sig and not background:
        raise ConfigError("--signal needs --background files to set the thresholds on")
    if not background:
        _say("no --background: using the embedded test background and the four benchmark signals")
    from adkit.io.files import check_output, check_outputs
    from adkit.report import REPORT_FILES
    from adkit.validation import check_rates

    rate_list = check_rates(_csv_floats(rates, "--rates"), "--rates", bunch_rate)
    store = check_rates(_csv_floats(store_thresholds, "--store-thresholds"), "--store-thresholds", bunch_rate)
    check_outputs(outdir, REPORT_FILES, overwrite)
    if store:
        check_output(model_path, updates=model.source)
    result = evaluate_api(model, list(background), sig, rates_khz=rate_list, bunch_rate_mhz=bunch_rate,
                          mapping=_mapping(mapping), step=step, nan_policy=nan_policy)
    header, rows = table_rows(result)
    table = Table(*header, title=f"{model.detector.name} — {Path(model_path).name}")
    for r in rows:
        table.add_row(*r)
    console = Console(width=max(120, Console().width))
    console.print(table)
    console.print(footnote(result))
    written = write_report(result, outdir, f"adkit evaluation of {Path(model_path).name}", overwrite)
    _say(f"wrote {', '.join(str(p) for p in written)}")
    if store:
        model.thresholds = thresholds_from(result, store)
        model.metrics["evaluation"] = {k: v for k, v in result.items() if k != "scores"}
        model.update()
        _say(f"stored thresholds in {model_path}: " + ", ".join(f"{t.name} > {t.value:.6g}" for t in model.thresholds))


def _evaluate_series(model, model_path, series_files, outdir, false_alarms, store_thresholds, overwrite,
                     intervals=None) -> None:
    from adkit.artifact import Threshold
    from adkit.io.writers import atomic_output
    from adkit.series.pipeline import evaluate_series, series_plots

    files = list(series_files)
    if not files:
        demo = model.provenance.get("embedded", {}).get("mix")
        if not demo:
            raise ConfigError("give labelled series with --series FILE (a label column is_anomaly/label)")
        files = [f"{demo.split(',')[0]}@2"]
        _say(f"no --series: evaluating on a new {demo.split(',')[0]} series (seed 2)")
    from adkit.io.files import check_output, check_outputs
    from adkit.validation import check_positive

    far = check_positive(_csv_floats(false_alarms, "--false-alarms"), "--false-alarms")
    store = check_positive(_csv_floats(store_thresholds, "--store-thresholds"), "--store-thresholds")
    check_outputs(outdir, ["metrics.json", "report.md", "series.png", "efficiency.png"], overwrite)
    if store:
        check_output(model_path, updates=model.source)
    result = evaluate_series(model, files, far_per_hour=far, interval_file=intervals)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    images = series_plots(result, out, overwrite)
    summary = {k: v for k, v in result.items() if k != "_results"}
    lines = [f"# adkit time-series evaluation of {Path(model_path).name}", "",
             f"{result['n_samples']} samples, {result['hours']:.3g} h, {result['n_anomalies']} labelled anomalous "
             f"intervals; per-sample AUC {result['sample_auc'] if result['sample_auc'] is None else round(result['sample_auc'], 3)}",
             "", "| false alarms per hour (max) | efficiency | threshold | false alarms per hour |", "|---|---|---|---|"]
    for k, wp in result["working_points"].items():
        lines.append(f"| {k} | " + ("no threshold reaches it |  |  |" if wp is None else
                                     f"{wp['efficiency']:.3f} | {wp['threshold']:.4g} | {wp['false_alarms_per_hour']:.3g} |"))
    lines += [""] + [f"![{Path(i).stem}]({i})" for i in images]
    report = "\n".join(lines) + "\n"
    with atomic_output(out / "metrics.json", overwrite) as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    with atomic_output(out / "report.md", overwrite) as tmp:
        tmp.write_text(report)
    click.echo(report.split("\n![")[0])
    _say(f"wrote {out}/metrics.json, {out}/report.md, " + ", ".join(f"{out}/{i}" for i in images))
    if store:
        model.thresholds = [Threshold(f"{r:g}perh", wp["threshold"], 0.0, 0.0)
                            for r in store
                            if (wp := result["working_points"].get(f"{r:g}"))]
        model.update()
        _say(f"stored thresholds in {model_path}: " + ", ".join(f"{t.name} > {t.value:.6g}" for t in model.thresholds))


@main.command()
@click.option("-o", "--output", "outdir", default="data", show_default=True, type=click.Path(file_okay=False))
@click.option("--events", type=click.IntRange(1, MAX_GENERATE_EVENTS), default=200_000, show_default=True, help="Background events.")
@click.option("--signal-events", type=click.IntRange(1, MAX_GENERATE_EVENTS), default=20_000, show_default=True, help="Events per signal.")
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--format", "formats", default="h5,root", show_default=True, help="Comma-separated: h5, root.")
@click.option("--engine", type=click.Choice(["builtin", "pythia"]), default="builtin", show_default=True)
@click.option("--overwrite", is_flag=True)
def generate(outdir, events, signal_events, seed, formats, engine, overwrite):
    """Write the embedded default background and the four signals (ADC2021 .h5, NanoAOD-like .root)."""
    from adkit.datasets import write_dataset

    if engine == "pythia":
        import importlib.util

        from adkit.errors import missing_extra

        if importlib.util.find_spec("pythia8mc") is None:
            raise missing_extra("pythia8mc", "pythia")
        raise AdkitError("--engine pythia is not implemented in this version; use the builtin engine")
    fmts = tuple(f.strip() for f in formats.split(","))
    bad = [f for f in fmts if f not in ("h5", "root")]
    if bad:
        raise ConfigError(f"--format {bad[0]!r}: valid formats are h5, root")
    written = write_dataset(outdir, events, signal_events, seed, fmts, overwrite)
    _say(f"wrote {len(written)} files to {outdir}/: " + ", ".join(p.name for p in written))


@main.command()
def models():
    """List the registered detectors."""
    from adkit.detectors import registry

    for name in registry.available():
        cls = registry.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        click.echo(f"{name:10s} {doc}")


@main.command()
def features():
    """List the feature names valid for --features and --conditions."""
    from adkit.features import DERIVED, ObjectSchema

    for name, (_, doc) in DERIVED.items():
        click.echo(f"{name:20s} {doc}")
    raw = ObjectSchema().raw_names()
    click.echo(f"{'raw inputs':20s} {', '.join(raw[:6])}, ..., {raw[-1]} ({len(raw)} in all)")


@main.command()
@click.argument("model_path", default=DEFAULT_MODEL, type=InputPath())
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
def show(model_path, as_json):
    """Summary of a model file's manifest (validated exactly as `score` validates it)."""
    from adkit.artifact import Model

    model = Model.load(model_path)  # the same checks as every command that uses the model
    manifest = model.manifest()
    if as_json:
        click.echo(json.dumps(manifest, indent=2, default=str))
        return
    click.echo("\n".join(_show_lines(model_path, model, manifest)))


def _show_lines(model_path, model, manifest: dict) -> list[str]:
    import numpy as np

    prov = manifest.get("provenance") or {}
    params = manifest["detector"]["config"].get("params", {})
    cols = model.spec.columns
    tensors = model.tensors()
    n_values = sum(int(np.prod(v.shape)) for v in tensors.values())
    lines = [
        f"model file   {model_path} (format {manifest['format_version']}, adkit {manifest['adkit_version']})",
        f"detector     {model.detector.name}: " + ", ".join(f"{k}={v}" for k, v in params.items()),
        f"input        {model.spec.kind}, {len(cols)} features" + (f" ({', '.join(cols[:4])}, ...)" if cols else ""),
        f"tensors      {len(tensors)} arrays, {n_values} values",
        f"trained on   {prov.get('events', prov.get('windows', '?'))} {'windows' if 'windows' in prov else 'events'}, "
        f"seed {prov.get('seed', '?')}",
    ]
    if model.encoder is not None:
        lines.append(f"encoder      {model.encoder.detector.name} ({model.encoder.n_features} inputs)")
    for rec in prov.get("inputs") or []:
        if isinstance(rec, dict) and {"path", "size", "sha256"} <= set(rec):
            lines.append(f"  input      {rec['path']} ({rec['size']} bytes, sha256 {str(rec['sha256'])[:16]}…)")
    emb = prov.get("embedded")
    if isinstance(emb, dict):
        lines.append("  embedded   " + ", ".join(f"{k} {v}" for k, v in emb.items()))
    lines.append("thresholds   " + (", ".join(f"{t.name}: score > {t.value:.6g} (FPR {t.fpr:.2g})"
                                             for t in model.thresholds) or "none"))
    ev = (manifest.get("metrics") or {}).get("evaluation")
    if isinstance(ev, dict) and isinstance(ev.get("signals"), dict):
        lines.append("evaluation   " + ", ".join(f"{k} AUC {v['auc']:.3f}" for k, v in ev["signals"].items()
                                                 if isinstance(v, dict) and isinstance(v.get("auc"), (int, float))))
    return lines


@main.command()
@click.option("--teacher", default=DEFAULT_MODEL, show_default=True, type=InputPath(), help="Trained model to distill.")
@click.option("--target", type=click.Choice(["fpga", "cpu"]), default="fpga", show_default=True,
              help="fpga: HLS project + C-simulation check; cpu: TorchScript export + check.")
@click.option("-o", "--output", default="student.adkit", show_default=True, type=click.Path(), help="Student model file.")
@click.option("--hls-dir", default="hls", show_default=True, type=click.Path(file_okay=False),
              help="HLS project directory (--target fpga), with report.md and report.json.")
@click.option("--config", type=InputPath(dir_okay=False),
              help="YAML: hidden, precision, layer_precision (per-layer overrides), sparsity, epochs, ...")
@click.option("--data", multiple=True, type=InputPath(), help="Background to distill on (repeatable). Default: embedded.")
@click.option("--background", multiple=True, type=InputPath(), help="Held-out background. Default: embedded test set.")
@click.option("--signal", "signals", multiple=True, help="Held-out NAME=FILE (repeatable).")
@click.option("--hidden", help="Hidden layer sizes, e.g. 32,16 (default).")
@click.option("--precision", help="e.g. input=ap_fixed<14,6>,weight=ap_fixed<8,2>,activation=ap_fixed<14,6>")
@click.option("--sparsity", type=Finite(0, 1, max_open=True), help="Fraction of hidden weights pruned.")
@click.option("--epochs", type=click.IntRange(min=1), help="Student training epochs (default 30).")
@click.option("--augment", type=Finite(min=0), help="Artificial events per background event, labelled "
              "by the teacher (default 0: background only).")
@click.option("--seed", type=SEED, help="Random seed (default 0).")
@click.option("--rates", default="1,10,100", show_default=True, help="Trigger rates in kHz: thresholds stored.")
@click.option("--backend", type=click.Choice(["Vitis", "Vivado"]), default="Vitis", show_default=True)
@click.option("--part", help="FPGA part (default xcvu13p-flga2577-2-e).")
@click.option("--clock", type=Finite(min=0, min_open=True), help="Clock period in ns (default 6.25).")
@click.option("--synth", is_flag=True, help="Run HLS synthesis (needs vitis_hls/vivado_hls on PATH).")
@click.option("--format", "cpu_format", type=click.Choice(["torchscript"]), default="torchscript", show_default=True,
              help="Export format for --target cpu.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
def distill(teacher, target, output, hls_dir, config, data, background, signals, hidden, precision, sparsity, epochs,
            augment, seed, rates, backend, part, clock, synth, cpu_format, overwrite):
    """Distill a model into a small quantized student and emit trigger firmware (or a CPU export)."""
    from adkit.artifact import Model
    from adkit.distill import distill as distill_api
    from adkit.io.writers import check_output
    from adkit.validation import check_rates

    cfg = _load_config(config, DISTILL_KEYS)
    rate_list = check_rates(_csv_floats(rates, "--rates") or _csv_floats(str(cfg.get("rates", "")), "rates"),
                            "--rates")
    from adkit.validation import check_params

    try:
        hidden_sizes = [int(h) for h in (hidden.split(",") if hidden else cfg.get("hidden", [32, 16]))]
    except (ValueError, TypeError):
        raise ConfigError(f"--hidden {hidden!r}: expected comma-separated layer sizes, e.g. 32,16") from None
    check_params({"hidden": hidden_sizes}, "--hidden")
    if teacher == DEFAULT_MODEL:
        _say(f"using ./{DEFAULT_MODEL} as the teacher (change with --teacher)")
    teacher_model = Model.load(teacher)
    if teacher_model.spec.kind == "series":
        raise ConfigError(f"{teacher}: distilling a time-series model ({teacher_model.detector.name}) is not "
                          "supported; distill a model of collider events or of a table")
    check_output(output, overwrite)
    hls_path = Path(hls_dir)
    export_path = Path(output).with_suffix(".pt")
    if target == "fpga":
        from adkit.io.files import check_replace_dir

        check_replace_dir(hls_path, overwrite, "--hls-dir")
        from adkit.firmware import _hls4ml, compiler

        _hls4ml()
        compiler()  # fail before training, not after
    else:
        check_output(export_path, overwrite)
    sig = _signals(signals)
    if sig and not background:
        raise ConfigError("--signal needs --background files to set the thresholds on")
    data = list(data) or list(cfg.get("data") or [])
    if not data:
        _say("no --data: distilling on the embedded background (seed 2, independent of the teacher's)")
    student, info = distill_api(teacher_model, data, hidden=hidden_sizes, precision=precision or cfg.get("precision"),
                                layer_precision=cfg.get("layer_precision"),
                                sparsity=sparsity if sparsity is not None else cfg.get("sparsity", 0.0),
                                epochs=epochs or cfg.get("epochs", 30), lr=cfg.get("lr", 3e-3),
                                batch_size=cfg.get("batch_size", 1024),
                                seed=seed if seed is not None else cfg.get("seed", 0),
                                transform=cfg.get("transform", "auto"),
                                augment=augment if augment is not None else cfg.get("augment", 0.0),
                                progress=_progress_enabled())
    _say(f"student {'-'.join(map(str, [student.n_features, *hidden_sizes, 1]))}: "
         f"{info['cost']['multiplications']} multiplications, train correlation with the teacher "
         f"{info['train_correlation']:.3f}")
    if target == "fpga":
        _distill_fpga(teacher_model, student, hls_path, overwrite, rate_list, list(background), sig, backend,
                      part or cfg.get("part"), clock or cfg.get("clock"), synth)
    else:
        from adkit.firmware.report import verify

        report = verify(teacher_model, student, None, rates_khz=rate_list, background=list(background), signals=sig,
                        firmware=False)
        from adkit.export import export_torchscript

        check = export_torchscript(student, export_path, overwrite=overwrite)
        _say(f"wrote {export_path} ({cpu_format}): reproduces adkit's scores to {check['max_abs_difference']:.2g} "
             f"on {check['events']} events")
        student.metrics["report"] = {k: report[k] for k in ("correlation", "thresholds", "cost")}
    student.save(output, overwrite)
    _say(f"wrote {output} with thresholds at {', '.join(t.name for t in student.thresholds)}")


def _distill_fpga(teacher, student, hls_path: Path, overwrite: bool, rates, background, signals, backend, part, clock,
                  synth) -> None:
    import shutil

    from adkit.firmware.report import markdown, verify, write_report
    from adkit.io.files import partial_path, remove_stale_partials, replace_dir, write_error

    remove_stale_partials(hls_path)
    tmp = partial_path(hls_path)
    try:
        report = verify(teacher, student, tmp, rates_khz=rates, background=background, signals=signals,
                        backend=backend, part=part, clock_ns=clock, synth=synth)
        report["firmware"]["project"] = str(hls_path)
        write_report(tmp, report)
        replace_dir(tmp, hls_path, overwrite, "--hls-dir")
    except OSError as e:
        err = write_error(e, hls_path)
        if err is None:
            raise
        raise err from None
    finally:
        if tmp.is_dir() and not tmp.is_symlink():  # our own temporary build directory
            shutil.rmtree(tmp, ignore_errors=True)
    student.metrics["report"] = {k: report[k] for k in ("correlation", "thresholds", "cost")}
    student.metrics["report"]["decision_mismatch"] = report["firmware"]["decision_mismatch"]
    click.echo(markdown(report))
    fw = report["firmware"]
    if not fw["synthesis"]["ran"]:
        _say(f"synthesis skipped: {fw['synthesis']['why']}")
    _say(f"wrote the HLS project and report.md/report.json to {hls_path}/")


@main.command()
@click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, type=InputPath())
@click.option("-o", "--output", type=click.Path(), help="Output file. Default: the model name with .pt.")
@click.option("--format", "fmt", type=click.Choice(["torchscript"]), default="torchscript", show_default=True)
@click.option("--overwrite", is_flag=True)
def export(model_path, output, fmt, overwrite):
    """Export a torch model with its preprocessing for software triggers, checked against adkit."""
    from adkit.artifact import Model
    from adkit.export import export_torchscript

    model = Model.load(model_path)
    output = output or str(Path(model_path).with_suffix(".pt"))
    check = export_torchscript(model, output, overwrite=overwrite)
    _say(f"wrote {output} ({fmt}): reproduces adkit's scores to {check['max_abs_difference']:.2g} "
         f"on {check['events']} events; load with torch.jit.load")



@main.command()
@click.argument("files", nargs=-1, required=True, type=InputPath())
@click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, type=InputPath(),
              help="A trained AE model whose encoder to apply.")
@click.option("-o", "--output", default="latent.h5", show_default=True, type=click.Path(dir_okay=False),
              help="HDF5 file: dataset 'latent' (events x latent_dim), plus 'source' and 'entry'.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@mapping_option
@nan_option
@step_option
def encode(files, model_path, output, overwrite, mapping, nan_policy, step):
    """Write the latent space of FILES under an autoencoder's encoder."""
    from adkit.artifact import Model
    from adkit.encoders import encode_files

    model = Model.load(model_path)
    summary = encode_files(model, files, output, mapping=_mapping(mapping), step=step, nan_policy=nan_policy,
                           overwrite=overwrite)
    _say(f"wrote {output}: {summary['events']} events x {summary['latent_dim']} latent dimensions "
         f"({', '.join(summary['columns'])}) from {len(files)} file(s)")


@main.command()
@click.option("--reference", multiple=True, required=True, type=InputPath(), help="Reference (SM) file, repeatable.")
@click.option("--data", multiple=True, required=True, type=InputPath(), help="Data file to test, repeatable.")
@click.option("-o", "--output", "outdir", default="nplm", show_default=True, type=click.Path(file_okay=False),
              help="Directory for nplm.json, the plots and the toys (resumable).")
@click.option("--features", help="Comma-separated features (collider default: met,ht,lepton_pt_sum,n_leptons,n_jets; "
                                 "tables: all columns).")
@click.option("--model", "model", type=click.Choice(["kernel", "nn"]), default="kernel", show_default=True,
              help="kernel: Nyström kernel logistic regression (fast); nn: the original NPLM network.")
@click.option("--n-expected", type=Finite(min=0, min_open=True),
              help="N(0), the expected number of data events under the reference hypothesis (default: observed).")
@click.option("--toys", type=click.IntRange(min=0), default=100, show_default=True,
              help="Null toys for the calibration (0: no p-value).")
@executor_option
@workers_option
@scheduler_option
@click.option("--param", "params", multiple=True, help="Model parameter NAME=VALUE (sigma, n_centres, lam, epochs, ...).")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--plot-features", help="Features for the f(x) projection plots (default: the first four).")
@click.option("--save-model", type=click.Path(dir_okay=False), help="Also write the learned f(x) as an adkit model.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@mapping_option
@nan_option
@step_option
def nplm(reference, data, outdir, features, model, n_expected, toys, executor, workers, scheduler, params, seed,
         plot_features, save_model, as_json, overwrite, mapping, nan_policy, step):
    """NPLM goodness-of-fit test: is DATA compatible with REFERENCE? Prints t, p-value and Z."""
    from adkit.io.writers import check_output
    from adkit.pipeline import nplm as nplm_api

    if save_model:
        check_output(save_model, overwrite)
    if not features:
        _say("no --features: collider files use met,ht,lepton_pt_sum,n_leptons,n_jets; tables use every column")
    bar = _TaskBar(_progress_enabled(), "toys")
    with _executor(executor, workers, scheduler) as ex, bar:
        if ex.dashboard:
            _say(f"dask dashboard: {ex.dashboard}")
        result, f_model = nplm_api(list(reference), list(data), outdir, features=features, model=model,
                                   params=_parse_params(params), n_expected=n_expected, n_toys=toys, seed=seed,
                                   executor=ex, plot_features=plot_features, mapping=_mapping(mapping), step=step,
                                   nan_policy=nan_policy, overwrite=overwrite, progress=_progress_enabled(),
                                   on_toy=bar.update)
    if save_model:
        f_model.save(save_model, overwrite)
        _say(f"wrote {save_model}: the learned f(x) (score = log n(x|data)/n(x|reference))")
    keys = ("t", "p_value", "Z", "dof", "n_reference", "n_data", "n_expected", "p_value_empirical", "Z_empirical")
    if as_json:
        summary = {k: result.get(k) for k in keys}
        summary.update(ks_p_value=(result["null"] or {}).get("ks_p_value"), n_toys=toys, model=model,
                       features=result["features"], output=str(outdir))
        click.echo(json.dumps(summary))
        return
    line = f"t = {result['t']:.3f}"
    if result.get("p_value") is not None:
        null = result["null"]
        line += (f", p = {result['p_value']:.3g}, Z = {result['Z']:.2f} (chi-square fit: dof {result['dof']:.2f}, "
                 f"KS p {null['ks_p_value']:.2f}, {null['n_toys']} toys); empirical p = "
                 f"{result['p_value_empirical']:.3g} ({result['toys_above']} toys above t)")
    else:
        line += " (no toys: run with --toys N for a p-value)"
    click.echo(line)
    click.echo(f"reference {result['n_reference']} events, data {result['n_data']} events, N(0) = "
               f"{result['n_expected']:g}; features {', '.join(result['features'])}; wrote {outdir}/nplm.json")


class _TaskBar:
    """A rich progress bar over tasks (toys, files) on stderr, when stderr is a terminal."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled, self.label, self.pb, self.task = enabled, label, None, None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.pb = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                               console=Console(stderr=True))
            self.pb.__enter__()
        return self

    def update(self, done: int, total: int) -> None:
        if self.pb is None:
            return
        if self.task is None:
            self.task = self.pb.add_task(self.label, total=total)
        self.pb.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.pb is not None:
            self.pb.__exit__(*exc)
        return False

if __name__ == "__main__":
    main()
