"""Two-detector gravitational-wave strain for the recurrent autoencoders' setup, made with ml4gw.

    from adkit.datasets.gw import background, injections
    h = background(600.0, seed=1)                         # whitened, band-passed H1 and L1 noise
    s, table = injections("bbh", [4, 8, 16], 50, seed=2)  # the same noise with BBH signals

The noise of each detector (LIGO Hanford H1 and Livingston L1) is stationary Gaussian noise with
the Advanced LIGO design sensitivity (:func:`aligo_psd`), drawn independently per detector. Every
stream is whitened as a search whitens it: the PSD is estimated by ml4gw's ``SpectralDensity``
(median of 2 s Welch segments) on 64 s of noise of the same detector, and ml4gw's ``Whiten``
divides by it and band-passes ``F_LOW``–``F_HIGH`` Hz; ``FDURATION / 2`` s at each end are cut (the
filter's settle-in). Signals (ml4gw's waveforms):

- ``bbh``: IMRPhenomD binary black holes, component masses uniform in 20–50 M☉, no spin, at a
  uniformly random sky position, polarisation, inclination and phase;
- ``sg``: sine-Gaussian bursts, quality factor 5–20, central frequency 50–400 Hz, eccentricity 0–1;

projected onto H1 and L1 with ml4gw's antenna patterns and light-travel delays and scaled to a
chosen network SNR (``reweight_snrs``, against the design PSD from ``F_LOW``) before whitening.
Installed with ``pip install 'adkit[gw]'`` (ml4gw needs torch < 2.11).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RATE, F_LOW, F_HIGH = 4096.0, 30.0, 500.0
#: the whitening filter's length (s): half of it is cut at each end of a stream
FDURATION = 1.0
#: seconds of noise each detector's PSD is estimated on, and the Welch segment length
PSD_SECONDS, FFTLENGTH = 64.0, 2.0
#: seconds between injections in a stream and where in its slot the signal peaks
SPACING = 4.0
IFOS = ("H1", "L1")
KINDS = ("bbh", "sg")


def aligo_psd(f: np.ndarray) -> np.ndarray:
    """One-sided strain PSD (1/Hz) of Advanced LIGO at design sensitivity (zero-detuned, high power):
    the analytic fit of Ajith, Phys. Rev. D 84, 084037 (2011), Eq. (4.7), with x = f / 215 Hz:
    S(f) = 1e-49 [x^-4.14 - 5 x^-2 + 111 (1 - x^2 + x^4 / 2) / (1 + x^2 / 2)]; held at its 10 Hz
    value below 10 Hz (the seismic wall; whitening removes that band)."""
    x = np.maximum(np.asarray(f, dtype=np.float64), 10.0) / 215.0
    return 1e-49 * (x ** -4.14 - 5.0 * x ** -2 + 111.0 * (1.0 - x ** 2 + x ** 4 / 2.0) / (1.0 + x ** 2 / 2.0))


def coloured_noise(n: int, rng: np.random.Generator, rate: float = RATE) -> np.ndarray:
    """``n`` samples of Gaussian noise with one-sided PSD :func:`aligo_psd` (E|X_k|² = n·rate·S/2)."""
    f = np.fft.rfftfreq(n, 1.0 / rate)
    amp = np.sqrt(aligo_psd(f) * n * rate / 4.0)
    spec = amp * (rng.normal(size=len(f)) + 1j * rng.normal(size=len(f)))
    spec[0] = spec[-1] = 0.0
    return np.fft.irfft(spec, n)


def _whiten(raw: np.ndarray, psd_noise: np.ndarray, rate: float) -> np.ndarray:
    """(2, n) raw strain → (2, n - FDURATION·rate) whitened, band-passed, unit variance (ml4gw)."""
    import torch
    from ml4gw.transforms import SpectralDensity, Whiten

    psd = SpectralDensity(rate, FFTLENGTH, average="median")(torch.from_numpy(psd_noise)[None])[0]
    white = Whiten(FDURATION, rate, highpass=F_LOW, lowpass=F_HIGH)(torch.from_numpy(raw)[None], psd)[0]
    return white.numpy()


def _streams(seconds: float, rng: np.random.Generator, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(raw strain of ``seconds`` plus the whitening margins, the separate noise its PSD is estimated on)."""
    n = round((seconds + FDURATION) * rate)
    raw = np.stack([coloured_noise(n, rng, rate) for _ in IFOS])
    psd_noise = np.stack([coloured_noise(int(PSD_SECONDS * rate), rng, rate) for _ in IFOS])
    return raw, psd_noise


def _columns(white: np.ndarray, rate: float) -> dict[str, np.ndarray]:
    return {"time": np.arange(white.shape[1]) / rate, "h1": white[0].astype(np.float32),
            "l1": white[1].astype(np.float32)}


