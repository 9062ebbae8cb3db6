"""The gravitational-wave setup of the recurrent-autoencoder papers: efficiency vs SNR at a FAR per year.

``adkit generate --gw`` data (ml4gw: H1 and L1 noise with the Advanced LIGO design PSD, whitened
with an estimated PSD and band-passed 30-500 Hz at 4096 Hz; IMRPhenomD binary black holes and
sine-Gaussian bursts injected at network SNRs 5-50). The LSTM and GRU autoencoders train on H1
noise (window 128 = 31 ms, stride 64); then the hls4ml GRU student (``adkit distill``'s series
student: 8 GRU units, quantized) distils the GRU autoencoder on the same noise. Each model scores
both detectors, and so does the baseline a burst search starts from, excess power (each
window's energy, the sum of its squared whitened samples); the network statistic, the time
slides and the thresholds are :mod:`adkit.workflows.gw`'s.

Printed: the slid background livetime; the thresholds at FARs of 1/hour, 1/day and 1/year; per
signal and SNR the fraction found at each, with 68 % Clopper-Pearson intervals; and for each
injection of SNR >= 15 missed at 1/hour, each detector's loudest score near it. Then hls4ml's C
simulation of the student against the emulation the search scored, bit for bit, on every window
near an injection. Last, ``adkit score --follow`` on the whitened two-channel stream: its
throughput on a written file and its latency when rows arrive at 4096 Hz.

Needs ml4gw (``pip install 'adkit[gw]'``; it needs torch < 2.11, so in its own environment) and
hls4ml (``adkit[fpga]``).

    python benchmarks/gw_search.py [--quick]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_series import streaming_latency

SNRS = (5.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0)


class ExcessPower:
    """The classic burst statistic, as a model: a window's energy, the sum of its squared whitened samples
    (what an excess-power search thresholds; nothing learned)."""

    class spec:
        window, stride, channels = 128, 64, ["h1"]

    @staticmethod
    def score_components(X: np.ndarray) -> dict:
        return {"score": np.square(X, dtype=np.float64).sum(axis=1)}


def firmware_check(student, files: dict, tmp: Path, n_background: int, seed: int) -> None:
    """hls4ml's C simulation of the student against the emulation the search scored with: every window
    within 0.1 s of an injection, and ``n_background`` windows of the background, bit for bit."""
    from adkit.features.windows import window_matrix
    from adkit.firmware.hls import csim_scores, write_project
    from adkit.workflows.gw import read_strain, read_table

    spec = student.spec
    X = []
    for kind in ("bbh", "sg"):
        t, x, rate = read_strain(files[kind])
        peaks = np.rint(read_table(files[f"{kind}_injections"])["time"] * rate).astype(int)
        near = np.unique((peaks[:, None] + np.arange(-int(0.1 * rate), int(0.1 * rate), spec.stride)).ravel())
        starts = np.clip(near - spec.window // 2, 0, len(t) - spec.window)
        X += [window_matrix(x[:, [0]], starts, spec.window), window_matrix(x[:, [1]], starts, spec.window)]
    t, x, _ = read_strain(files["background"])
    starts = np.random.default_rng(seed).integers(0, len(t) - spec.window, n_background)
    X.append(window_matrix(x[:, [0]], starts, spec.window))
    X = np.concatenate(X)
    t0 = time.perf_counter()
    hls_model = write_project(student.detector, tmp / "hls")
    built = time.perf_counter() - t0
    Z = student.scaler.transform(X)
    emulated = student.detector.decision_function(Z)
    assert np.array_equal(emulated, student.score_components(X)["score"])  # what the search scored
    firmware = csim_scores(hls_model, Z)
    print(f"hls4ml C simulation of the student (project written and compiled in {built:.0f} s): "
          f"{int((firmware != emulated).sum())} of {len(X):,} windows differ from the emulation the search scored "
          f"(every window within 0.1 s of an injection, in both detectors, and {n_background:,} of background)")


def missed_loud(loudest: dict, threshold: float, snr: float = 15.0) -> None:
    """The injections of network SNR >= ``snr`` missed at ``threshold``: each detector's loudest score near
    the peak (a signal loud in one detector only fails the coincidence)."""
    rows = [(kind, d["snr"][i], d["h1"][i], d["l1"][i]) for kind, d in loudest.items()
            for i in np.flatnonzero((d["snr"] >= snr) & (d["network"] <= threshold))]
    one = sum(max(h, lo) > threshold >= min(h, lo) for _, _, h, lo in rows)
    print(f"\nmissed at FAR 1/hour with network SNR >= {snr:g}: {len(rows)}; of them loud enough in one detector "
          f"only: {one}" + "".join(f"\n  {k} SNR {s:g}: H1 {h + 0.0:.3g}, L1 {lo + 0.0:.3g} (threshold {threshold:.4g})"
                                   for k, s, h, lo in rows))


def follow_throughput(model, cols: dict, tmp: Path, seconds: float) -> None:
    """``follow`` on a complete CSV of ``seconds`` of both channels: windows scored per second of wall time."""
    from adkit.workflows.stream import follow

    n = int(seconds * 4096)
    path = tmp / "stream.csv"
    with open(path, "w") as fh:
        fh.write("time,h1,l1\n")
        np.savetxt(fh, np.column_stack([cols["time"][:n], cols["h1"][:n], cols["l1"][:n]]), delimiter=",",
                   fmt=["%.9f", "%.6g", "%.6g"])
    expected = (n - model.spec.window) // model.spec.stride + 1
    t0 = time.perf_counter()
    got = sum(1 for _ in follow(model, path, poll=0.005, max_windows=expected))
    sec = time.perf_counter() - t0
    print(f"`adkit score --follow` ({model.detector.name}, 2 channels, window {model.spec.window}, stride "
          f"{model.spec.stride}) on {seconds:g} s already written: {got:,} windows in {sec:.2f} s = "
          f"{n / sec:,.0f} samples per channel per s, {n / sec / 4096:.1f}x real time at 4096 Hz")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, 1 epoch: checks that it runs (a test runs this)")
    ap.add_argument("--train-seconds", type=float, default=240.0)
    ap.add_argument("--background-seconds", type=float, default=2000.0)
    ap.add_argument("--per-snr", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    try:
        import ml4gw  # noqa: F401
    except ImportError as e:
        print(f"ml4gw is not installed ({e}): pip install 'adkit[gw]' in an environment with torch < 2.11")
        return 0
    import torch

    torch.set_num_threads(2)
    from adkit.distill.series import distill_series
    from adkit.metrics import efficiency_cell
    from adkit.workflows.gw import read_strain, search, write_gw
    from adkit.workflows.series import train_series

    if args.quick:
        args.train_seconds, args.background_seconds, args.per_snr, args.epochs = 20.0, 30.0, 2, 1
    snrs = SNRS[::3] if args.quick else SNRS
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        files = write_gw(Path(tmp) / "gw", seconds=args.background_seconds, snrs=snrs, per_snr=args.per_snr,
                         seed=args.seed, train_seconds=args.train_seconds, say=lambda s: None)
        print(f"generated in {time.perf_counter() - t0:.0f} s: {args.train_seconds:g} s of training noise, "
              f"{args.background_seconds:g} s of background, {args.per_snr} injections per SNR "
              f"({', '.join(f'{s:g}' for s in snrs)}) of each kind; seed {args.seed}")
        models = {}
        for name in ("lstm-ae", "gru-ae"):
            t0 = time.perf_counter()
            models[name] = train_series(name, [files["train"]], channels=["h1"], window=128, stride=64,
                                        epochs=args.epochs, seed=args.seed)
            print(f"{name}: {models[name].provenance['windows']:,} training windows, {args.epochs} epochs, "
                  f"{time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        student, info = distill_series(models["gru-ae"], [files["train"]], cell="gru",
                                       epochs=2 if args.quick else 30, seed=args.seed)
        models["gru student (hls4ml)"] = student
        rnn = info["cost"]["layers"]["rnn"]
        print(f"gru student: {rnn['shape'][1]} GRU units over {rnn['steps']} steps, {info['cost']['parameters']} "
              f"parameters, weights {rnn['weight']}; correlation with the teacher's score on its training windows "
              f"{info['train_correlation']:.3f}; {time.perf_counter() - t0:.0f} s")
        models["excess power (baseline)"] = ExcessPower()
        injections = {kind: (files[kind], files[f"{kind}_injections"]) for kind in ("bbh", "sg")}
        for name, model in models.items():
            t0 = time.perf_counter()
            r = search(model, files["background"], injections)
            bg = r["background"]
            print(f"\n### {name}\n\nbackground: {bg['seconds']:g} s, {bg['slides']:,} slides of {bg['slide_s'] * 1000:.0f} ms"
                  f" = {bg['livetime_years']:.2f} years; {bg['triggers']:,} slid triggers above the floor "
                  f"{bg['floor']:.3g}; searched in {time.perf_counter() - t0:.0f} s")
            thr = r["thresholds"]
            print("thresholds: " + "; ".join(f"FAR {k}: " + ("not reached" if v is None else f"{v['threshold']:.4g}")
                                              for k, v in thr.items()))
            print("\n| signal | network SNR | " + " | ".join(f"found at FAR {k}" for k in thr) + " |")
            print("|---|---|" + "---|" * len(thr))
            for kind, rows in r["injections"].items():
                for snr, row in rows.items():
                    print(f"| {kind} | {snr} | " + " | ".join(efficiency_cell(row[k]) if row[k] else "-" for k in thr) + " |", flush=True)
            if thr["1/hour"] is not None:
                missed_loud(r["loudest"], thr["1/hour"]["threshold"])
        print()
        firmware_check(student, files, Path(tmp), 200 if args.quick else 2000, args.seed)
        t, x, _ = read_strain(files["background"])
        cols = {"time": t, "h1": x[:, 0], "l1": x[:, 1]}
        stream = train_series("gru-ae", [files["train"]], window=128, stride=64, epochs=1, seed=args.seed)
        print()
        follow_throughput(stream, cols, Path(tmp), 5.0 if args.quick else 60.0)
        streaming_latency(stream, x, t, Path(tmp), 20 if args.quick else 200)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
