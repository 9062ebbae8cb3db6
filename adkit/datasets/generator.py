"""A fast, deterministic event generator in the ADC2021 layout (no external generator).

Each process is built from its physics, vectorised over events with numpy:

* hard process: resonances with Breit-Wigner masses, produced with a transverse recoil
  against initial-state-radiation (ISR) jets and a rapidity spread, decayed isotropically
  in their rest frame and boosted to the lab (real two-body kinematics, so Jacobian peaks,
  back-to-back leptons and the W transverse mass come out right);
* tau leptons decay to e/mu (35 %) or a hadronic tau jet (65 %), the visible part taking a
  fraction of the tau momentum, the rest going to neutrinos;
* QCD is a 2 → 2 parton spectrum falling as pT^-n above pT-hat 20 GeV plus extra radiation;
* a simple detector: acceptance and thresholds of the L1 view (e: pT > 3, |eta| < 3;
  mu: pT > 3, |eta| < 2.1; jets: pT > 15, |eta| < 4), Gaussian pT resolution, lepton
  efficiencies, and MET from neutrinos plus the mismeasured hadronic activity.

The outputs are validated against the Pythia 8 sample in ``tests/data/pythia`` by
per-feature Wasserstein distances (see ``tests/test_datasets.py`` and docs/datasets.md).
"""
from __future__ import annotations

import numpy as np

from adkit.io.schema import CLASS_CODES, DEFAULT_MULTIPLICITIES

M_W, G_W, M_Z, G_Z, M_T, G_T, M_TAU = 80.38, 2.09, 91.19, 2.50, 172.5, 1.4, 1.777
BACKGROUND_SHARES = {"W": 0.592, "QCD": 0.338, "Z": 0.067, "ttbar": 0.003}
SIGNALS = ("Ato4l", "LQtobtau", "h0totautau", "hchtotaunu")
PROCESSES = tuple(BACKGROUND_SHARES) + SIGNALS

# lepton flavour codes used inside the generator
E, MU, TAU, HAD = 0, 1, 2, 3


# --- four-vector helpers (arrays of shape (n, 4): E, px, py, pz) ---------------------------

def _p4(pt, eta, phi, m=0.0):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return np.stack([np.sqrt(px ** 2 + py ** 2 + pz ** 2 + np.square(m)), px, py, pz], axis=-1)


def _resonance(rng, mass, px, py, y_sigma):
    """A particle of given mass and transverse momentum with Gaussian rapidity."""
    y = rng.normal(0.0, y_sigma, len(mass))
    mt = np.sqrt(mass ** 2 + px ** 2 + py ** 2)
    return np.stack([mt * np.cosh(y), px, py, mt * np.sinh(y)], axis=-1)


def _boost(p, parent):
    """Boost four-vectors ``p`` from the rest frame of ``parent`` to the lab."""
    b = parent[:, 1:] / parent[:, :1]
    b2 = np.clip((b ** 2).sum(1), 0, 1 - 1e-12)
    g = 1.0 / np.sqrt(1.0 - b2)
    bp = (b * p[:, 1:]).sum(1)
    coef = np.where(b2 > 0, (g - 1.0) * bp / np.where(b2 > 0, b2, 1.0), 0.0) + g * p[:, 0]
    return np.concatenate([(g * (p[:, 0] + bp))[:, None], p[:, 1:] + coef[:, None] * b], axis=1)


def _decay2(rng, parent, m1, m2):
    """Isotropic two-body decay of ``parent`` into masses m1, m2 (arrays or floats)."""
    n = len(parent)
    M = np.sqrt(np.clip(parent[:, 0] ** 2 - (parent[:, 1:] ** 2).sum(1), 1e-6, None))
    m1, m2 = np.broadcast_to(m1, (n,)), np.broadcast_to(m2, (n,))
    q = np.sqrt(np.clip((M ** 2 - (m1 + m2) ** 2) * (M ** 2 - (m1 - m2) ** 2), 0, None)) / (2 * M)
    cost, phi = rng.uniform(-1, 1, n), rng.uniform(-np.pi, np.pi, n)
    sint = np.sqrt(1 - cost ** 2)
    d = np.stack([sint * np.cos(phi), sint * np.sin(phi), cost], axis=1) * q[:, None]
    a = np.concatenate([np.sqrt(q ** 2 + m1 ** 2)[:, None], d], axis=1)
    b = np.concatenate([np.sqrt(q ** 2 + m2 ** 2)[:, None], -d], axis=1)
    return _boost(a, parent), _boost(b, parent)


