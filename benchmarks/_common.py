"""Helpers shared by the benchmarks: timing and a generated ADC-layout file."""
from __future__ import annotations

import time
from pathlib import Path


def best_of(fn, repeat: int = 3) -> float:
    """Fastest wall time of ``repeat`` runs (seconds)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def adc_file(path: Path, n: int, compression: str | None = None) -> Path:
    from adkit.datasets import background, write_particles_h5

    if not path.exists():
        write_particles_h5(path, background(n, seed=7)[0], compression=compression)
    return path
