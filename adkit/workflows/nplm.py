"""The NPLM goodness-of-fit test on files: read, standardise on the reference, test, plot."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, file_record, versions
from adkit.errors import ConfigError, InputError
from adkit.features.preprocess import Standardizer
from adkit.io import DEFAULT_STEP, Mapping, load_arrays, open_reader
from adkit.workflows.train import NPLM_FEATURES, _names, default_spec


def nplm(reference: Sequence[str | Path], data: Sequence[str | Path], outdir: str | Path | None = None, *,
         features: str | Sequence[str] | None = None, model: str = "kernel", params: dict | None = None,
         n_expected: float | None = None, n_toys: int = 100, seed: int = 0, executor=None,
         plot_features: str | Sequence[str] | None = None, mapping: Mapping | None = None, step: int = DEFAULT_STEP,
         nan_policy: str = "reject", overwrite: bool = False, progress: bool = False,
         on_toy=None, nuisances: Sequence[str] | None = None, sigmas: Sequence[float] | None = None,
         feature_sets: Sequence[str] | None = None) -> tuple[dict, Model]:
    """The NPLM test of ``data`` files against ``reference`` files (see :mod:`adkit.stats.nplm`).

    Inputs are read with the usual readers and standardised on the reference. With ``outdir``,
    writes ``nplm.json``, ``null.png``, ``f_<feature>.png`` and keeps finished toys in
    ``toys.jsonl`` (an interrupted run resumes there). Returns the result and the learned
    f(x) as a :class:`Model` (score = log density ratio). ``nuisances`` (``NAME=0.05``,
    ``NAME=UP,DOWN``: :mod:`adkit.stats.nuisance`) make t the profiled τ − Δ; their shape samples are
    read and standardised like the reference. Several kernel widths ``sigmas`` and further
    ``feature_sets`` (beside ``features``) run one test each on the same toys (toy i takes the same
    events for every test), combined by their smallest p-value (:func:`adkit.stats.nplm.min_p`) in
    ``result["combined"]``; the rest of the result is the first test's.
    """
    first = open_reader(reference[0], mapping)
    table = first.kind == "table"
    spec = default_spec(features or (None if table else NPLM_FEATURES), None, mapping, table, first.columns)
    specs = [spec] + [default_spec(fs, None, mapping, table, first.columns) for fs in feature_sets or []]
    sigmas = list(sigmas or [])
    nuis = check_nplm_run(model, params, nuisances, plot_features, spec, sigmas, specs, n_toys)
    out = Path(outdir) if outdir else None
    records = [file_record(p) for p in [*reference, *data]]  # hashed once: the toys' header and the provenance
    header = None
    if out is not None:
        header = toy_header(out, records, len(reference), model, seed, overwrite)
    read = Samples(reference, data, mapping, step, nan_policy, table, nuis)
    runs, labels = [], []
    for k, sp in enumerate(specs):
        R_k, D_k, shifted_k = read.standardised(sp, first=k == 0)
        if k == 0 and out is not None:
            out.mkdir(parents=True, exist_ok=True)
        for sig in sigmas or [None]:
            runs.append(_test(R_k, D_k, shifted_k, sig, model=model, params=params, n_expected=n_expected,
                              n_toys=n_toys, seed=seed, executor=executor, out=out, progress=progress,
                              on_toy=on_toy, nuisances=nuis, header=header))
            labels.append("; ".join(x for x in ((f"features={','.join(sp.columns)}" if len(specs) > 1 else ""),
                                                (f"sigma={sig:g}" if sig is not None else "")) if x))
    result, det, null = runs[0]
    if len(runs) > 1:
        from adkit.stats.nplm import min_p

        result["combined"] = min_p([r[0]["t"] for r in runs], [r[2] for r in runs], labels)
    result.update(features=spec.columns, reference=[str(p) for p in reference], data=[str(p) for p in data])
    shape_files = [f for n in nuis for f in (*n.up, *n.down)]
    provenance = {"inputs": records + [file_record(p) for p in shape_files], "seed": seed,
                  "events": int(len(read.R) + len(read.D)), "versions": versions()}
    f_model = Model(det, spec, read.scaler, None if mapping is None else mapping.to_dict(), [], provenance,
                    {"nplm": result})
    if out is not None:
        write_outputs(out, result, det, null, read, spec, plot_features, overwrite)
    return result, f_model


def check_nplm_run(model: str, params, nuisances, plot_features, spec, sigmas: list, specs: list, n_toys: int) -> list:
    """Refuse, before any work, what the test cannot do; returns the parsed nuisances."""
    from adkit.detectors import registry
    from adkit.stats.nuisance import Nuisance, check_names

    registry.get("nplm" if model == "kernel" else "nplm-nn").from_params(dict(params or {}))
    nuis = [Nuisance.parse(n) for n in nuisances or []]
    check_names(nuis)
    if nuis and model != "kernel":
        raise ConfigError("nuisance parameters are profiled with the kernel model: use --detector nplm")
    unknown = [c for c in _names(plot_features) or [] if c not in spec.columns]
    if unknown:  # before any toy is computed
        raise ConfigError(f"--plot-features {unknown[0]!r} is not a test feature; features: {', '.join(spec.columns)}")
    if sigmas and model != "kernel":
        raise ConfigError("--sigmas sets the kernel model's width: use --detector nplm")
    if (len(sigmas) > 1 or len(specs) > 1) and n_toys < 2:
        raise ConfigError("combining several tests (--sigmas, --feature-set) needs their toys: give --toys (50 or "
                          "more for chi-square fits)")
    return nuis


def toy_header(out: Path, records: list[dict], n_reference: int, model: str, seed: int, overwrite: bool) -> dict:
    """What the stored toys were computed from; a store of other inputs is refused before any toy runs."""
    from adkit.files import check_outputs
    from adkit.stats.nplm import ToyStore

    check_outputs(out, ["nplm.json", "null.png"], overwrite)
    header = {"reference": [r["sha256"] for r in records[:n_reference]],
              "data": [r["sha256"] for r in records[n_reference:]], "model": model, "seed": seed}
    ToyStore(out / "toys.jsonl", "", header).check()
    return header


class Samples:
    """The reference, data and shape-nuisance samples of the test, read per feature set and standardised
    on the reference; the first set's arrays are kept (``ref``, ``dat``, ``scaler``, ``R``, ``D``)."""

    def __init__(self, reference, data, mapping, step: int, nan_policy: str, table: bool, nuis: list) -> None:
        self.reference, self.data, self.mapping, self.step, self.nan_policy = reference, data, mapping, step, nan_policy
        self.table, self.nuis = table, nuis

    def load(self, files, spec) -> np.ndarray:
        return load_arrays(files, spec, self.mapping, self.step, self.nan_policy)[0]

    def standardised(self, spec, first: bool) -> tuple[np.ndarray, np.ndarray, dict]:
        ref, dat = self.load(self.reference, spec), self.load(self.data, spec)
        if len(ref) == 0 or len(dat) == 0:
            raise InputError(f"no events in the {'reference' if len(ref) == 0 else 'data'} files")
        scaler = Standardizer.for_columns(spec.columns, "standard" if self.table else "physics").fit(ref)
        shifted = {}
        for n in (n for n in self.nuis if n.kind == "shape"):
            shifted[n.name] = tuple(None if not files else scaler.transform(self.load(files, spec)).astype(np.float64)
                                    for files in (n.up, n.down))
            if any(x is not None and len(x) == 0 for x in shifted[n.name]):
                raise InputError(f"--nuisance {n.name}: no events in its reference files")
        R, D = scaler.transform(ref).astype(np.float64), scaler.transform(dat).astype(np.float64)
        if first:
            self.ref, self.dat, self.scaler, self.R, self.D = ref, dat, scaler, R, D
        elif len(R) != len(self.R) or len(D) != len(self.D):  # toy i must take the same events in every test
            raise InputError(f"--feature-set {','.join(spec.columns)} reads {len(R)} reference and {len(D)} data "
                             f"events, the first set {len(self.R)} and {len(self.D)} (--nan-policy drop?): the tests "
                             "would not see the same toys; use --nan-policy reject or zero")
        return R, D, shifted


