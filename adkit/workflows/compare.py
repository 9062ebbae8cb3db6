"""``adkit compare``: how far a generated sample is from a reference (FPD, KPD, W1 per feature)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adkit.errors import InputError
from adkit.io import DEFAULT_STEP, Mapping, load_arrays, open_reader


def compare_files(reference: Sequence[str | Path], sample: Sequence[str | Path], outdir: str | Path | None = None, *,
                  features: str | Sequence[str] | None = None, seed: int = 0, mapping: Mapping | None = None,
                  step: int = DEFAULT_STEP, nan_policy: str = "reject", overwrite: bool = False) -> dict:
    """:func:`adkit.stats.gen_metrics.compare` on files read like ``adkit nplm`` reads them (collider
    files: the NPLM features by default; tables: every column). With ``outdir``: ``compare.json`` and
    ``w1_<feature>.png`` per feature."""
    import json

    from adkit.files import check_outputs
    from adkit.io.writers import atomic_output
    from adkit.stats.gen_metrics import compare
    from adkit.workflows.train import NPLM_FEATURES, default_spec

    first = open_reader(reference[0], mapping)
    table = first.kind == "table"
    spec = default_spec(features or (None if table else NPLM_FEATURES), None, mapping, table, first.columns)
    out = Path(outdir) if outdir else None
    if out is not None:
        check_outputs(out, ["compare.json"], overwrite)
    ref, _, _ = load_arrays(reference, spec, mapping, step, nan_policy)
    sam, _, _ = load_arrays(sample, spec, mapping, step, nan_policy)
    if len(ref) == 0 or len(sam) == 0:
        raise InputError(f"no events in the {'reference' if len(ref) == 0 else 'sample'} files")
    result = {**compare(ref, sam, seed), "features": list(spec.columns), "reference": [str(p) for p in reference],
              "sample": [str(p) for p in sample], "seed": seed}
    if out is not None:
        from adkit.report.nplm import feature_plots

        out.mkdir(parents=True, exist_ok=True)
        result["plots"] = feature_plots(ref, sam, list(spec.columns), result["w1"], out, overwrite)
        with atomic_output(out / "compare.json", overwrite) as tmp:
            tmp.write_text(json.dumps(result, indent=2))
    return result


def compare_command(*, reference, sample, outdir, features, seed, as_json, overwrite, mapping, nan_policy, step,
                    say, echo) -> dict:
    """One line per distance (or JSON), the per-feature W1 as a table."""
    import json

    from adkit.workflows.config import mapping_from

    if not features:
        say("no --features: collider files use met,ht,lepton_pt_sum,n_leptons,n_jets; tables use every column")
    r = compare_files(list(reference), list(sample), outdir, features=features, seed=seed,
                      mapping=mapping_from(mapping), step=step, nan_policy=nan_policy, overwrite=overwrite)
    for note in r["notes"]:
        say(f"note: {note}")
    if as_json:
        echo(json.dumps({k: r[k] for k in ("fpd", "kpd", "w1", "features", "n_reference", "n_sample", "notes")}))
        return r
    f, k = r["fpd"], r["kpd"]
    echo(f"FPD = {f['value']:.3g} ± {f['error']:.2g} (extrapolated to infinite samples from batches of "
         f"{f['sizes'][0]}–{f['sizes'][-1]}); KPD = {k['value']:.3g} ± {k['error']:.2g} (median of {len(k['batches'])} "
         f"batches of {k['batch_size']}); features scaled by the reference's largest |value|")
    echo("| feature | W1 | ± |")
    echo("|---|---|---|")
    for name, v, e in zip(r["features"], r["w1"]["value"], r["w1"]["error"] or [None] * len(r["features"])):
        echo(f"| {name} | {v:.4g} | {'-' if e is None else format(e, '.2g')} |")
    echo(f"reference {r['n_reference']} events, sample {r['n_sample']} events"
         + (f"; wrote {outdir}/compare.json and {len(r['plots'])} plots" if outdir else ""))
    return r
