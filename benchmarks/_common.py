"""Helpers shared by the benchmarks: timing, a generated ADC-layout file, and the hash a page
records with a benchmark's output."""
from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path


def script_hash(script: str | Path) -> str:
    """The first 12 hex digits of the sha256 of ``script`` and of the benchmark modules it imports
    (``from physics import ...``): a page records it with the output, and a test fails when the
    script changed since (docs/generate.py, tests/test_docs.py)."""
    script = Path(script)
    h = hashlib.sha256(script.read_bytes())
    local = sorted(set(re.findall(r"^from (\w+) import", script.read_text(), re.MULTILINE)))
    for name in local:
        dep = script.parent / f"{name}.py"
        if dep.is_file() and dep != script:
            h.update(dep.read_bytes())
    return h.hexdigest()[:12]


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
