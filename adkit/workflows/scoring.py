"""Scoring: a pure function of (model, chunk), and the file loop around it (``adkit score`` is
:mod:`adkit.workflows.score`).

:func:`score_batch` has no side effects and no state, so any executor (the local loop here,
a process pool, dask) can run it unchanged on any chunk.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.errors import InputError, ModelFileError
from adkit.io import DEFAULT_STEP, EventBatch, Mapping, open_reader, reader_batches
from adkit.io.writers import ScoreWriter, atomic_output, check_output, score_format, write_friend_tree
from adkit.progress import bar


def score_batch(model: Model, batch: EventBatch, prepared: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Columns for one chunk: ``entry``, ``score``, ``score_<kind>`` components, ``pass_<threshold>``
    (``prepared``: the chunk's ``model.prepare(batch.features)``, when :func:`prepared_batches` made it)."""
    check_width(model, batch)
    comps = model.score_components(batch.features, batch.condition, prepared=prepared)
    check_finite_scores(comps["score"], batch)
    cols = {"entry": batch.entry, "score": comps["score"]}
    cols.update({f"score_{k}": v for k, v in comps.items() if k != "score"})
    for t in model.thresholds:
        cols[f"pass_{t.name}"] = comps["score"] > t.value
    return cols


def check_width(model: Model, batch: EventBatch) -> None:
    """A chunk with another number of features than the model's: one line naming the file."""
    if batch.features.shape[1] != model.n_features:
        raise InputError(f"{batch.source}: {batch.features.shape[1]} features per event, but the model "
                         f"expects {model.n_features} ({', '.join(model.spec.columns[:3])}, ...)")


def prepared_batches(model: Model, batches, check=None):
    """(batch, model input) pairs: each chunk counted by the range ``check`` and preprocessed, so that
    with :func:`prefetch` all of this runs on the reading thread while torch scores the chunk before."""
    for batch in batches:
        check_width(model, batch)
        if check is not None:
            check.update(batch.features)
        yield batch, model.prepare(batch.features)


def check_finite_scores(score: np.ndarray, batch: EventBatch) -> None:
    """A NaN/inf score is never written as a number: say which events and what to do."""
    bad = ~np.isfinite(score)
    if bad.any():
        first = int(batch.entry[bad][0])
        raise ModelFileError(f"{batch.source}: the model gives NaN/inf scores for {int(bad.sum())} event(s) (first at "
                             f"entry {first}); its weights may be damaged or these inputs far outside its training "
                             "range; check the model with `adkit show` and the inputs with `adkit info`")


def prefetch(iterator, enabled: bool = True):
    """Read the next chunk in a background thread while the current one is scored.

    torch releases the GIL while it computes, so reading and scoring overlap. Exceptions from
    the reader are re-raised in the caller, in order; at most one chunk waits in memory.
    """
    if not enabled:
        yield from iterator
        return
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def work():
        try:
            for item in iterator:
                if stop.is_set():
                    return
                q.put((item, None))
            q.put((done, None))
        except BaseException as e:  # handed to the consumer
            q.put((None, e))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.01)


def score_files(model: Model, paths: Sequence[str | Path], output: str | Path, *, mapping: Mapping | None = None,
                step: int = DEFAULT_STEP, nan_policy: str = "reject", overwrite: bool = False,
                friend: bool = False, progress: bool = False, read_ahead: bool = True, strict: bool = False,
                ood_limit: float | None = None) -> dict:
    """Score every event of ``paths`` in input order into one table (.h5 or .parquet).

    The output appears under its final name only when every file was scored; with
    ``friend=True`` each ROOT input also gets ``<output stem>.<input stem>.friend.root``.
    Inputs are compared with the model's training range per file (``summary["ood"]``); with
    ``strict=True`` a file with more than ``ood_limit`` of its events outside stops the run
    (exit 2) and nothing is written.
    """
    fmt = score_format(output)
    mapping = model.input_spec(mapping).mapping
    from adkit.files import check_distinct

    check_distinct(paths)
    readers = [open_reader(p, mapping) for p in paths]  # validate every input before any work
    friends = {}
    if friend:
        out = Path(output)
        for r in readers:
            if not str(r.path).lower().endswith(".root"):
                raise InputError(f"{r.path}: --friend needs ROOT input")
            friends[r.path] = check_output(out.with_name(f"{out.stem}.{Path(r.path).stem}.friend.root"), overwrite)
    total = sum(r.num_entries() for r in readers)
    attrs = {"adkit_model": str(model.provenance.get("model_path", "")), "detector": model.detector.name,
             "thresholds": ",".join(f"{t.name}={t.value:.6g}" for t in model.thresholds)}
    row_bytes = 24 + 8 * len(getattr(model.detector, "components", ())) + len(model.thresholds)
    ood: dict = {}
    with atomic_output(output, overwrite, expected_bytes=total * row_bytes) as tmp, bar(progress) as pb:
        task = pb.add_task("score", total=total)
        writer = ScoreWriter(tmp, fmt, [r.path for r in readers], attrs)
        try:
            for i, reader in enumerate(readers):
                parts = []
                check = range_check(model, ood_limit)
                batches = reader_batches(reader, model.spec, step=step, nan_policy=nan_policy)
                for batch, prepared in prefetch(prepared_batches(model, batches, check), read_ahead):
                    cols = score_batch(model, batch, prepared)
                    writer.write(i, cols)
                    if friend:
                        parts.append(cols)
                    pb.update(task, advance=len(batch) if batch.entries is None else reader_advance(batch))
                if check is not None:
                    ood[reader.path] = check
                    if strict and check.exceeded:
                        raise InputError(check.message(reader.path) + "; --strict: nothing was written")
                if friend:
                    merged = {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}
                    write_friend_tree(friends[reader.path], reader.num_entries(), merged, overwrite)
        finally:
            writer.close()
    return {"output": str(output), "events": writer.n, "files": len(readers),
            "friends": [str(p) for p in friends.values()], "ood": ood}


def range_check(model: Model, limit: float | None = None):
    """A fresh :class:`~adkit.features.ranges.RangeCheck` for the model's inputs (None if it stores no range)."""
    from adkit.features.ranges import DEFAULT_LIMIT, RangeCheck

    if model.ranges is None:
        return None
    return RangeCheck(model.ranges, list(model.spec.columns), DEFAULT_LIMIT if limit is None else limit)


def reader_advance(batch: EventBatch) -> int:
    """Entries consumed by a batch whose events were filtered (cut or dropped NaNs)."""
    return int(batch.entries[-1] - batch.entry_start + 1) if len(batch.entries) else 0