def background(seconds: float, seed: int = 1, rate: float = RATE) -> dict[str, np.ndarray]:
    """Whitened two-detector noise: columns ``time`` (s), ``h1``, ``l1`` (unit variance)."""
    raw, psd_noise = _streams(seconds, np.random.default_rng([seed, 401]), rate)
    return _columns(_whiten(raw, psd_noise, rate), rate)


def _polarisations(kind: str, n: int, rng: np.random.Generator, rate: float) -> tuple[object, object, dict]:
    """(cross, plus) of ``n`` signals of ``kind`` (torch, float64, SPACING s long) and their parameters."""
    import torch

    t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))
    if kind == "sg":
        from ml4gw.waveforms import SineGaussian

        p = {"quality": rng.uniform(5, 20, n), "frequency": rng.uniform(50, 400, n), "hrss": np.full(n, 1e-22),
             "phase": rng.uniform(0, 2 * np.pi, n), "eccentricity": rng.uniform(0, 1, n)}
        cross, plus = SineGaussian(rate, SPACING)(**{k: t(v) for k, v in p.items()})
        return cross, plus, p
    from ml4gw.waveforms import IMRPhenomD
    from ml4gw.waveforms.generator import TimeDomainCBCWaveformGenerator

    m1, m2 = rng.uniform(20, 50, n), rng.uniform(20, 50, n)
    m1, m2 = np.maximum(m1, m2), np.minimum(m1, m2)
    zero = np.zeros(n)
    p = {"mass_1": m1, "mass_2": m2, "chirp_mass": (m1 * m2) ** 0.6 / (m1 + m2) ** 0.2, "mass_ratio": m2 / m1,
         "s1z": zero, "s2z": zero, "chi1": zero, "chi2": zero, "distance": np.full(n, 500.0),
         "phic": rng.uniform(0, 2 * np.pi, n), "inclination": np.arccos(rng.uniform(-1, 1, n))}
    # the coalescence SPACING/2 from the end of the slot
    gen = TimeDomainCBCWaveformGenerator(IMRPhenomD(), rate, SPACING, f_min=20.0, f_ref=20.0, right_pad=SPACING / 2)
    cross, plus = gen(**{k: t(v) for k, v in p.items()})
    return cross, plus, p


def injections(kind: str, snrs: Sequence[float], per_snr: int, seed: int = 2,
               rate: float = RATE) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Whitened two-detector noise with ``per_snr`` signals of ``kind`` at each network SNR of ``snrs``,
    one in every SPACING s slot. Returns the columns (as :func:`background`)
    and the injection table: ``time`` (s: the sample of largest network strain, the merger of a BBH), ``snr``, sky position and the waveform's parameters."""
    import torch
    from ml4gw.gw import compute_observed_strain, get_ifo_geometry, reweight_snrs

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng([seed, 402, KINDS.index(kind)])
    snr = np.repeat(np.asarray(snrs, dtype=np.float64), per_snr)
    rng.shuffle(snr)
    n = len(snr)
    raw, psd_noise = _streams(n * SPACING, rng, rate)
    cross, plus, params = _polarisations(kind, n, rng, rate)
    sky = {"dec": np.arcsin(rng.uniform(-1, 1, n)), "psi": rng.uniform(0, np.pi, n), "phi": rng.uniform(0, 2 * np.pi, n)}
    tensors, vertices = get_ifo_geometry(*IFOS)
    resp = compute_observed_strain(**{k: torch.as_tensor(v) for k, v in sky.items()}, detector_tensors=tensors.double(),
                                   detector_vertices=vertices.double(), sample_rate=rate, cross=cross, plus=plus)
    f = np.fft.rfftfreq(resp.shape[-1], 1.0 / rate)
    psd = torch.as_tensor(np.stack([aligo_psd(f)] * len(IFOS)))
    resp = reweight_snrs(resp, torch.as_tensor(snr), psd, rate, highpass=F_LOW).numpy()
    slot = int(SPACING * rate)
    margin = round(FDURATION / 2 * rate)
    for i in range(n):
        raw[:, margin + i * slot: margin + (i + 1) * slot] += resp[i]
    # the peak: the sample of largest network strain (the merger; a burst's centre)
    peak = np.argmax((resp ** 2).sum(axis=1), axis=1)
    table = {"time": (np.arange(n) * slot + peak) / rate, "snr": snr, **sky,
             **{k: np.asarray(v, dtype=np.float64) for k, v in params.items()}}
    return _columns(_whiten(raw, psd_noise, rate), rate), table


__all__ = ["F_HIGH", "F_LOW", "IFOS", "KINDS", "RATE", "aligo_psd", "background", "coloured_noise", "injections"]
