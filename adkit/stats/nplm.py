"""The NPLM goodness-of-fit test: is a data sample compatible with a reference sample?

:func:`nplm_test` learns f(x) = log n(x|data)/n(x|ref) with the kernel model
(:class:`adkit.detectors.nplm.KernelNPLM`) or the original neural network
(:class:`adkit.detectors.nplm_nn.NeuralNPLM`), computes the likelihood-ratio statistic t and
calibrates it with null toys: data drawn from the reference (Poisson-fluctuated size N(0))
and fitted against the rest of it. The null distribution is fitted with a chi-square (its
degrees of freedom free) and checked by Kolmogorov-Smirnov; p-values come from the fit and,
where the toys reach, empirically.

Toys are reproducible (toy ``i`` draws from ``default_rng([seed, i])``), run on any
:class:`adkit.executors.Executor`, and are appended to ``toys.jsonl`` as they finish, keyed
by a hash of everything that defines them, so an interrupted calibration resumes.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from adkit.detectors.base import TrainOptions
from adkit.errors import ConfigError

MODELS = {"kernel": "nplm", "nn": "nplm-nn"}


def t_statistic(f_ref: np.ndarray, f_data: np.ndarray, n_expected: float) -> float:
    """t = −2 [N(0)/N_R · Σ_ref (e^f − 1) − Σ_data f]."""
    return float(-2.0 * (n_expected / len(f_ref) * np.sum(np.expm1(f_ref)) - np.sum(f_data)))


def make_model(model: str, params: dict | None, n_expected: float, seed: int):
    """An unfitted NPLM detector (``kernel`` or ``nn``) with the test's N(0) and seed."""
    from adkit.detectors import registry

    if model not in MODELS:
        raise ConfigError(f"unknown NPLM model {model!r}; valid: {', '.join(MODELS)}")
    return registry.create(MODELS[model], **{**(params or {}), "n_expected": n_expected, "seed": seed})


def fit_t(ref: np.ndarray, data: np.ndarray, n_expected: float, model: str = "kernel", params: dict | None = None,
          seed: int = 0, progress: bool = False):
    """Fit f on (reference, data) and return (fitted detector, t)."""
    if len(data) == 0 or len(ref) == 0:
        raise ConfigError("NPLM needs events in both the reference and the data sample")
    det = make_model(model, params, n_expected, seed)
    X = np.concatenate([ref, data])
    det.fit(X, y=np.r_[np.zeros(len(ref)), np.ones(len(data))], options=TrainOptions(progress=progress))
    f = det.decision_function(X)
    return det, t_statistic(f[:len(ref)], f[len(ref):], n_expected)


def toy_split(n_ref: int, n_expected: float, seed: int, toy: int) -> tuple[np.ndarray, np.random.Generator]:
    """Toy ``toy``'s Poisson(N(0)) data events among the ``n_ref`` reference events (a mask), and the
    generator that drew them, for whatever the toy draws next. Deterministic in (seed, toy)."""
    rng = np.random.default_rng([seed, toy])
    n = rng.poisson(n_expected)
    if n >= n_ref:
        raise ConfigError(f"a toy needs more events ({n}) than the reference has ({n_ref})")
    pick = np.zeros(n_ref, dtype=bool)
    pick[rng.choice(n_ref, n, replace=False)] = True
    return pick, rng


def run_toy(ref: np.ndarray, n_expected: float, model: str, params: dict, seed: int, toy: int,
            signal: np.ndarray | None = None, n_signal: float = 0.0) -> float:
    """t of one toy: Poisson(N(0)) reference events (plus Poisson(n_signal) signal events) as data,
    the remaining reference as reference. Deterministic in (seed, toy)."""
    pick, rng = toy_split(len(ref), n_expected, seed, toy)
    data = ref[pick]
    if signal is not None and n_signal > 0:
        ns = rng.poisson(n_signal)
        data = np.concatenate([data, signal[rng.choice(len(signal), ns, replace=len(signal) < ns)]])
    return fit_t(ref[~pick], data, n_expected, model, params, seed)[1]


