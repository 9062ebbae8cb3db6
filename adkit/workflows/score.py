"""``adkit score`` of an event model: one table, or a directory of per-input files
(:mod:`adkit.workflows.scaleout`); the scoring itself is :mod:`adkit.workflows.scoring` (series
scores: :mod:`adkit.workflows.series`)."""
from __future__ import annotations

from pathlib import Path

from adkit.artifact import Model
from adkit.errors import ConfigError
from adkit.workflows.scoring import score_files


def score_events_command(model: Model, *, files, model_path, output, friend, overwrite, executor, workers, scheduler,
                         task_events, fmt, mapping, nan_policy, step, progress: bool, say, strict: bool = False,
                         ood_limit: float | None = None) -> dict:
    """``adkit score`` of an event model: one table, or a directory of per-input files (parallel, resumable)."""
    from adkit.io.writers import SCORE_FORMATS, score_output_path
    from adkit.workflows.config import mapping_from

    parallel = executor == "dask" or scheduler or workers > 1
    to_file = output is not None and Path(output).suffix.lower() in SCORE_FORMATS
    directory = (len(files) > 1 and not to_file) or (output is not None and not to_file and
                                                     (Path(output).is_dir() or str(output).endswith("/")))
    if parallel and not directory and len(files) > 1:
        raise ConfigError("with several inputs and --executor dask/--workers, -o must name a directory "
                          "(each input gets its own score file there)")
    if directory or parallel:
        if strict:
            raise ConfigError("--strict works with the single-table output (one input, or -o FILE.h5); in directory "
                              "mode each file's out-of-range fraction is reported as a warning")
        if friend:
            raise ConfigError("--friend works with the single-table output (one input, or -o FILE.h5)")
        from adkit.workflows.scaleout import score_tasks_command

        return score_tasks_command(model_path, files, output, directory, fmt, overwrite, executor, workers,
                                   scheduler, task_events, mapping, nan_policy, step, progress, say)
    if output is None:
        output = score_output_path(files[0])
        say(f"writing scores to ./{output} (change with -o)")
    summary = score_files(model, files, output, mapping=mapping_from(mapping), step=step, nan_policy=nan_policy,
                          overwrite=overwrite, friend=friend, progress=progress, strict=strict, ood_limit=ood_limit)
    thr = ", ".join(t.name for t in model.thresholds) or "none stored (set them with `adkit evaluate --store-thresholds`)"
    say(f"wrote {summary['output']}: {summary['events']} events from {summary['files']} file(s); thresholds: {thr}")
    for f in summary["friends"]:
        say(f"wrote friend tree {f} (tree 'adkit')")
    for path, check in summary["ood"].items():
        if check.exceeded:
            say("warning: " + check.message(path) + " (--strict makes this an error)")
    summary["ood"] = {p: c.summary() for p, c in summary["ood"].items()}
    return summary