def _bw(rng, n, m, w, lo=None):
    """Breit-Wigner masses, truncated to [max(lo, m - 10 w), m + 10 w]."""
    lo = m - 10 * w if lo is None else max(lo, m - 10 * w)
    u = rng.uniform(np.arctan((lo - m) / (w / 2)), np.arctan(10 * w / (w / 2)), n)
    return m + (w / 2) * np.tan(u)


def _pt_eta_phi(p):
    pt = np.hypot(p[:, 1], p[:, 2])
    eta = np.arcsinh(p[:, 3] / np.where(pt > 0, pt, 1e-9))
    return pt, eta, np.arctan2(p[:, 2], p[:, 1])


class _Event:
    """Accumulates truth-level visible objects and neutrinos of n events."""

    def __init__(self, rng, n):
        self.rng, self.n = rng, n
        self.objs = {"electron": [], "muon": [], "jet": []}
        self.nu = np.zeros((n, 2))
        self.hadronic = np.zeros((n, 2))  # vector sum of hadronic activity not in jets

    def add(self, kind, p, mask=None):
        pt, eta, phi = _pt_eta_phi(p)
        if mask is not None:
            pt = np.where(mask, pt, 0.0)
        self.objs[kind].append(np.stack([pt, eta, phi], axis=1))

    def add_nu(self, p, mask=None):
        v = p[:, 1:3] if mask is None else p[:, 1:3] * mask[:, None]
        self.nu += v

    def add_lepton(self, p, flavour):
        """A charged lepton of flavour E/MU/TAU (taus decay)."""
        self.add("electron", p, flavour == E)
        self.add("muon", p, flavour == MU)
        is_tau = flavour == TAU
        if is_tau.any():
            self.add_tau(p, is_tau)

    def add_tau(self, p, mask):
        rng, n = self.rng, self.n
        u = rng.uniform(size=n)
        mode = np.where(u < 0.178, E, np.where(u < 0.352, MU, HAD))
        x = np.where(mode == HAD, rng.beta(2.2, 1.1, n), rng.beta(1.5, 2.0, n))
        vis = p.copy()
        vis[:, 1:] *= x[:, None]
        vis[:, 0] = np.sqrt((vis[:, 1:] ** 2).sum(1))
        self.add("electron", vis, mask & (mode == E))
        self.add("muon", vis, mask & (mode == MU))
        self.add("jet", vis, mask & (mode == HAD))
        self.add_nu(p - vis, mask)

    def add_w_decay(self, w, leptonic_fraction=1.0):
        """W → l nu (e, mu, tau equally) or → two jets."""
        rng, n = self.rng, self.n
        lep = rng.uniform(size=n) < leptonic_fraction
        flav = rng.integers(0, 3, n)
        a, b = _decay2(rng, w, 0.0, 0.0)
        self.add_lepton(a, np.where(lep, flav, -1))
        self.add_nu(b, lep)
        self.add("jet", a, ~lep)
        self.add("jet", b, ~lep)

    def isr(self, mean, pt_min=10.0, power=2.0):
        """Initial-state radiation jets; returns the recoil (px, py) they give the hard system."""
        rng, n = self.rng, self.n
        k = rng.poisson(mean, n)
        recoil = rng.normal(0.0, 4.0, (n, 2))
        for i in range(int(k.max(initial=0))):
            on = k > i
            pt = pt_min * rng.uniform(size=n) ** (-1.0 / power)
            p = _p4(np.where(on, pt, 0.0), rng.normal(0, 2.4, n), rng.uniform(-np.pi, np.pi, n))
            self.add("jet", p, on)
            recoil -= p[:, 1:3] * on[:, None]
        return recoil

    def particles(self) -> np.ndarray:
        """Detector simulation → ADC2021 ``Particles`` (n, 19, 4)."""
        rng, n = self.rng, self.n
        out = np.zeros((n, 19, 4), dtype=np.float32)
        activity = sum(o[:, 0] for o in self.objs["jet"]) if self.objs["jet"] else np.zeros(n)
        # soft-term and pile-up resolution grows with the hadronic activity
        sigma = np.sqrt(6.5 ** 2 + 0.6 ** 2 * activity)[:, None]
        met = self.nu + self.hadronic + rng.normal(0.0, 1.0, (n, 2)) * sigma
        limits = {"electron": (3.0, 3.0, 0.92, 0.03), "muon": (3.0, 2.1, 0.95, 0.02), "jet": (15.0, 4.0, 1.0, None)}
        row = 1
        for kind, (ptmin, etamax, eff, res) in limits.items():
            k = DEFAULT_MULTIPLICITIES[kind]
            if self.objs[kind]:
                o = np.stack(self.objs[kind], axis=1)  # (n, m, 3)
                pt, eta, phi = o[..., 0], o[..., 1], o[..., 2]
                if kind == "jet":
                    sigma = np.sqrt((1.0 / np.sqrt(np.maximum(pt, 1e-3))) ** 2 + 0.06 ** 2)
                    spt = pt * np.clip(rng.normal(0.95, sigma), 0.05, None)
                    lost = (pt - spt)[..., None] * np.stack([np.cos(phi), np.sin(phi)], -1)
                    met += lost.sum(1)  # MET picks up the jet mismeasurement
                    eta = eta + rng.normal(0, 0.03, eta.shape)
                else:
                    spt = pt * np.clip(rng.normal(1.0, res, pt.shape), 0.5, None)
                ok = (pt > 0) & (spt > ptmin) & (np.abs(eta) < etamax) & (rng.uniform(size=pt.shape) < eff)
                spt = np.where(ok, spt, 0.0)
                order = np.argsort(-spt, axis=1, kind="stable")[:, :k]
                sp, se, sf = (np.take_along_axis(a, order, axis=1) for a in (spt, eta, phi))
                m = min(k, sp.shape[1])
                keep = sp[:, :m] > 0
                out[:, row:row + m, 0] = np.where(keep, sp[:, :m], 0)
                out[:, row:row + m, 1] = np.where(keep, se[:, :m], 0)
                out[:, row:row + m, 2] = np.where(keep, sf[:, :m], 0)
                out[:, row:row + m, 3] = np.where(keep, CLASS_CODES[kind], 0)
            row += k
        out[:, 0, 0] = np.hypot(met[:, 0], met[:, 1])
        out[:, 0, 2] = np.arctan2(met[:, 1], met[:, 0])
        out[:, 0, 3] = CLASS_CODES["met"]
        return out


