"""Physics table: every adkit detector vs scikit-learn's IsolationForest and a plain torch AE.

Trains on the background of ``../shared/data/pythia`` mixed as in ADC2021 (W 59.2 %, QCD
33.8 %, Z 6.7 %, ttbar 0.3 %), half for training and half for testing, and prints AUC and the
TPR at FPR 1e-3 and 1e-4 for each of the four signals. The baselines run in the same process
on the same split: ``sklearn IF`` (IsolationForest, default settings, standardised inputs) and
``torch AE`` (57-32-16-3-16-32-57 ReLU network, MSE, Adam, no BatchNorm, standardised inputs).

    python benchmarks/physics.py [--models ae,vae,...] [--markdown docs/physics-table.md]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PYTHIA = ROOT.parent / "shared" / "data" / "pythia"
SHARES = {"W": 0.592, "QCD": 0.338, "Z": 0.067, "ttbar": 0.003}
SIGNALS = ("Ato4l", "LQtobtau", "h0totautau", "hchtotaunu")
FPRS = (1e-3, 1e-4)
#: The training half has ~34k events, 6x fewer than the embedded default: torch detectors get
#: smaller batches and train to convergence (early stopping decides; ALAD has none and runs 60
#: epochs). Everything else uses its defaults. These settings are not tuned per signal.
TORCH_SETTINGS = {"batch_size": 256, "epochs": 100, "patience": 10}
ALAD_SETTINGS = {"batch_size": 256, "epochs": 60}


def settings(name: str) -> dict:
    from adkit.detectors import get
    from adkit.detectors.torch_base import TorchDetector

    cls = get(name)
    if not issubclass(cls, TorchDetector):
        return {}
    return dict(ALAD_SETTINGS if not cls.select_best else TORCH_SETTINGS)


def particles(name: str) -> np.ndarray:
    import h5py

    with h5py.File(PYTHIA / f"{name}.h5", "r") as f:
        return f["Particles"][:]


def adc_mix(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The largest ADC2021-proportioned mix the files allow, shuffled and split in halves."""
    data = {k: particles(k) for k in SHARES}
    total = min(len(data[k]) / s for k, s in SHARES.items())
    rng = np.random.default_rng(seed)
    parts = [data[k][rng.permutation(len(data[k]))[:int(total * s)]] for k, s in SHARES.items()]
    mix = np.concatenate(parts)
    mix = mix[rng.permutation(len(mix))]
    half = len(mix) // 2
    return mix[:half], mix[half:]


