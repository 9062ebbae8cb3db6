"""A two-detector gravitational-wave search with a recurrent autoencoder (needs ml4gw).

    python examples/gw_search.py [--small]

The library calls behind ``adkit generate --gw`` and docs/gw.md: whitened H1 and L1 strain with
BBH and sine-Gaussian injections (ml4gw), a GRU autoencoder trained on H1 noise, and the search:
coincident scores in both detectors, thresholds at false-alarm rates from time slides, and the
fraction of injections found per network SNR. ml4gw needs torch < 2.11: ``pip install
'adkit[gw]'`` in its own environment; without it this prints that and stops.
"""
from __future__ import annotations

import argparse
import importlib.util
import tempfile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="60 s of noise, one epoch")
    args = ap.parse_args()
    if importlib.util.find_spec("ml4gw") is None:
        print("this example needs ml4gw: pip install 'adkit[gw]' (in an environment with torch < 2.11)")
        return
    from adkit.workflows.gw import search, write_gw
    from adkit.workflows.series import train_series

    seconds = 60.0 if args.small else 600.0
    with tempfile.TemporaryDirectory() as tmp:
        files = write_gw(tmp, seconds=seconds, snrs=(8.0, 20.0), per_snr=5 if args.small else 20)
        model = train_series("gru-ae", [files["train"]], channels=["h1"], window=128, stride=64,
                             epochs=1 if args.small else 5)
        result = search(model, files["background"], {"bbh": (files["bbh"], files["bbh_injections"]),
                                                     "sg": (files["sg"], files["sg_injections"])})
    bg = result["background"]
    print(f"background: {bg['slides']:,} time slides of {bg['seconds']:g} s = {bg['livetime_s'] / 86400:.1f} days")
    for far, thr in result["thresholds"].items():
        print(f"FAR {far}: " + ("not measurable with this livetime" if thr is None else f"threshold {thr['threshold']:.3g}"))
    for kind, rows in result["injections"].items():
        for snr, row in rows.items():
            e = row["1/hour"]
            print(f"{kind} at network SNR {snr}: found at 1/hour "
                  + ("-" if e is None else f"{e['passed']}/{e['total']} [{e['interval'][0]:.2f}-{e['interval'][1]:.2f}]"))


if __name__ == "__main__":
    main()
