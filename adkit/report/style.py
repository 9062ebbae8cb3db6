"""One colour and one label per process, the same in every plot adkit draws.

A name adkit knows (the ADC2021 processes) gets its physics label and a fixed colour; any
other name gets a colour from its own text (a stable hash), so that "my_signal" has the
same colour in the ROC curve, the score histogram and the next run, whatever the order.
"""
from __future__ import annotations

import zlib

LABELS = {
    "background": "background (SM)", "W": "W→ℓν", "Z": "Z→ℓℓ", "ttbar": "tt̄", "QCD": "QCD multijet",
    "Ato4l": "A→4ℓ", "LQtobtau": "LQ→bτ", "h0totautau": "h⁰→ττ", "hchtotaunu": "h±→τν",
}

#: The same labels in matplotlib mathtext (plot fonts lack some Unicode glyphs: ⁰, ℓ).
PLOT_LABELS = {
    "background": "background (SM)", "W": r"$W\to\ell\nu$", "Z": r"$Z\to\ell\ell$", "ttbar": r"$t\bar{t}$",
    "QCD": "QCD multijet", "Ato4l": r"$A\to 4\ell$", "LQtobtau": r"$LQ\to b\tau$", "h0totautau": r"$h^0\to\tau\tau$",
    "hchtotaunu": r"$h^\pm\to\tau\nu$",
}

COLORS = {
    "background": "#555555", "W": "#3f90da", "Z": "#ffa90e", "ttbar": "#bd1f01", "QCD": "#94a4a2",
    "Ato4l": "#e42536", "LQtobtau": "#5790fc", "h0totautau": "#964a8b", "hchtotaunu": "#f89c20",
}
#: Colours for names adkit does not know (the Petroff 10-colour sequence, colour-blind safe).
PALETTE = ["#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6", "#a96b59", "#e76300", "#b9ac70", "#717581",
           "#92dadd"]


def color(name: str) -> str:
    """The colour of a process, the same in every plot and every run."""
    return COLORS.get(name) or PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def label(name: str) -> str:
    """The physics label of a process name; other names as they are."""
    return LABELS.get(name, name)


def plot_label(name: str) -> str:
    """:func:`label` for a matplotlib legend (mathtext; ``$`` in other names escaped)."""
    return PLOT_LABELS.get(name, name.replace("$", r"\$"))


def feature_label(name: str) -> str:
    """An axis label with the physical unit: ``met [GeV]``, ``jet1_pt [GeV]``, ``n_jets``."""
    from adkit.io.schema import DERIVED

    doc = DERIVED.get(name, (None, ""))[1]
    if "[" in doc:
        return f"{name} {doc[doc.index('['):doc.index(']') + 1]}"
    return f"{name} [GeV]" if name.endswith("_pt") else name
