"""Scoring many files as tasks: one output per input, a manifest, resume, and any executor.

Every input file is cut into tasks of at most ``task_events`` entries. A task
(:func:`score_range`) scores its entry range with the same :func:`adkit.workflows.scoring.score_batch`
the single-file loop uses and writes a *part* file under ``.adkit-parts/`` (written under a
temporary name, renamed when complete). When all parts of an input are there, they are
merged in entry order into that input's score file, which is recorded in ``manifest.json``
with its event count and the sha256 of input, model and output.

Re-running the same command skips inputs whose output is complete and unchanged (manifest
entry done, input size and mtime, model and output hashes all match) and reuses finished
parts, so a run killed at any moment resumes where it was and ends with the same files as an
uninterrupted one. A task that fails (a damaged input) marks its input ``failed`` in the
manifest with the reason; the other inputs finish.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from adkit.errors import AdkitError, ConfigError, InputError, OutputError
from adkit.files import publish, sha256_file, short_name
from adkit.io.writers import ScoreWriter, atomic_output, score_output_path

MANIFEST_FORMAT = "adkit-scores"
MANIFEST_VERSION = 1
PARTS = ".adkit-parts"
DEFAULT_TASK_EVENTS = 1_000_000
#: Tasks one run may hold (each is a tuple and, while it runs, a part file).
MAX_TASKS = 100_000


def check_parts_dir(d: Path) -> None:
    """Refuse a ``.adkit-parts`` that adkit did not make (no stamp): its files are not adkit's to remove."""
    from adkit.files import STAMP

    if not os.path.lexists(d):
        return
    try:
        ok = d.is_dir() and not d.is_symlink() and json.loads((d / STAMP).read_text()).get("format") == "adkit-parts"
    except (OSError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise OutputError(f"{d}: adkit keeps its unfinished parts there, but adkit did not make it (no {STAMP}); "
                          "move it away or choose another -o")


def parts_dir(parent: Path) -> Path:
    """``parent/.adkit-parts``, made and stamped as adkit's own if it is not there."""
    from adkit.files import STAMP

    d = parent / PARTS
    check_parts_dir(d)
    if not d.exists():
        d.mkdir()
        (d / STAMP).write_text(json.dumps({"format": "adkit-parts"}))
    return d


def output_names(paths: Sequence[str | Path], suffix: str = ".h5") -> list[str]:
    """``<input stem>.scores<suffix>`` per input, at the input's path relative to the inputs' common
    parent: ``a/nano_1.root`` and ``b/nano_1.root`` give ``a/nano_1.scores.h5`` and
    ``b/nano_1.scores.h5``; inputs in one directory give plain names, and inputs that differ only in
    their extension keep it (``nano_1.root.scores.h5``). The same file twice is an error.
    """
    real = [os.path.realpath(p) for p in paths]
    seen: dict[str, str] = {}
    for p, r in zip(paths, real):
        if r in seen:
            raise ConfigError(f"{p} and {seen[r]} are the same file; give each input once")
        seen[r] = str(p)
    if not real:
        return []
    common = os.path.commonpath([os.path.dirname(r) for r in real])
    names = [str(Path(os.path.relpath(os.path.dirname(r), common)) / score_output_path(r, suffix))
             .removeprefix("./") for r in real]
    # inputs that differ only in their extension (nano.root, nano.parquet) keep it: nano.root.scores.h5
    return [n if names.count(n) == 1 else str(Path(n).with_name(f"{Path(r).name}.scores{suffix}"))
            for n, r in zip(names, real)]


@functools.lru_cache(maxsize=4)
def _model(path: str, digest: str):
    """The model, loaded once per worker process (keyed by its hash, so a changed file reloads)."""
    from adkit.artifact import Model

    return Model.load(path)


def output_attrs(model_path: str, model) -> dict:
    """The attributes every score file carries: model path, detector, stored thresholds."""
    return {"adkit_model": model_path, "detector": model.detector.name,
            "thresholds": ",".join(f"{t.name}={t.value:.6g}" for t in model.thresholds)}


def score_range(model_path: str, model_digest: str, path: str, mapping: dict | None, start: int, stop: int,
                step: int, nan_policy: str, part: str, input_key: tuple[int, int, str]) -> dict:
    """Score entries [start, stop) of one file into the part file ``part`` (the unit of work).

    The part is an ordinary HDF5 score file; an input scored in one task gets it renamed into place.
    """
    from adkit.files import input_scope
    from adkit.io import Mapping, open_reader, reader_batches
    from adkit.io.inputs import note_input
    from adkit.workflows.scoring import prefetch, prepared_batches, range_check, score_batch

    model = _model(model_path, model_digest)
    check = range_check(model)
    m = model.input_spec(Mapping.from_dict(mapping) if mapping else None).mapping
    with input_scope():
        note_input(path)
        if _fingerprint(path)[:2] != tuple(input_key[:2]):
            raise InputError(f"{path}: changed since this run started (size or modification time differ); run again")
        reader = open_reader(path, m)
        with atomic_output(part, overwrite=True) as tmp:
            writer = ScoreWriter(tmp, "hdf5", [path], {**output_attrs(model_path, model), "model_sha256": model_digest,
                                                       "start": start, "stop": stop, "input_size": input_key[0],
                                                       "input_mtime_ns": input_key[1], "input_sha256": input_key[2]})
            try:
                batches = reader_batches(reader, model.spec, step=step, nan_policy=nan_policy, entry_start=start,
                                         entry_stop=stop)
                for batch, prepared in prefetch(prepared_batches(model, batches, check), False):
                    writer.write(0, score_batch(model, batch, prepared))
            finally:
                writer.close()
    return {"events": writer.n, "part": part, "ranges": None if check is None else check.state()}


def _fingerprint(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _part_done(part: Path, digest: str, start: int, stop: int, input_key: tuple[int, int, str]) -> bool:
    """A finished part is reused only if it scored this input (size, mtime; the sha256 is the
    manifest's, :meth:`ScoreRun.make_tasks`), range and model."""
    if not part.exists():
        return False
    import h5py

    try:
        with h5py.File(part, "r") as h5:
            a = h5.attrs
            return (a.get("model_sha256") == digest and int(a.get("start", -1)) == start
                    and int(a.get("stop", -1)) == stop and int(a.get("input_size", -1)) == input_key[0]
                    and int(a.get("input_mtime_ns", -1)) == input_key[1])
    except (OSError, ValueError, TypeError):
        return False


def _merge(parts: list[Path], output: Path, fmt: str, source: str, attrs: dict, overwrite: bool) -> int:
    """Concatenate part files (in entry order) into one score file, atomically."""
    import h5py

    with atomic_output(output, overwrite) as tmp:
        writer = ScoreWriter(tmp, fmt, [source], attrs)
        try:
            for p in parts:
                with h5py.File(p, "r") as h5:
                    cols = {k: h5[k][:] for k in h5 if k not in ("sources", "source")}
                if len(cols.get("entry", ())):
                    writer.write(0, cols)
        finally:
            writer.close()
    return writer.n


class Manifest:
    """``manifest.json``: inputs, outputs, event counts, hashes, status; rewritten atomically."""

    def __init__(self, path: Path, model_path: str, model_digest: str, fresh: bool = False) -> None:
        """Read an existing manifest (``fresh``: keep none of its records); a file at ``path`` that
        is not an adkit score manifest is never replaced."""
        from adkit.files import check_output

        self.path = path
        old = {}
        if path.exists():
            check_output(path, overwrite=True)  # not an input, not a special file
            try:
                old = json.loads(path.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                old = None
            if not isinstance(old, dict) or old.get("format") != MANIFEST_FORMAT:
                raise OutputError(f"{path}: exists and is not an adkit score manifest; not replaced; "
                                  "choose another -o")
            old = {} if fresh else old
        same_model = old.get("model", {}).get("sha256") == model_digest
        self.files: dict[str, dict] = {f["input"]: f for f in old.get("files", [])} if same_model else {}
        self.model = {"path": model_path, "sha256": model_digest}

    def is_done(self, path: str, output: Path) -> bool:
        rec = self.files.get(path)
        if not rec or rec.get("status") != "done" or not output.exists():
            return False
        st = Path(path).stat()
        return (rec.get("input_size") == st.st_size and rec.get("input_mtime_ns") == st.st_mtime_ns
                and rec.get("output_sha256") == sha256_file(output) and rec.get("input_sha256") == sha256_file(path))

    def record(self, path: str, **fields) -> None:
        self.files[path] = {"input": path, **fields}

    def write(self, order: list[str], extra: dict) -> None:
        doc = {"format": MANIFEST_FORMAT, "format_version": MANIFEST_VERSION, "model": self.model, **extra,
               "files": [self.files[p] for p in order if p in self.files]}
        with atomic_output(self.path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(doc, indent=2))


def score_many(model_path: str | Path, paths: Sequence[str | Path], outputs: Sequence[str | Path],
               manifest_path: str | Path, *, executor=None, mapping: dict | None = None,
               task_events: int = DEFAULT_TASK_EVENTS, step: int | None = None, nan_policy: str = "reject",
               overwrite: bool = False, on_task: Callable[[int, int], None] | None = None) -> dict:
    """Score each of ``paths`` into the matching ``outputs`` file through ``executor`` tasks.

    Returns a summary: per input its status (``done``, ``skipped`` when already complete,
    ``failed`` with the reason), events, output; plus task counts and timing.
    """
    from adkit.io import DEFAULT_STEP

    if task_events < 1:
        raise ConfigError(f"--task-events must be >= 1, got {task_events}")
    t0 = time.perf_counter()
    run = ScoreRun(model_path, paths, outputs, manifest_path, mapping=mapping, task_events=task_events,
                   step=min(step or DEFAULT_STEP, task_events), nan_policy=nan_policy, overwrite=overwrite)
    todo = run.plan()
    run.make_tasks(todo)
    run.extra.update(executor=None if executor is None else executor.kind, task_events=task_events)
    run.start()
    ood = run.execute(executor, on_task)
    run.remove_parts_dirs()
    summary = run.summary
    return {"files": [{"input": p, **summary[p]} for p in run.paths], "tasks": len(run.tasks),
            "seconds": time.perf_counter() - t0, "manifest": str(manifest_path),
            "events": int(sum(s.get("events") or 0 for s in summary.values() if s["status"] != "failed")),
            "failed": [p for p in run.paths if summary[p]["status"] == "failed"],
            "ood": {p: c for p, c in ood.items() if c is not None and c.events}}


class _Hasher:
    """sha256 of files, one after another on a daemon thread (an interrupted run does not wait for it)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, fn: Callable[[str], str], path: str) -> Future:
        fut: Future = Future()
        self._queue.put((fn, path, fut))
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, daemon=True)
            self._thread.start()
        return fut

    def _work(self) -> None:
        while True:
            fn, path, fut = self._queue.get()
            try:
                fut.set_result(fn(path))
            except BaseException as e:  # handed to whoever waits for this hash
                fut.set_exception(e)


class ScoreRun:
    """One :func:`score_many` run: which inputs are done, which tasks remain, merging each input's
    parts into its output as soon as its last task ends, and the manifest that records it all."""

    def __init__(self, model_path, paths, outputs, manifest_path, *, mapping, task_events: int, step: int,
                 nan_policy: str, overwrite: bool) -> None:
        from adkit.files import input_for

        self.model_path = str(Path(model_path).resolve())
        self.digest = sha256_file(self.model_path)
        self.model = _model(self.model_path, self.digest)
        self.outputs = [Path(o) for o in outputs]
        self.manifest_path = Path(manifest_path)
        for o in [*self.outputs, self.manifest_path]:  # before any work: no output may be an input
            if input_for(o) is not None:
                raise OutputError(f"{o}: is the input {input_for(o).path}; adkit never writes over its inputs; "
                                  "choose another -o")
        for d in {o.parent / PARTS for o in self.outputs}:  # a user's own .adkit-parts is never written into
            check_parts_dir(d)
        self.manifest = Manifest(self.manifest_path, self.model_path, self.digest, fresh=overwrite)
        self.paths = [str(p) for p in paths]
        self.mapping, self.task_events, self.step, self.nan_policy = mapping, task_events, step, nan_policy
        self.overwrite = overwrite
        self.summary: dict[str, dict] = {}
        self.tasks: list[tuple] = []
        self.task_file: list[str] = []
        self.parts: dict[str, list[Path]] = {}
        self.keys: dict[str, tuple[int, int, str]] = {}
        self.hashes: dict[str, Future | str] = {}  # each input's sha256, computed while its tasks run
        self._hasher = _Hasher()
        self._hash_noted: set[str] = set()
        self.replace: set[str] = set()
        self.failed: dict[str, str] = {}
        self.extra: dict = {}

    def output_of(self, path: str) -> Path:
        return self.outputs[self.paths.index(path)]

    def fail(self, path: str, reason: str, **fields) -> None:
        self.manifest.record(path, status="failed", reason=reason, output=str(self.output_of(path)), **fields)
        self.summary[path] = {"status": "failed", "reason": reason, "output": str(self.output_of(path))}

    def plan(self) -> list[tuple[str, Path, int]]:
        """(input, output, events) still to score; complete ones are skipped, unreadable ones failed."""
        from adkit.io import Mapping, open_reader
        from adkit.io.writers import score_format

        todo = []
        for path, out in zip(self.paths, self.outputs):
            score_format(out)
            if self.manifest.is_done(path, out):
                self.summary[path] = {"status": "skipped", "events": self.manifest.files[path]["events"],
                                      "output": str(out)}
                continue
            rec = self.manifest.files.get(path) or {}
            ours = out.exists() and rec.get("output") == str(out) and rec.get("output_sha256") == sha256_file(out)
            if ours:  # adkit's own output of an input that changed since: stale, so it is redone
                self.replace.add(path)
            if out.exists() and not self.overwrite and not ours:
                raise OutputError(f"{out}: already exists and is not a complete output of this model in "
                                  f"{self.manifest_path.name}; pass --overwrite to replace it")
            try:
                m = Mapping.from_dict(self.mapping or self.model.mapping) if (self.mapping or self.model.mapping) \
                    else None
                n = open_reader(path, m).num_entries()
                if n == 0:
                    raise InputError(f"{path}: no events (the tree/dataset is empty)")
            except AdkitError as e:
                st = Path(path).stat() if Path(path).exists() else None
                self.fail(path, " ".join(str(e).split()), input_size=st.st_size if st else None)
                continue
            todo.append((path, out, n))
        return todo

    def make_tasks(self, todo: list[tuple[str, Path, int]]) -> None:
        """One task per ``task_events`` entries of each input, except the parts already scored."""
        n_tasks = sum(-(-n // self.task_events) for _, _, n in todo)
        if n_tasks > MAX_TASKS:  # before any directory or part is made
            raise ConfigError(f"--task-events {self.task_events}: {n_tasks} tasks, over the {MAX_TASKS} one run "
                              "may hold; give larger tasks")
        for path, out, n in todo:
            out.parent.mkdir(parents=True, exist_ok=True)
            part_dir = parts_dir(out.parent)
            self.parts[path] = []
            self.keys[path] = (*_fingerprint(path), "")
            ranges = [(a, min(a + self.task_events, n)) for a in range(0, n, self.task_events)]
            parts = [part_dir / f"{short_name(out.name)}.{a}-{b}.h5" for a, b in ranges]
            # parts of an earlier run are reused only if the input's sha256, which that run wrote into the
            # manifest, is the file's now: hashed here first. Otherwise the hash runs beside the tasks.
            earlier = self.manifest.files.get(path, {}).get("input_sha256")
            reuse = bool(earlier) and any(p.exists() for p in parts) and sha256_file(path) == earlier
            self.hashes[path] = earlier if reuse else self._hasher.submit(sha256_file, path)
            for part, (start, stop) in zip(parts, ranges):
                self.parts[path].append(part)
                if not (reuse and _part_done(part, self.digest, start, stop, self.keys[path])):
                    self.tasks.append((self.model_path, self.digest, path, self.mapping, start, stop, self.step,
                                       self.nan_policy, str(part), self.keys[path]))
                    self.task_file.append(path)

    def input_hash(self, path: str) -> str:
        """The input's sha256 (waits for its hashing thread)."""
        h = self.hashes[path]
        if not isinstance(h, str):
            h = self.hashes[path] = h.result()
        return h

    def note_hashes(self) -> None:
        """Each input's sha256 goes into its pending record as soon as it is known (a resumed run reuses
        parts only of an input whose hash the manifest holds and the file still has)."""
        for path, h in self.hashes.items():
            if path not in self._hash_noted and (isinstance(h, str) or h.done()):
                self._hash_noted.add(path)
                if not isinstance(h, str) and h.exception() is not None:
                    continue  # unreadable now: its merge reports it
                if self.manifest.files.get(path, {}).get("status") == "pending":
                    self.manifest.record(path, status="pending", output=str(self.output_of(path)),
                                         input_sha256=self.input_hash(path))
                    self.manifest.write(self.paths, self.extra)

    def start(self) -> None:
        """The manifest lists what is still to do, so that a run stopped midway says so."""
        for path in self.parts:
            self.manifest.record(path, status="pending", output=str(self.output_of(path)))
        self.extra["complete"] = False
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        self.manifest.write(self.paths, self.extra)

    def execute(self, executor, on_task) -> dict:
        """Run every task; each input is finished when its last task ends. Returns its range checks."""
        from adkit.executors import Executor
        from adkit.workflows.scoring import range_check

        remaining = {p: sum(1 for f in self.task_file if f == p) for p in self.parts}
        for path in [p for p, k in remaining.items() if k == 0]:  # every part already there
            self.finish(path)
        own = executor is None
        ex = Executor() if own else executor
        if on_task:
            on_task(0, len(self.tasks))
        ood = {p: range_check(self.model) for p in self.parts}
        with ex if own else contextlib.nullcontext():
            for done, (i, res, err) in enumerate(ex.run(score_range, self.tasks), 1):
                path = self.task_file[i]
                if err is None and ood[path] is not None and isinstance(res, dict) and res.get("ranges"):
                    ood[path].add(res["ranges"])
                if err is not None and path not in self.failed:
                    text = str(err) if isinstance(err, AdkitError) else f"{type(err).__name__}: {err}"
                    self.failed[path] = " ".join(text.split())
                remaining[path] -= 1
                self.note_hashes()
                if on_task:
                    on_task(done, len(self.tasks))
                if remaining[path] == 0:
                    self.finish(path)
        self.extra["complete"] = True
        self.manifest.write(self.paths, self.extra)
        return ood

    def finish(self, path: str) -> None:
        """Merge the input's parts into its output (unless a task failed or the input changed meanwhile)."""
        if path not in self.failed and _fingerprint(path) != self.keys[path][:2]:
            self.failed[path] = f"{path}: changed while it was being scored (size or modification time differ); " \
                                "run again"
            for p in self.parts[path]:
                p.unlink(missing_ok=True)
        if path in self.failed:
            self.fail(path, self.failed[path])
        else:
            self.merge(path)
        self.manifest.write(self.paths, self.extra)

    def merge(self, path: str) -> None:
        from adkit.io.writers import score_format

        out, parts = self.output_of(path), self.parts[path]
        replace = self.overwrite or path in self.replace
        if len(parts) == 1 and score_format(out) == "hdf5":  # one task: its part is the output
            import h5py

            with h5py.File(parts[0], "r+") as h5:  # adkit's own part: the input's hash, known now
                n = len(h5["entry"]) if "entry" in h5 else 0
                h5.attrs["input_sha256"] = self.input_hash(path)
            publish(parts[0], out, replace)
        else:
            n = _merge(parts, out, score_format(out), path, output_attrs(self.model_path, self.model), replace)
        size, mtime, _ = self.keys[path]
        digest_in = self.input_hash(path)
        self.manifest.record(path, status="done", output=str(out), events=n, input_size=size, input_mtime_ns=mtime,
                             input_sha256=digest_in, output_sha256=sha256_file(out), tasks=len(parts),
                             output_name=os.path.relpath(out, self.manifest_path.parent))
        self.summary[path] = {"status": "done", "events": n, "output": str(out)}
        for p in parts:
            p.unlink(missing_ok=True)

    def remove_parts_dirs(self) -> None:
        """Once every part was merged only leftovers of killed writers may remain: remove those, then the
        directory if it is empty (anything else in it is left alone)."""
        from adkit.files import STAMP, remove_stale_partials

        for part_dir in {o.parent / PARTS for o in self.outputs}:
            if part_dir.is_dir():
                for p in part_dir.glob(".*.partial-*"):
                    remove_stale_partials(part_dir / p.name[1:].rsplit(".partial-", 1)[0])
                if {f.name for f in part_dir.iterdir()} <= {STAMP}:
                    with contextlib.suppress(OSError):
                        (part_dir / STAMP).unlink()
                        part_dir.rmdir()


def score_tasks_command(model_path, files, output, directory, fmt, overwrite, executor, workers, scheduler,
                        task_events, mapping, nan_policy, step, progress, say) -> dict:
    """Directory mode (and any parallel run) of ``adkit score``: one score file per input, a manifest, resume."""
    from adkit.executors import executor_from
    from adkit.io.writers import score_output_path
    from adkit.progress import TaskBar
    from adkit.workflows.config import mapping_from

    if directory:
        outdir = Path(output or "scores")
        if output is None:
            say("several inputs: writing one score file per input into ./scores/ (change with -o)")
        if outdir.exists() and not outdir.is_dir():
            raise ConfigError(f"{outdir}: exists and is not a directory; -o names a directory for several inputs")
        if not outdir.parent.is_dir():
            raise ConfigError(f"{outdir}: directory {outdir.parent} does not exist")
        outputs = [outdir / n for n in output_names(files, "." + fmt)]
        manifest = outdir / "manifest.json"
    else:
        out = Path(output or score_output_path(files[0]))
        outputs, manifest = [out], out.with_name(f"{out.name}.manifest.json")
    m = mapping_from(mapping)
    with executor_from(executor, workers, scheduler) as ex, TaskBar(progress, "score tasks") as bar:
        if ex.capped:
            say(ex.capped)
        if ex.dashboard:
            say(f"dask dashboard: {ex.dashboard}")
        summary = score_many(model_path, files, outputs, manifest, executor=ex, mapping=m.to_dict() if m else None,
                             task_events=task_events, step=step, nan_policy=nan_policy, overwrite=overwrite,
                             on_task=bar.update)
    counts = {k: sum(f["status"] == k for f in summary["files"]) for k in ("done", "skipped", "failed")}
    say(f"scored {counts['done']} file(s), skipped {counts['skipped']} already complete, {counts['failed']} failed: "
        f"{summary['events']} events in {summary['tasks']} task(s), {summary['seconds']:.1f} s; manifest "
        f"{summary['manifest']}")
    for f in summary["files"]:
        if f["status"] == "failed":
            reason = f["reason"] if f["reason"].startswith(f["input"]) else f"{f['input']}: {f['reason']}"
            say(f"failed: {reason}")
    for path, check in summary["ood"].items():
        if check.exceeded:
            say("warning: " + check.message(path))
    summary["ood"] = {p: c.summary() for p, c in summary["ood"].items()}
    if counts["failed"]:
        raise AdkitError(f"{counts['failed']} of {len(files)} input(s) failed (listed above and in "
                         f"{summary['manifest']}); the others were scored")
    return summary
