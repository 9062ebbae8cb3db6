"""What files and models are: ``adkit info``, ``show``, ``models``, ``features``, and ``generate``."""
from __future__ import annotations

import json
from pathlib import Path

from adkit.artifact import Model
from adkit.errors import ConfigError


def info_command(*, files, as_json, mapping, tree, dataset, echo) -> list[dict]:
    """Format, trees, entries and which schema objects each file maps (a table, or JSON)."""
    from adkit.io import inspect_file
    from adkit.workflows.config import mapping_from

    m = mapping_from(mapping, tree, dataset)
    infos = [inspect_file(f, m) for f in files]
    if as_json:
        echo(json.dumps(infos, indent=2))
        return infos
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
            t = Table("object", "max kept", "branches", "unit", "status")
            for obj, s in d["objects"].items():
                status = ("[yellow]rebuilt: " + s["rebuilt"] + "[/yellow]" if s.get("rebuilt") else
                          "[green]mapped[/green]" if not s["missing"] else f"[red]missing {', '.join(s['missing'])}[/red]")
                unit = s.get("unit") or ""
                t.add_row(obj, str(s["max"]), ", ".join(s["branches"]),
                          unit + (" → GeV" if unit and unit != "GeV" else ""), status)
            console.print(t)
        if "columns" in d:
            console.print(f"  table columns ({len(d['columns'])}): {', '.join(d['columns'][:12])}"
                          f"{' ...' if len(d['columns']) > 12 else ''}")
    return infos


def show_lines(model_path, model: Model, manifest: dict) -> list[str]:
    """A human summary of a model file's manifest."""
    import numpy as np

    prov = manifest.get("provenance") or {}
    params = manifest["detector"]["config"].get("params", {})
    cols = model.spec.columns
    tensors = model.tensors()
    n_values = sum(int(np.prod(v.shape)) for v in tensors.values())
    mem = model.memory_bound()
    lines = [
        f"model file   {model_path} (format {manifest['format_version']}, adkit {manifest['adkit_version']})",
        f"detector     {model.detector.name}: " + ", ".join(f"{k}={v}" for k, v in params.items()),
        f"input        {model.spec.kind}, {len(cols)} features" + (f" ({', '.join(cols[:4])}, ...)" if cols else ""),
        f"tensors      {len(tensors)} arrays, {n_values} values",
        "memory       at most {:.0f} MiB to load and score (a step of {} events: {:.0f} MiB of activations)".format(
            mem["bound_bytes"] / 2**20, mem["step_events"] or "all", mem["step_bytes"] / 2**20),
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


def show_command(*, model_path, as_json, echo) -> dict:
    """The manifest of a model file, validated exactly as ``score`` validates it."""
    model = Model.load(model_path)
    manifest = model.manifest()
    if as_json:
        echo(json.dumps({**manifest, "memory": model.memory_bound()}, indent=2, default=str))
    else:
        echo("\n".join(show_lines(model_path, model, manifest)))
    return manifest


def detector_lines() -> list[str]:
    """One line per registered detector: name and the first line of its docstring."""
    from adkit.detectors import registry

    first = {n: (registry.get(n).__doc__ or "").strip().splitlines()[0] for n in registry.available()}
    width = max(map(len, first), default=0)
    return [f"{n:{width}s} {doc.replace('``', '')}" for n, doc in first.items()]  # plain text, not reST


def detector_table() -> list[dict]:
    """The registered detectors for scripts: name, summary, what they read and score."""
    from adkit.detectors import registry

    out = []
    for n in registry.available():
        cls = registry.get(n)
        tags = getattr(cls, "tags", None)
        out.append({"name": n, "summary": (cls.__doc__ or "").strip().splitlines()[0].replace("``", ""),
                    "two_sample": bool(getattr(cls, "two_sample", False)),
                    "conditional": bool(getattr(cls, "uses_condition", False)),
                    "preprocessing": getattr(cls, "preprocessing", None),
                    "tags": sorted(k for k, v in vars(tags).items() if v is True) if tags is not None and
                    hasattr(tags, "__dict__") else []})
    return out


def feature_table() -> dict:
    """The valid feature names for scripts: derived ones with their description, and the raw inputs."""
    from adkit.io.schema import DERIVED, ObjectSchema

    return {"derived": {name: doc for name, (_, doc) in DERIVED.items()}, "raw": ObjectSchema().raw_names()}


def feature_lines() -> list[str]:
    """The feature names valid for --features and --conditions."""
    from adkit.io.schema import DERIVED, ObjectSchema

    raw = ObjectSchema().raw_names()
    return [f"{name:20s} {doc}" for name, (_, doc) in DERIVED.items()] + \
        [f"{'raw inputs':20s} {', '.join(raw[:6])}, ..., {raw[-1]} ({len(raw)} in all)"]


def generate_command(*, outdir, events, signal_events, seed, formats, overwrite, say, engine="embedded",
                     processes=None, chunk=2_000, executor="local", workers=1, scheduler=None,
                     progress=False) -> list:
    """Write a background sample and the signals as ADC2021 .h5 and NanoAOD-like .root files:
    adkit's embedded generator, or Pythia 8 (``engine="pythia"``, in parallel and resumable)."""
    fmts = tuple(f.strip() for f in formats.split(","))
    bad = [f for f in fmts if f not in ("h5", "root")]
    if bad:
        raise ConfigError(f"--format {bad[0]!r}: valid formats are h5, root")
    if engine == "pythia":
        from adkit.datasets.pythia import check_pythia, generate_pythia, requested
        from adkit.executors import executor_from
        from adkit.progress import TaskBar

        counts = requested(events, signal_events, processes)
        check_pythia()
        ex = executor_from(executor, workers, scheduler)
        if ex.capped:
            say(f"adkit: {ex.capped}")
        with TaskBar(progress, "pythia events") as bar:
            result = generate_pythia(outdir, counts, seed, chunk=chunk, formats=fmts, overwrite=overwrite,
                                     executor=ex, progress=bar.update, say=say)
        written = result["written"]
    else:
        if processes:
            raise ConfigError("--processes needs --engine pythia (the embedded generator writes all eight)")
        from adkit.datasets import write_dataset

        written = write_dataset(outdir, events, signal_events, seed, fmts, overwrite)
    say(f"wrote {len(written)} files to {outdir}/: " + ", ".join(Path(p).name for p in written))
    return written


def export_command(*, model_path, output, fmt, overwrite, say) -> dict:
    """A TorchScript file of a torch model with its preprocessing, checked against adkit's scores."""
    from adkit.export import export_torchscript

    output = output or str(Path(model_path).with_suffix(".pt"))
    check = export_torchscript(Model.load(model_path), output, overwrite=overwrite)
    say(f"wrote {output} ({fmt}): reproduces adkit's scores to {check['max_abs_difference']:.2g} "
        f"on {check['events']} events; load with torch.jit.load")
    return check