# --- processes -------------------------------------------------------------------------------

def _w(rng, n):
    ev = _Event(rng, n)
    rec = ev.isr(2.0)
    w = _resonance(rng, _bw(rng, n, M_W, G_W, 50.0), rec[:, 0], rec[:, 1], 2.0)
    ev.add_w_decay(w)
    return ev


def _z(rng, n):
    ev = _Event(rng, n)
    rec = ev.isr(2.4)
    gamma = rng.uniform(size=n) < 0.12  # gamma* continuum above 40 GeV, ~1/m^2
    m = np.where(gamma, 40.0 / (1 - rng.uniform(size=n) * (1 - 40.0 / 200.0)), _bw(rng, n, M_Z, G_Z, 40.0))
    z = _resonance(rng, m, rec[:, 0], rec[:, 1], 2.0)
    a, b = _decay2(rng, z, 0.0, 0.0)
    flav = rng.integers(0, 3, n)
    ev.add_lepton(a, flav)
    ev.add_lepton(b, flav)
    return ev


def _top_pair(rng, n, ev, charged_higgs=False):
    rec = ev.isr(1.6)
    mtt = 2 * M_T + 10 + rng.gamma(2.0, 60.0, n)
    tt = _resonance(rng, mtt, rec[:, 0], rec[:, 1], 1.2)
    t1, t2 = _decay2(rng, tt, _bw(rng, n, M_T, G_T), _bw(rng, n, M_T, G_T))
    for i, t in enumerate((t1, t2)):
        if charged_higgs and i == 0:  # t -> H+ b, H+ -> tau nu
            h, b = _decay2(rng, t, 60.0, 4.8)
            ev.add("jet", b)
            tau, nu = _decay2(rng, h, M_TAU, 0.0)
            ev.add_tau(tau, np.ones(n, bool))
            ev.add_nu(nu)
        else:
            w, b = _decay2(rng, t, _bw(rng, n, M_W, G_W, 50.0), 4.8)
            ev.add("jet", b)
            ev.add_w_decay(w, leptonic_fraction=1 / 3)
    return ev


def _ttbar(rng, n):
    return _top_pair(rng, n, _Event(rng, n))