def _test(R, D, shifted, sigma, *, model, params, n_expected, n_toys, seed, executor, out, progress, on_toy,
          nuisances, header):
    """One NPLM test (one feature set, one kernel width) on the shared toys."""
    from adkit.stats.nplm import nplm_test

    p = dict(params or {}) if sigma is None else {**(params or {}), "sigma": float(sigma)}
    return nplm_test(R, D, n_expected=n_expected, model=model, params=p, n_toys=n_toys, seed=seed, executor=executor,
                     store=out / "toys.jsonl" if out else None, progress=progress, on_toy=on_toy,
                     nuisances=nuisances, shifted=shifted, store_header=header)


def write_outputs(out: Path, result: dict, det, null, read: Samples, spec, plot_features, overwrite: bool) -> None:
    """``null.png``, ``f_<feature>.png`` and ``nplm.json``."""
    import json

    from adkit.io.writers import atomic_output
    from adkit.report.nplm import null_plot, projection_plots

    images = []
    if null is not None:
        images.append(null_plot(null, result["t"], result["dof"], out / "null.png", overwrite))
    cols = [c for c in _names(plot_features) or spec.columns[:4]]
    idx = [spec.columns.index(c) for c in cols]
    images += projection_plots(read.ref[:, idx], read.dat[:, idx], det.decision_function(read.R),
                               result["n_expected"], cols, out, overwrite)
    result["plots"] = images
    if null is not None:
        result["null_t"] = [float(t) for t in null]
    with atomic_output(out / "nplm.json", overwrite) as tmp:
        tmp.write_text(json.dumps(result, indent=2, default=float))