def chi2_fit(ts: np.ndarray) -> dict:
    """Maximum-likelihood chi-square fit of null t values (dof free) and its KS check.

    ``dof_error`` is the fit's standard error from the toy count: the Fisher information of n
    chi-square values in their dof k is n ψ′(k/2)/4 (ψ′ the trigamma function)."""
    from scipy import special, stats

    ts = np.asarray(ts, dtype=np.float64)
    pos = np.clip(ts, 1e-9, None)
    dof = float(stats.chi2.fit(pos, np.mean(pos), floc=0, fscale=1)[0])
    ks = stats.kstest(pos, "chi2", args=(dof,))
    return {"dof": dof, "dof_error": float(2.0 / np.sqrt(len(pos) * special.polygamma(1, dof / 2))),
            "ks_statistic": float(ks.statistic), "ks_p_value": float(ks.pvalue), "n_toys": int(len(ts)),
            "t_median": float(np.median(ts)), "t_mean": float(np.mean(ts))}


#: Fewest null toys on which a chi-square is fitted; below, only the empirical p-value is given.
MIN_TOYS_FIT = 50


def p_values(t: float, null: np.ndarray | None, dof: float | None, dof_error: float | None = None) -> dict:
    """p and Z from the chi-square fit (or, without toys, from a given dof) and empirically.

    With ``dof_error`` (the fit's standard error from the toy count) the fitted p-value gets its
    68 % interval ``p_value_fit_interval``: the p-values at dof ± its error.

    The empirical p-value (k+1)/(n+1) of n toys cannot go below its resolution 1/(n+1): with no
    toy above t it is an upper bound (``p_value_empirical_bound``) and Z a lower bound. Its
    Clopper–Pearson interval (k of n) is reported with it. A fitted p-value smaller than the
    resolution is an extrapolation of the fit beyond the toys and is marked so.
    """
    from scipy import stats

    from adkit.metrics import CL, clopper_pearson

    out: dict = {}
    if dof is not None:
        p = float(stats.chi2.sf(t, dof))
        # below 1e-300 the p-value underflows: Z is then reported as its lower bound, 37.0
        out.update(p_value=p, Z=float(stats.norm.isf(max(p, 1e-300))))
        if dof_error:
            out["p_value_fit_interval"] = [float(stats.chi2.sf(t, max(dof - dof_error, 1e-6))),
                                           float(stats.chi2.sf(t, dof + dof_error))]
    if null is not None and len(null):
        n = len(null)
        k = int(np.sum(np.asarray(null) >= t))
        pe = (k + 1) / (n + 1)
        lo, hi = clopper_pearson(k, n, CL)
        out.update(p_value_empirical=pe, Z_empirical=float(stats.norm.isf(pe)), toys_above=k, n_toys=n,
                   p_value_resolution=1.0 / (n + 1), p_value_empirical_bound=k == 0,
                   p_value_empirical_interval=[lo, hi])
        if out.get("p_value") is not None:
            out["p_value_extrapolated"] = out["p_value"] < 1.0 / (n + 1)
    return out


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else json.dumps(p, sort_keys=True,
                                                                                              default=str).encode())
    return h.hexdigest()[:16]


TOYS_FORMAT = "adkit-nplm-toys"