def _qcd(rng, n, pthat_min=20.0, power=5.0):
    ev = _Event(rng, n)
    pt = pthat_min * rng.uniform(size=n) ** (-1.0 / (power - 1))
    phi = rng.uniform(-np.pi, np.pi, n)
    y1, y2 = rng.normal(0, 1.7, n), rng.normal(0, 1.7, n)
    imbalance = rng.normal(1.0, 0.12, n)
    # out-of-cone radiation: each parton keeps a fraction of its pT inside the jet
    for pts, ph, y in ((pt, phi, y1), (pt * imbalance, phi + np.pi + rng.normal(0, 0.15, n), y2)):
        frac = np.clip(rng.normal(0.84, 0.14, n), 0.3, 1.0)
        ev.add("jet", _p4(pts * frac, y, ph))
        ev.hadronic += (_p4(pts * (1 - frac), y, ph)[:, 1:3]) * rng.uniform(0, 1.0, (n, 1))
    ev.isr(1.2)
    return ev


def _ato4l(rng, n, m_a=50.0):
    ev = _Event(rng, n)
    rec = ev.isr(2.6)
    a = _resonance(rng, np.full(n, m_a), rec[:, 0], rec[:, 1], 2.0)
    m1 = rng.uniform(12.0, m_a - 12.0, n)
    m2 = rng.uniform(4.0, np.maximum(m_a - m1 - 0.5, 4.5), n)
    z1, z2 = _decay2(rng, a, m1, m2)
    for z in (z1, z2):
        flav = rng.integers(0, 2, n)  # e or mu
        l1, l2 = _decay2(rng, z, 0.0, 0.0)
        ev.add_lepton(l1, flav)
        ev.add_lepton(l2, flav)
    return ev


def _lq(rng, n, m_lq=80.0):
    ev = _Event(rng, n)
    rec = ev.isr(1.6)
    pair = _resonance(rng, 2 * m_lq + 5 + rng.gamma(2.0, 35.0, n), rec[:, 0], rec[:, 1], 1.5)
    for lq in _decay2(rng, pair, m_lq, m_lq):
        b, tau = _decay2(rng, lq, 4.8, M_TAU)
        ev.add("jet", b)
        ev.add_tau(tau, np.ones(n, bool))
    return ev


def _h0(rng, n, m_h=60.0):
    ev = _Event(rng, n)
    rec = ev.isr(3.0)
    h = _resonance(rng, np.full(n, m_h), rec[:, 0], rec[:, 1], 2.0)
    for tau in _decay2(rng, h, M_TAU, M_TAU):
        ev.add_tau(tau, np.ones(n, bool))
    return ev


def _hch(rng, n):
    return _top_pair(rng, n, _Event(rng, n), charged_higgs=True)


_MAKERS = {"W": _w, "Z": _z, "ttbar": _ttbar, "QCD": _qcd, "Ato4l": _ato4l, "LQtobtau": _lq,
           "h0totautau": _h0, "hchtotaunu": _hch}


def generate(process: str, n: int, seed: int = 0) -> np.ndarray:
    """``n`` events of one process as ADC2021 ``Particles`` float32[n, 19, 4]."""
    if process not in _MAKERS:
        from adkit.errors import ConfigError, closest

        raise ConfigError(f"unknown process {process!r}; valid: {closest(process, _MAKERS)}")
    rng = np.random.default_rng([seed, PROCESSES.index(process)])
    out = []
    for start in range(0, n, 200_000):  # bounded memory for large n
        out.append(_MAKERS[process](rng, min(200_000, n - start)).particles())
    return np.concatenate(out) if out else np.zeros((0, 19, 4), np.float32)


def background(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ADC2021 Standard-Model mix (W 59.2 %, QCD 33.8 %, Z 6.7 %, ttbar 0.3 %), shuffled.

    Returns ``(particles, process_index)``, process index into ``BACKGROUND_SHARES``.
    """
    counts = np.random.default_rng([seed, 99]).multinomial(n, list(BACKGROUND_SHARES.values()))
    parts = [generate(p, int(k), seed) for p, k in zip(BACKGROUND_SHARES, counts)]
    labels = np.concatenate([np.full(int(k), i, np.int8) for i, k in enumerate(counts)])
    order = np.random.default_rng([seed, 98]).permutation(n)
    return np.concatenate(parts)[order], labels[order]