def nplm_command(*, reference, data, outdir, features, detector, n_expected, toys, executor, workers, scheduler,
                 params, seed, plot_features, save_model, as_json, overwrite, mapping, nan_policy, step,
                 progress: bool, say, echo, nuisances=(), sigmas=None, feature_sets=()) -> dict:
    """``adkit nplm``: the test, its files, and one summary line (or JSON)."""
    import json

    from adkit.executors import executor_from
    from adkit.files import check_output
    from adkit.progress import TaskBar
    from adkit.workflows.config import mapping_from, parse_params

    if save_model:
        check_output(save_model, overwrite)
    if not features:
        say("no --features: collider files use met,ht,lepton_pt_sum,n_leptons,n_jets; tables use every column")
    model = "nn" if detector == "nplm-nn" else "kernel"
    with executor_from(executor, workers, scheduler) as ex, TaskBar(progress, "toys") as bar:
        if ex.capped:
            say(ex.capped)
        if ex.dashboard:
            say(f"dask dashboard: {ex.dashboard}")
        result, f_model = nplm(list(reference), list(data), outdir, features=features, model=model,
                               params=parse_params(params), n_expected=n_expected, n_toys=toys, seed=seed,
                               executor=ex, plot_features=plot_features, mapping=mapping_from(mapping), step=step,
                               nan_policy=nan_policy, overwrite=overwrite, progress=progress, on_toy=bar.update,
                               nuisances=list(nuisances), sigmas=_sigma_list(sigmas),
                               feature_sets=list(feature_sets))
    if save_model:
        f_model.save(save_model, overwrite)
        say(f"wrote {save_model}: the learned f(x) (score = log n(x|data)/n(x|reference))")
    keys = ("t", "p_value", "Z", "dof", "n_reference", "n_data", "n_expected", "p_value_empirical", "Z_empirical",
            "toys_above", "p_value_resolution", "p_value_empirical_bound", "p_value_empirical_interval",
            "p_value_extrapolated", "p_value_fit_interval", "tau", "delta", "nu_hat", "nu_hat_delta")
    if as_json:
        summary = {k: result.get(k) for k in (*keys, "combined")}
        summary.update(ks_p_value=(result["null"] or {}).get("ks_p_value"), n_toys=toys, model=model,
                       features=result["features"], output=str(outdir))
        echo(json.dumps(summary))
        return result
    for line in summary_lines(result, toys, outdir):
        echo(line)
    return result


def _sigma_list(text: str | None) -> list[float]:
    """``--sigmas 0.5,1,2`` → [0.5, 1.0, 2.0] (positive kernel widths)."""
    from adkit.validation import check_positive
    from adkit.workflows.config import csv_floats

    return check_positive(csv_floats(text, "--sigmas"), "--sigmas") if text else []


def summary_lines(result: dict, toys: int, outdir) -> list[str]:
    """The test in words: t, its p-values (toys, chi-square fit), the combined test, the inputs."""
    from adkit.stats.nplm import MIN_TOYS_FIT

    line = f"t = {result['t']:.3f}"
    if result.get("nuisances"):
        line += (f" = τ {result['tau']:.3f} − Δ {result['delta']:.3f} (profiled: ν̂ "
                 + ", ".join(f"{k} {v:+.2f}σ" for k, v in result["nu_hat"].items()) + ")")
    if result.get("p_value_empirical") is not None:
        lo, hi = result["p_value_empirical_interval"]
        rel = "<" if result["p_value_empirical_bound"] else "="
        line += (f"; empirical p {rel} {result['p_value_empirical']:.3g} (Z {'>' if rel == '<' else '='} "
                 f"{result['Z_empirical']:.2f}): {result['toys_above']} of {result['n_toys']} toys above t, "
                 f"fraction in [{lo:.2g}, {hi:.2g}], resolution 1/{result['n_toys'] + 1}")
    if result.get("p_value") is not None:
        null = result["null"]
        lo, hi = result["p_value_fit_interval"]
        line += (f"; chi-square fit (dof {result['dof']:.2f} ± {null['dof_error']:.2f}, "
                 f"KS p {null['ks_p_value']:.2f}): p = {result['p_value']:.3g} [{lo:.2g}, {hi:.2g}] from the toy "
                 f"count, Z = {result['Z']:.2f}")
        if result.get("p_value_extrapolated"):
            line += " — extrapolated beyond the toys (more toys resolve it)"
    elif toys:
        line += f"; no chi-square fit on fewer than {MIN_TOYS_FIT} toys (run --toys {MIN_TOYS_FIT} or more)"
    else:
        line += " (no toys: run with --toys N for a p-value)"
    lines = [line]
    c = result.get("combined")
    if c:
        lo, hi = c["p_value_interval"]
        lines.append(f"{len(c['tests'])} tests on the same toys (" + ", ".join(
            f"{n}: t {t:.2f}, p {p:.3g}" for n, t, p in zip(c["tests"], c["t"], c["p_values"]))
            + f"; p from {c['p_from']}): smallest p {c['p_min']:.3g} ({c['best']}); combined p = {c['p_value']:.3g} "
              f"(Z {c['Z']:.2f}), {c['toys_at_or_below']} of {c['n_toys']} toys at or below, fraction in "
              f"[{lo:.2g}, {hi:.2g}]: quote this one, not the smallest p")
    return lines + [f"reference {result['n_reference']} events, data {result['n_data']} events, N(0) = "
                    f"{result['n_expected']:g}; features {', '.join(result['features'])}; wrote {outdir}/nplm.json"]