def plain_torch_ae(train: np.ndarray, test: dict[str, np.ndarray], epochs: int = 30, seed: int = 0) -> dict:
    """The textbook baseline: dense ReLU AE on standardised inputs, MSE score."""
    import torch
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(train)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(57, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 3), torch.nn.ReLU(), torch.nn.Linear(3, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 57))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.tensor(sc.transform(train), dtype=torch.float32)
    for _ in range(epochs):
        for idx in torch.randperm(len(x)).split(1024):
            loss = ((net(x[idx]) - x[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return {k: ((net(t := torch.tensor(sc.transform(v), dtype=torch.float32)) - t) ** 2).mean(1).double().numpy()
                for k, v in test.items()}


def sklearn_iforest(train: np.ndarray, test: dict[str, np.ndarray], seed: int = 0) -> dict:
    from sklearn.ensemble import IsolationForest
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(train)
    forest = IsolationForest(random_state=seed).fit(sc.transform(train))
    return {k: -forest.score_samples(sc.transform(v)) for k, v in test.items()}


def metrics(scores: dict[str, np.ndarray]) -> dict:
    from adkit.metrics import evaluate_scores

    return evaluate_scores(scores["background"], {s: scores[s] for s in SIGNALS}, fprs=FPRS, rates_khz=())


#: Latent-space detectors and their classical counterparts, on the same AE latent space (16
#: dimensions, 8 qubits for the dense U-encoding). Label → (detector, parameters).
LATENT = {
    "qsvm (quantum kernel, 600 events)": ("qsvm", {}),
    "ocsvm (RBF, 600 events)": ("ocsvm", {"n_train": 600, "nu": 0.01}),
    "svc (quantum kernel, artificial anomalies)": ("svc", {"kernel": "quantum", "n_train": 1000}),
    "svc (RBF, artificial anomalies)": ("svc", {"kernel": "rbf", "n_train": 1000}),
    "qkmeans (1000 shots)": ("qkmeans", {"shots": 1000}),
    "k-means (exact distances)": ("qkmeans", {}),
    "qkmedians (1000 shots)": ("qkmedians", {"shots": 1000}),
    "k-medians (exact distances)": ("qkmedians", {}),
    "mps (bond 8)": ("mps", TORCH_SETTINGS),
    "iforest": ("iforest", {}),
}


def adkit_scores(name: str, train_file: Path, test_files: dict[str, Path], params: dict | None = None,
                 encoder=None) -> dict:
    from adkit.pipeline import load_arrays, train

    model = train(name, [train_file], seed=0, params=settings(name) if params is None else params, encoder=encoder)
    out = {}
    for k, path in test_files.items():
        X, C, _ = load_arrays([path], model.spec)
        out[k] = model.score(X, C)
    return out


def table(results: dict[str, dict], n_bkg: int) -> str:
    head = "| detector | " + " | ".join(f"{s} AUC | TPR@1e-3 | TPR@1e-4" for s in SIGNALS) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(SIGNALS))]
    for name, res in results.items():
        cells = []
        for s in SIGNALS:
            r = res["metrics"]["signals"][s]
            cells += [f"{r['auc']:.3f}", f"{r['tpr_at_fpr']['0.001']:.3f}", f"{r['tpr_at_fpr']['0.0001']:.3f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n{n_bkg} test background events: FPR 1e-4 is the top {n_bkg * 1e-4:.1f} events.\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", help="comma-separated adkit detectors (default: all registered; none: only the "
                                     "baselines and, with --latent, the latent-space table)")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--seed", type=int, default=0, help="seed of the background mix and split")
    ap.add_argument("--latent", action=argparse.BooleanOptionalAction, default=True,
                    help="also the latent-space detectors next to their classical counterparts")
    ap.add_argument("--quick", action="store_true", help="3,000 events, the AE only, 2 epochs, no latent table: "
                                                          "checks that it runs (a test runs this)")
    args = ap.parse_args()
    if args.quick:
        TORCH_SETTINGS.update(epochs=2, patience=1)
        args.models, args.latent = args.models or "ae", False
    if not PYTHIA.is_dir():
        print(f"needs the Pythia sample at {PYTHIA}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(2)
    from adkit.datasets import write_particles_h5
    from adkit.detectors import available

    train_p, test_p = adc_mix(args.seed)
    test = {"background": test_p, **{s: particles(s) for s in SIGNALS}}
    if args.quick:
        train_p, test = train_p[:3000], {k: v[:3000] for k, v in test.items()}
        test_p = test["background"]
    flat = {k: v[:, :, :3].reshape(len(v), -1) for k, v in test.items()}
    results: dict[str, dict] = {}
    latent: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.h5"
        write_particles_h5(train_file, train_p)
        test_files = {}
        for k, v in test.items():
            test_files[k] = Path(tmp) / f"{k}.h5"
            write_particles_h5(test_files[k], v)
        from adkit.detectors import get

        names = [] if args.models == "none" else args.models.split(",") if args.models else \
            [n for n in available() if not get(n).uses_target and not getattr(get(n), "latent", False)]
        for name in names:
            t = time.perf_counter()
            scores = adkit_scores(name, train_file, test_files)
            results[f"adkit {name}"] = {"metrics": metrics(scores), "seconds": time.perf_counter() - t,
                                        "settings": settings(name)}
            print(f"adkit {name}: trained and scored in {results[f'adkit {name}']['seconds']:.0f} s", file=sys.stderr)
        if args.latent:
            from adkit.pipeline import train

            encoder = train("ae", [train_file], seed=0, params={**TORCH_SETTINGS, "latent_dim": 16})
            for label, (name, params) in LATENT.items():
                t = time.perf_counter()
                scores = adkit_scores(name, train_file, test_files, params, encoder)
                latent[f"latent {label}"] = {"metrics": metrics(scores), "seconds": time.perf_counter() - t,
                                             "settings": params}
                print(f"latent {label}: {latent[f'latent {label}']['seconds']:.0f} s", file=sys.stderr)
    flat_train = train_p[:, :, :3].reshape(len(train_p), -1)
    baselines = (("baseline sklearn IF", sklearn_iforest),
                 ("baseline torch AE", (lambda a, b: plain_torch_ae(a, b, epochs=2)) if args.quick else plain_torch_ae))
    for label, fn in baselines:
        t = time.perf_counter()
        results[label] = {"metrics": metrics(fn(flat_train, flat)), "seconds": time.perf_counter() - t}

    text = table(results, len(test_p))
    print(text)
    base = [r for k, r in results.items() if k.startswith("baseline")]
    ours = {k: r for k, r in results.items() if k.startswith("adkit")}
    verdict = []
    for s in SIGNALS if ours else ():
        best_base = max(r["metrics"]["signals"][s]["tpr_at_fpr"]["0.0001"] for r in base)
        best_name, best = max(((k, r["metrics"]["signals"][s]["tpr_at_fpr"]["0.0001"]) for k, r in ours.items()),
                              key=lambda kv: kv[1])
        n_sig = base[0]["metrics"]["signals"][s]["n"]
        verdict.append(f"{s}: best adkit ({best_name}) TPR@1e-4 {best:.4f} ({round(best * n_sig)}/{n_sig} events) vs "
                       f"best baseline {best_base:.4f} ({round(best_base * n_sig)}/{n_sig}) → "
                       f"{'beats' if best > best_base else 'does NOT beat'}")
    if_a4l = results["baseline sklearn IF"]["metrics"]["signals"]["Ato4l"]["tpr_at_fpr"]["0.0001"]
    for k in ("adkit cvae", "adkit vae", "adkit ae"):
        if k in results:
            v = results[k]["metrics"]["signals"]["Ato4l"]["tpr_at_fpr"]["0.0001"]
            verdict.append(f"Ato4l: {k} TPR@1e-4 {v:.3f} vs sklearn IF {if_a4l:.3f} → {'beats' if v > if_a4l else 'does NOT beat'}")
    times = ", ".join(f"{k} {r['seconds']:.0f} s" for k, r in results.items())
    used = "; ".join(f"{k}: {r['settings']}" for k, r in results.items() if r.get("settings"))
    footer = "\n".join(verdict) + f"\n\nsettings (others default): {used}\nwall time (train + score): {times}\n"
    print(footer)
    latent_text = ""
    if latent:
        latent_text = ("\n## In the latent space of an AE (16 dimensions), quantum and classical side by side\n\n"
                       + table(latent, len(test_p)) + "\nwall time (train + score): "
                       + ", ".join(f"{k[7:]} {r['seconds']:.0f} s" for k, r in latent.items()) + "\n")
        print(latent_text)
    if args.markdown:
        args.markdown.write_text(text + "\n```\n" + footer + "```\n" + latent_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
