"""The library API: what every command does, callable from a notebook.

::

    from adkit.workflows import train, evaluate
    model = train("ae", epochs=5)          # embedded default background (or files, or series)
    result = evaluate(model)               # embedded test background + signals

``train`` and ``evaluate`` take event files, tables and time series alike
(:mod:`adkit.workflows.commands` dispatches them once, on the inputs or on the model). Each ``*_command`` function is one CLI command with its
defaults announced through ``say``.
"""
from adkit.workflows.commands import evaluate, train
from adkit.workflows.encode import encode_files
from adkit.workflows.evaluate import thresholds_from
from adkit.workflows.nplm import nplm
from adkit.workflows.scoring import score_files
from adkit.workflows.series import evaluate_series, score_series, train_series
from adkit.workflows.train import DEFAULT_CONDITIONS, NPLM_FEATURES, default_spec

__all__ = ["DEFAULT_CONDITIONS", "NPLM_FEATURES", "default_spec", "encode_files", "evaluate", "evaluate_series",
           "nplm", "score_files", "score_series", "thresholds_from", "train", "train_series"]