class ToyStore:
    """Append-only ``toys.jsonl``: a header line naming what the toys belong to (reference, data,
    model, seed), then one finished toy per line, keyed; torn last lines are ignored.

    A file without this run's header is not adkit's for this test: it is neither read nor appended to.
    """

    def __init__(self, path: str | Path | None, key: str, header: dict | None = None) -> None:
        self.path, self.key = (Path(path) if path else None), key
        self.header = {"format": TOYS_FORMAT, "version": 1, **(header or {})}

    def check(self) -> None:
        """Refuse (OutputError) a ``toys.jsonl`` that adkit did not write for this reference, data, model and seed."""
        from adkit.errors import OutputError
        from adkit.files import check_output

        if self.path is None or not os.path.lexists(self.path):
            return
        check_output(self.path, overwrite=True)  # not an input, a link to one or a special file
        try:
            with open(self.path, "rb") as fh:
                first = json.loads(fh.readline(1 << 16).decode("utf-8"))
        except (OSError, ValueError):
            first = None
        if first != self.header:
            why = ("was written for other reference/data files, another model or seed"
                   if isinstance(first, dict) and first.get("format") == TOYS_FORMAT else "was not written by adkit")
            raise OutputError(f"{self.path}: {why}; its toys are not used and nothing is appended; give another -o "
                              "directory (or move the file away)")

    def load(self) -> dict[int, float]:
        done: dict[int, float] = {}
        if self.path is None or not self.path.exists():
            return done
        self.check()
        for line in self.path.read_text().splitlines()[1:]:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interruption
            if isinstance(rec, dict) and rec.get("key") == self.key and isinstance(rec.get("toy"), int) \
                    and isinstance(rec.get("t"), (int, float)) and math.isfinite(rec["t"]):
                done[int(rec["toy"])] = float(rec["t"])
        return done

    def add(self, toy: int, t: float) -> None:
        if self.path is None:
            return
        if not self.path.exists():
            with open(self.path, "x") as fh:  # never a file that appeared meanwhile
                fh.write(json.dumps(self.header) + "\n")
        self.check()
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"key": self.key, "toy": toy, "t": t}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def calibrate(ref: np.ndarray, n_expected: float, n_toys: int, *, model: str = "kernel", params: dict | None = None,
              seed: int = 0, executor=None, store: str | Path | None = None,
              signal: np.ndarray | None = None, n_signal: float = 0.0,
              on_toy: Callable[[int, int], None] | None = None,
              nuisance: tuple[np.ndarray, np.ndarray] | None = None, store_header: dict | None = None) -> np.ndarray:
    """t of toys 0..n_toys-1 (null, or with ``n_signal`` signal events injected), resuming from ``store``.
    ``nuisance``: the (L, Q) templates of the reference events: toys of the profiled t
    (:func:`adkit.stats.nuisance.run_toy`, auxiliary measurements fluctuated)."""
    from adkit.executors import Executor
    from adkit.stats import nuisance as nuis

    key = _digest(ref, [n_expected, model, params, seed, n_signal], signal if signal is not None else [],
                  *(nuisance if nuisance is not None else []))
    toy_store = ToyStore(store, key, store_header)
    done = {i: t for i, t in toy_store.load().items() if i < n_toys}
    todo = [i for i in range(n_toys) if i not in done]
    if on_toy:
        on_toy(n_toys - len(todo), n_toys)
    own = executor is None
    ex = Executor() if own else executor
    failures = []
    with ex if own else contextlib.nullcontext():
        if nuisance is None:
            fn, tasks = run_toy, [(ref, n_expected, model, params or {}, seed, i, signal, n_signal) for i in todo]
        else:
            fn, tasks = nuis.run_toy, [(ref, *nuisance, n_expected, params or {}, seed, i) for i in todo]
        for j, t, err in ex.run(fn, tasks):
            if err is not None:
                failures.append((todo[j], err))
                continue
            done[todo[j]] = t
            toy_store.add(todo[j], t)
            if on_toy:
                on_toy(len(done), n_toys)
    if failures:
        i, err = failures[0]
        raise ConfigError(f"{len(failures)} toy(s) failed; toy {i}: {err}") from err
    return np.array([done[i] for i in range(n_toys)])


