"""Embedded sensor demo data: deterministic generators for the time-series tutorial and tests.

``gw``: two interferometer-like channels at ``rate`` Hz of coloured Gaussian noise (a 1/f²
low-frequency wall over a white floor, independent per channel), with injected astrophysical
transients seen in both channels with a few-ms delay (sine-Gaussian bursts and chirps rising
in frequency; label 1) and instrumental glitches in one channel only (short, loud blips;
label 2).

``rates``: the trigger-rate monitoring case of Pol et al.: one sample a second through LHC-like
fills (luminosity decaying exponentially, gaps between fills carry no samples), pile-up ∝
luminosity, and six trigger paths whose rates are cross-section × luminosity plus noise.
Injected faults (label 1): a dead path, a rate jump on one path, and a noisy path.

Both return a column dict (``time``, channels, ``is_anomaly``; ``lumi``/``pileup`` for
rates) that :func:`adkit.io.series.read_series` takes as ``sensor-demo`` / ``sensor-demo:rates``.
"""
from __future__ import annotations

import numpy as np

GW_SECONDS, GW_RATE = 300.0, 2048.0


def coloured_noise(n: int, rate: float, rng: np.random.Generator, f_knee: float = 8.0) -> np.ndarray:
    """Gaussian noise with PSD ∝ (f_knee/f)² + 1, unit variance."""
    spec = rng.normal(size=n // 2 + 1) + 1j * rng.normal(size=n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / rate)
    f[0] = f[1]
    x = np.fft.irfft(spec * np.sqrt((f_knee / f) ** 2 + 1.0), n)
    return (x / x.std()).astype(np.float32)


def gw(seconds: float = GW_SECONDS, rate: float = GW_RATE, seed: int = 1, n_transients: int | None = None,
       n_glitches: int | None = None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 101])
    n = int(seconds * rate)
    t = np.arange(n) / rate
    h1, l1 = coloured_noise(n, rate, rng), coloured_noise(n, rate, rng)
    labels = np.zeros(n, dtype=np.int8)
    n_transients = n_transients if n_transients is not None else max(1, int(seconds / 15))
    n_glitches = n_glitches if n_glitches is not None else max(1, int(seconds / 30))
    centres = np.sort(rng.uniform(1.0, seconds - 1.0, n_transients + n_glitches))
    rng.shuffle(centres)
    def near(tc: float, half: float) -> slice:  # the rows within ±half of tc (t is uniform)
        return slice(max(0, int((tc - half) * rate)), min(n, int((tc + half) * rate) + 1))

    for k, tc in enumerate(centres):
        if k < n_transients:
            width = rng.uniform(0.02, 0.08)
            if k % 2 == 0:  # sine-Gaussian burst
                f0 = rng.uniform(60, 250)
                shape = lambda tt, f0=f0, w=width: np.exp(-0.5 * (tt / w) ** 2) * np.sin(2 * np.pi * f0 * tt)
            else:  # chirp: frequency rising towards the merger
                f0, f1 = rng.uniform(40, 80), rng.uniform(200, 400)
                shape = lambda tt, f0=f0, f1=f1, w=width: (np.exp(-0.5 * (tt / w) ** 2)
                                                           * np.sin(2 * np.pi * (f0 + (f1 - f0) * (tt / w + 3) / 6) * tt))
            amp = rng.uniform(0.6, 2.0)
            delay = rng.uniform(-0.01, 0.01)
            sel = near(tc, 4 * width)
            h1[sel] += amp * shape(t[sel] - tc)
            l1[sel] += amp * rng.uniform(0.6, 1.0) * shape(t[sel] - tc - delay)
            labels[near(tc, 2.5 * width)] = 1
        else:  # glitch: one channel, a few ms, loud
            width = rng.uniform(0.002, 0.006)
            sel = near(tc, 5 * width)
            blip = rng.uniform(3, 8) * np.exp(-0.5 * ((t[sel] - tc) / width) ** 2) * np.cos(2 * np.pi * 300 * (t[sel] - tc))
            (h1 if rng.uniform() < 0.5 else l1)[sel] += blip
            labels[near(tc, 3 * width)] = 1  # labels are 0/1, as adkit's readers require of files
    return {"time": t, "h1": h1, "l1": l1, "is_anomaly": labels}


def rates(hours: float = 24.0, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 202])
    fill_s, gap_s = 6 * 3600, 1800
    times, lumi = [], []
    t0 = 0.0
    while t0 < hours * 3600:
        dur = min(fill_s, hours * 3600 - t0)
        tt = np.arange(0, dur, 1.0)
        peak = rng.uniform(1.6, 2.1)  # 1e34 cm-2 s-1
        times.append(t0 + tt)
        lumi.append(peak * np.exp(-tt / rng.uniform(8, 14) / 3600))
        t0 += fill_s + gap_s
    t = np.concatenate(times)
    L = np.concatenate(lumi).astype(np.float64)
    pileup = 33.0 * L + rng.normal(0, 0.5, len(L))
    xsec = np.array([12.0, 7.5, 4.0, 2.2, 1.1, 0.6]) * 1e3  # Hz per 1e34
    nonlinear = np.array([0.0, 0.02, 0.05, 0.0, 0.08, 0.03])  # pile-up dependence of some paths
    paths = xsec[None, :] * L[:, None] * (1 + nonlinear[None, :] * (pileup[:, None] - 40) / 40)
    paths = rng.poisson(np.clip(paths, 0, None)).astype(np.float32)
    labels = np.zeros(len(t), dtype=np.int8)
    n = len(t)
    faults = [("dead", 1), ("jump", 3), ("noisy", 4)]
    for k, (kind, path) in enumerate(faults):
        a = int(n * (0.2 + 0.25 * k) + rng.integers(0, n // 20))
        b = a + int(rng.uniform(600, 1800))
        if kind == "dead":
            paths[a:b, path] = 0
        elif kind == "jump":
            paths[a:b, path] *= 1.5
        else:
            paths[a:b, path] += rng.normal(0, 0.3 * paths[a:b, path].mean(), b - a).astype(np.float32)
        labels[a:b] = 1
    out = {"time": t, "lumi": L.astype(np.float32), "pileup": pileup.astype(np.float32)}
    out.update({f"path{i}": paths[:, i] for i in range(paths.shape[1])})
    out["is_anomaly"] = labels
    return out


def write_gw_csv(path, seconds: float = 30.0, seed: int = 1) -> str:
    """``seconds`` of the ``gw`` demo as a CSV file (time, h1, l1, is_anomaly): a small series file for
    examples and quick runs. Writes ``path`` only if it does not exist."""
    from pathlib import Path

    cols = gw(seconds=seconds, seed=seed)
    with open(Path(path), "x", encoding="utf-8") as fh:  # never replaces a file
        np.savetxt(fh, np.column_stack([cols[k] for k in ("time", "h1", "l1", "is_anomaly")]), delimiter=",",
                   header="time,h1,l1,is_anomaly", comments="", fmt=["%.6f", "%.6g", "%.6g", "%d"])
    return str(path)


def demo(name: str, seed: int = 1) -> dict[str, np.ndarray]:
    """The columns of an embedded demo series: ``sensor-demo`` (= ``:gw``) or ``sensor-demo:rates``."""
    return rates(seed=seed) if name.endswith(":rates") else gw(seed=seed)
