"""A uniform and a heterogeneously quantized (HGQ) student of the same AE, side by side.

    python examples/compress_student.py [--small]

The library calls behind ``adkit distill --strategy da --quantization hgq``: the HGQ student
learns every weight's bit width (PQuantML's quantizer, ``pip install 'adkit[compress]'``) against
a cost on its bit operations; both students are traced into da4ml adder graphs, checked against
their own quantized scores on held-out events, and their da4ml LUT estimates and kept A→4ℓ
efficiency at 10 kHz (100 kHz with ``--small``, whose 20,000 background events do not resolve
10 kHz) are printed.
"""
from __future__ import annotations

import argparse

import numpy as np

from adkit.datasets import embedded_test_set
from adkit.distill import distill
from adkit.firmware import da
from adkit.metrics import evaluate_scores
from adkit.workflows import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="20k events, few epochs, 57-8-1 students")
    args = ap.parse_args()
    n = 20_000 if args.small else 200_000
    rate = 100.0 if args.small else 10.0
    teacher = train("ae", epochs=3 if args.small else 30, n_default=n)
    events = embedded_test_set(n)
    t = {k: teacher.score_components(teacher.spec.features.compute(o).astype(np.float32), None)["score"]
         for k, o in events.items()}
    ref = evaluate_scores(t["background"], {"Ato4l": t["Ato4l"]}, fprs=(), rates_khz=(rate,))
    t_tpr = ref["signals"]["Ato4l"]["tpr_at_rate_khz"][f"{rate:g}"]
    for name, kw in (("uniform", {}), ("hgq", {"quantization": "hgq", "bit_cost": 1e-5 if args.small else 1e-6})):
        student, info = distill(teacher, n_default=n, hidden=(8,) if args.small else (32, 16),
                                epochs=4 if args.small else 30, batch_size=256 if args.small else 1024,
                                precision=dict(da.AXOL1TL["precision"]), **kw)
        det = student.detector
        Z = {k: student.scaler.transform(student.spec.features.compute(o).astype(np.float32))
             for k, o in events.items()}
        s = {k: det.decision_function(z) for k, z in Z.items()}
        comb = da.trace(det)
        differ = int(np.count_nonzero(da.predict(comb, det, Z["background"]) != s["background"]))
        m = evaluate_scores(s["background"], {"Ato4l": s["Ato4l"]}, fprs=(), rates_khz=(rate,))
        kept = m["signals"]["Ato4l"]["tpr_at_rate_khz"][f"{rate:g}"] / t_tpr if t_tpr > 0 else float("nan")
        print(f"{name}: {info['cost']['multiplications']} non-zero weights, da4ml estimate "
              f"{da.estimate(comb, 6.25)['lut']:,.0f} LUT, graph vs student {differ} of {len(Z['background'])} "
              f"differ, keeps {kept:.2f} of the teacher's A→4ℓ TPR at {rate:g} kHz")


if __name__ == "__main__":
    main()