def nplm_test(ref: np.ndarray, data: np.ndarray, *, n_expected: float | None = None, model: str = "kernel",
              params: dict | None = None, n_toys: int = 0, seed: int = 0, executor=None,
              store: str | Path | None = None, progress: bool = False,
              on_toy: Callable[[int, int], None] | None = None, nuisances=None,
              shifted: dict | None = None, store_header: dict | None = None) -> tuple[dict, object, np.ndarray | None]:
    """Run the test on standardised arrays. Returns (result dict, fitted f detector, null t values).

    The kernel width and number of centres are fixed from the reference before anything is
    fitted, so the observed fit and every toy use the same model. ``nuisances``
    (:class:`adkit.stats.nuisance.Nuisance`) make t the profiled τ − Δ; ``shifted`` maps each shape
    nuisance's name to its (up, down or None) standardised reference samples.
    """
    from adkit.detectors.nplm import default_centres, default_sigma

    ref = np.ascontiguousarray(ref, dtype=np.float64)
    data = np.ascontiguousarray(data, dtype=np.float64)
    n0 = float(n_expected) if n_expected is not None else float(len(data))
    if n_toys and n0 + 5 * np.sqrt(n0) >= len(ref):
        raise ConfigError(f"null toys draw about N(0) = {n0:g} events from the reference, which has only {len(ref)}: "
                          "the reference must be much larger than the data sample")
    params = dict(params or {})
    if model == "kernel":
        params.setdefault("sigma", default_sigma(ref, seed))
        params.setdefault("n_centres", default_centres(len(ref) + int(n0)))
    extra: dict = {}
    tmpl = None
    if nuisances:
        from adkit.stats import nuisance as nuis

        if model != "kernel":
            raise ConfigError("nuisance parameters are profiled with the kernel model: use --detector nplm")
        nuis.check_names(nuisances)
        shapes = {n.name: tuple(None if x is None else nuis.shape_ratio(ref, x, params, seed)
                                for x in (shifted or {})[n.name]) for n in nuisances if n.kind == "shape"}
        (Lr, Qr), (Ld, Qd) = nuis.templates(nuisances, ref, shapes), nuis.templates(nuisances, data, shapes)
        obs = nuis.profiled_t(ref, data, (Lr, Ld), (Qr, Qd), n0, np.zeros(len(nuisances)), params, seed)
        det, t = obs["detector"], obs["t"]
        tmpl = (Lr, Qr)
        extra = {"tau": obs["tau"], "delta": obs["delta"], "nuisances": [n.to_dict() for n in nuisances],
                 "nu_hat": dict(zip((n.name for n in nuisances), obs["nu_hat"])),
                 "nu_hat_delta": dict(zip((n.name for n in nuisances), obs["nu_hat_delta"]))}
    else:
        det, t = fit_t(ref, data, n0, model, params, seed, progress)
    null = None
    fit: dict = {}
    if n_toys:
        null = calibrate(ref, n0, n_toys, model=model, params=params, seed=seed, executor=executor, store=store,
                         on_toy=on_toy, nuisance=tmpl, store_header=store_header)
        if len(null) >= MIN_TOYS_FIT:
            fit = chi2_fit(null)
    result = {"t": t, **p_values(t, null, fit.get("dof"), fit.get("dof_error")), "dof": fit.get("dof"),
              "n_reference": int(len(ref)),
              "n_data": int(len(data)), "n_expected": n0, "model": model,
              "params": {k: v for k, v in params.items()}, "seed": seed, "null": fit or None,
              "fit": getattr(det, "info_", None), **extra}
    if not fit:
        result.update(p_value=None, Z=None)
    return result, det, null


def min_p(t_obs: Sequence[float], toys: Sequence[np.ndarray], labels: Sequence[str]) -> dict:
    """Several tests of the same data (σ values, feature sets) combined by their smallest p-value,
    calibrated on the same toys: toy i is the same data set for every test.

    Each test's p-value comes from its chi-square fit (empirical with fewer than ``MIN_TOYS_FIT``
    toys: the fraction of the other toys at or above). The combined p-value is the fraction of
    toys whose own smallest p is at or below the observed one, (k + 1)/(n + 1), with its
    Clopper–Pearson interval: the look-elsewhere effect of trying several tests, measured."""
    from scipy import stats

    from adkit.metrics import CL, clopper_pearson

    T = np.column_stack([np.asarray(t, dtype=np.float64) for t in toys])  # [toys, tests]
    n = len(T)
    if n < 2:
        raise ConfigError("combining tests needs at least 2 toys (--toys)")
    if n >= MIN_TOYS_FIT:
        dofs = [chi2_fit(T[:, j])["dof"] for j in range(T.shape[1])]

        def pv(t, j):
            return stats.chi2.sf(t, dofs[j])
        toy_p = np.column_stack([pv(T[:, j], j) for j in range(T.shape[1])])
    else:
        dofs = None

        def pv(t, j):
            return (np.sum(T[:, j] >= t) + 1) / (n + 1)
        # each toy against the other toys of its test
        toy_p = np.column_stack([(np.sum(T[:, j][None, :] >= T[:, j][:, None], axis=1)) / n for j in range(T.shape[1])])
    p_obs = np.array([float(pv(t, j)) for j, t in enumerate(t_obs)])
    p_min = float(p_obs.min())
    k = int(np.sum(toy_p.min(axis=1) <= p_min))
    p = (k + 1) / (n + 1)
    lo, hi = clopper_pearson(k, n, CL)
    return {"tests": list(labels), "t": [float(t) for t in t_obs], "p_values": p_obs.tolist(), "p_min": p_min,
            "best": labels[int(p_obs.argmin())], "p_value": p, "Z": float(stats.norm.isf(p)), "toys_at_or_below": k,
            "n_toys": n, "p_value_interval": [lo, hi], "p_from": "chi-square fits" if dofs else "the toys",
            "dofs": dofs}
