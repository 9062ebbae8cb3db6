"""Variational autoencoder: compare the KL-divergence and the reconstruction scores.

    python examples/vae_scores.py [--small]

The KL score needs only the encoder, which is why Level-1 trigger studies prefer it.
"""
from __future__ import annotations

import argparse

from adkit.datasets import SIGNALS, TEST_SEED, background, generate
from adkit.metrics import evaluate_scores
from adkit.workflows import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    n = 20_000 if args.small else 200_000
    model = train("vae", epochs=3 if args.small else 30, n_default=n, params={"beta": 1.0})
    objects = {"background": background(n, TEST_SEED)[0]}
    objects.update({s: generate(s, n // 10, TEST_SEED) for s in SIGNALS})
    comps = {k: model.score_components(o[:, :, :3].reshape(len(o), -1)) for k, o in objects.items()}
    print(f"{'signal':12s} {'AUC kl':>8s} {'AUC reco':>9s} {'TPR@10kHz kl':>13s} {'TPR@10kHz reco':>15s}")
    res = {kind: evaluate_scores(comps["background"][kind], {s: comps[s][kind] for s in SIGNALS}, rates_khz=(10.0,))
           for kind in ("kl", "reco")}
    for s in SIGNALS:
        kl, reco = res["kl"]["signals"][s], res["reco"]["signals"][s]
        print(f"{s:12s} {kl['auc']:8.3f} {reco['auc']:9.3f} {kl['tpr_at_rate_khz']['10']:13.4f} "
              f"{reco['tpr_at_rate_khz']['10']:15.4f}")
    model.save("vae.adkit", overwrite=True)


if __name__ == "__main__":
    main()
