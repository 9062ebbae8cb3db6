"""Embedded default data: a deterministic generator of ADC2021-layout events, and writers.

``adkit train`` with no ``--data`` trains on :func:`default_background`; ``adkit evaluate``
with no ``--background``/``--signal`` uses an independent background sample and the four
benchmark signals. ``adkit generate -o DIR`` writes them as ``.h5`` and NanoAOD-like ``.root``.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from adkit.datasets.generator import BACKGROUND_SHARES, PROCESSES, SIGNALS, background, generate
from adkit.io.writers import atomic_output

__all__ = ["BACKGROUND_SHARES", "PROCESSES", "SIGNALS", "background", "generate", "default_background",
           "write_particles_h5", "write_nanoaod_root", "write_dataset", "embedded_test_set", "TRAIN_SEED", "TEST_SEED"]

TRAIN_SEED, TEST_SEED = 0, 1
DEFAULT_TRAIN_EVENTS, DEFAULT_TEST_EVENTS, DEFAULT_SIGNAL_EVENTS = 200_000, 200_000, 20_000


def default_background(n: int = DEFAULT_TRAIN_EVENTS, seed: int = TRAIN_SEED) -> np.ndarray:
    """The embedded training background (``Particles`` float32[n, 19, 4])."""
    return background(n, seed)[0]


def embedded_test_set(n_background: int | None = None, signals=None) -> dict[str, np.ndarray]:
    """The embedded evaluation events as objects (pT, eta, phi): an independent background sample
    (seed TEST_SEED) and each signal. With ``n_background`` given, signals get a tenth as many
    (at least 1,000); by default DEFAULT_TEST_EVENTS and DEFAULT_SIGNAL_EVENTS."""
    nb = n_background or DEFAULT_TEST_EVENTS
    ns = max(nb // 10, 1000) if n_background else DEFAULT_SIGNAL_EVENTS
    out = {"background": background(nb, TEST_SEED)[0][:, :, :3]}
    for s in (signals or SIGNALS):
        out[s] = generate(s, ns, TEST_SEED)[:, :, :3]
    return out


#: Events generated and written at a time by :func:`write_dataset` (memory stays bounded for any --events).
BLOCK_EVENTS = 500_000


def _blocks(particles: np.ndarray | Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    return [particles] if isinstance(particles, np.ndarray) else particles


def write_particles_h5(path: str | Path, particles, overwrite: bool = False,
                       compression: str | None = "gzip", attrs: dict | None = None) -> Path:
    """ADC2021 layout: ``Particles`` (N, 19, 4) plus ``Particles_Classes`` / ``Particles_Names``.
    ``particles``: one array, or an iterable of blocks written one after the other; ``attrs``:
    provenance stored on the file."""
    import h5py

    with atomic_output(path, overwrite) as tmp, h5py.File(tmp, "w") as h5:
        ds = None
        for block in _blocks(particles):
            if ds is None:
                ds = h5.create_dataset("Particles", shape=(0, 19, 4), maxshape=(None, 19, 4), dtype=block.dtype,
                                       chunks=(min(max(len(block), 1), 2500), 19, 4), compression=compression)
            ds.resize(len(ds) + len(block), axis=0)
            ds[len(ds) - len(block):] = block
        h5.create_dataset("Particles_Classes", data=np.array([b"MET_class_1", b"Four_Ele_class_2",
                                                                b"Four_Mu_class_3", b"Ten_Jet_class_4"]))
        h5.create_dataset("Particles_Names", data=np.array([b"Pt", b"Eta", b"Phi", b"Class"]))
        h5.attrs.update(attrs or {})
    return Path(path)


def write_nanoaod_root(path: str | Path, particles, overwrite: bool = False, basket: int = 50_000) -> Path:
    """A NanoAOD-like flat tree ``Events``: MET_pt/phi, nElectron, Electron_pt/eta/phi, Muon_*, Jet_*.
    ``particles``: one array, or an iterable of blocks written one after the other."""
    import uproot

    with atomic_output(path, overwrite) as tmp:
        with uproot.recreate(tmp) as f:
            tree = None
            for block in _blocks(particles):
                branches = _nanoaod_branches(block)
                if tree is None:
                    types = {k: v.type if hasattr(v, "layout") else v.dtype for k, v in branches.items()}
                    tree = f.mktree("Events", types, counter_name=lambda name: f"n{name}",
                                    field_name=lambda outer, inner: f"{outer}_{inner}")
                for start in range(0, len(block), basket):  # many baskets, so readers can stream
                    tree.extend({k: v[start:start + basket] for k, v in branches.items()})
    return Path(path)


def _nanoaod_branches(particles: np.ndarray) -> dict:
    import awkward as ak

    branches: dict = {"MET_pt": particles[:, 0, 0], "MET_phi": particles[:, 0, 2]}
    for name, rows in (("Electron", slice(1, 5)), ("Muon", slice(5, 9)), ("Jet", slice(9, 19))):
        block = particles[:, rows]
        present = block[:, :, 0] > 0
        counts = present.sum(axis=1)
        fields = {f: ak.unflatten(block[:, :, i][present], counts) for i, f in enumerate(("pt", "eta", "phi"))}
        branches[name] = ak.zip(fields)
    return branches


def write_dataset(outdir: str | Path, n_background: int = DEFAULT_TEST_EVENTS, n_signal: int = DEFAULT_SIGNAL_EVENTS,
                  seed: int = TEST_SEED, formats: tuple[str, ...] = ("h5", "root"), overwrite: bool = False) -> list[Path]:
    """Write ``background`` and the four signals into ``outdir`` in the given formats."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, n in [("background", n_background)] + [(s, n_signal) for s in SIGNALS]:
        one = list(sample_blocks(name, n, seed)) if n <= BLOCK_EVENTS else None  # generated once for both formats
        for fmt, writer in (("h5", write_particles_h5), ("root", write_nanoaod_root)):
            if fmt in formats:
                written.append(writer(out / f"{name}.{fmt}", one or sample_blocks(name, n, seed), overwrite))
    return written


def sample_blocks(name: str, n: int, seed: int):
    """``n`` events of ``background`` or a signal in blocks of at most BLOCK_EVENTS: the first block is
    exactly ``background(k, seed)`` / ``generate(name, k, seed)``, block i > 0 uses seed ``[seed, i]``
    folded to an integer; the same seed gives the same events."""
    for i, start in enumerate(range(0, max(n, 1), BLOCK_EVENTS)):
        k = min(BLOCK_EVENTS, n - start)
        s = seed if i == 0 else int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
        yield background(k, s)[0] if name == "background" else generate(name, k, s)
