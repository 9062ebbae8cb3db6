"""Every registered detector on the embedded data: AUC and TPR at a 10 kHz trigger rate.

    python examples/detector_zoo.py [--small] [--models ae,cvae,svc]

Each detector is trained through the same library call as ``adkit train --detector NAME`` and
evaluated like ``adkit evaluate`` (independent test background, the four benchmark signals).
The latent-space detectors (quantum, tensor network) are trained in the 16-dimensional latent
space of an AE trained first, as ``adkit train --detector qsvm --encoder ae.adkit`` does. The
distilled student and the NPLM models are not standalone detectors, and the sequence models
(lstm-ae, gru-ae, conv-ae) are for time series (examples/sensor_monitoring.py): all are left out.
"""
from __future__ import annotations

import argparse

from adkit.datasets import SIGNALS
from adkit.detectors import available, get
from adkit.workflows import evaluate, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="20k events, 3 epochs (a quick look)")
    ap.add_argument("--models", help="comma-separated detector names (default: all registered)")
    args = ap.parse_args()
    n = 20_000 if args.small else 200_000
    names = args.models.split(",") if args.models else [n for n in available()
                                                                if not get(n).uses_target and not getattr(get(n), "sequence", False)]
    encoder = None
    if any(getattr(get(n), "latent", False) for n in names):
        encoder = train("ae", epochs=3 if args.small else 30, n_default=n, params={"latent_dim": 16})
    print(f"{'detector':10s}" + "".join(f"{s:>22s}" for s in SIGNALS))
    print(f"{'':10s}" + "".join(f"{'AUC  TPR@10kHz':>22s}" for _ in SIGNALS))
    for name in names:
        epochs = 3 if args.small and "epochs" in get(name).param_names() else None
        latent = getattr(get(name), "latent", False)
        model = train(name, epochs=epochs, n_default=n, encoder=encoder if latent else None)
        res = evaluate(model, n_default=n, rates_khz=(10.0,))
        cells = [f"{res['signals'][s]['auc']:.3f}  {res['signals'][s]['tpr_at_rate_khz']['10']:.4f}" for s in SIGNALS]
        print(f"{name:10s}" + "".join(f"{c:>22s}" for c in cells))


if __name__ == "__main__":
    main()
