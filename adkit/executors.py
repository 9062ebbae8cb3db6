"""Executors: run independent tasks in this process, in a process pool, or on dask.

The work functions (scoring a file chunk, one NPLM toy) are plain top-level functions of
their arguments and know nothing about where they run; this module only distributes them
(the split coffea makes between processors and executors). ``local`` with one worker runs
tasks in order in this process; ``local`` with several uses a process pool; ``dask`` uses an
existing scheduler (``scheduler="tcp://host:8786"``) or starts a ``LocalCluster`` of
``workers`` single-threaded processes.

:func:`run_tasks` yields ``(index, result, error)`` as tasks finish; a failing task yields its
exception instead of stopping the others, so callers can record it and carry on.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from adkit.errors import ConfigError, missing_extra

EXECUTORS = ("local", "dask")


def _single_threaded() -> None:
    """Worker initialiser: one BLAS/torch thread per worker process, so N workers use N cores."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)


def _die_with_parent(parent: int) -> None:
    """Worker initialiser: exit when the parent dies (Linux ``PR_SET_PDEATHSIG``), so a killed
    ``--workers N`` run leaves no orphaned worker processes behind."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above ran
        os._exit(1)


def _call(fn: Callable, args: tuple) -> Any:
    _single_threaded()
    return fn(*args)


class Executor:
    """Where tasks run. Use as a context manager; ``dashboard`` is dask's address, if any."""

    def __init__(self, kind: str = "local", workers: int | None = None, scheduler: str | None = None,
                 connect_timeout: float = 20.0) -> None:
        if kind not in EXECUTORS:
            raise ConfigError(f"unknown executor {kind!r}; valid: {', '.join(EXECUTORS)}")
        if scheduler and kind != "dask":
            raise ConfigError("--scheduler needs --executor dask")
        if workers is not None and not 1 <= workers <= 1024:
            raise ConfigError(f"--workers must be between 1 and 1024, got {workers}")
        from adkit.validation import check_scheduler

        check_scheduler(scheduler)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        # processes on this machine are capped at its cores (a thousand workers on two cores only cost memory);
        # a remote scheduler's workers are its own
        asked = workers if workers and workers > cores and not scheduler else None
        if asked:
            workers = cores
        self.kind, self.workers, self.scheduler, self.connect_timeout = kind, workers, scheduler, connect_timeout
        #: The notice for a capped --workers (None when nothing was capped).
        self.capped = f"--workers {asked}: this machine has {cores} cores; using {cores} worker processes" if asked \
            else None
        self.dashboard: str | None = None
        self._pool = self._client = self._cluster = None

    def __enter__(self) -> Executor:
        if self.kind == "dask":
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError:
                raise missing_extra("dask[distributed]", "dask") from None
            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout=f"{self.connect_timeout}s")
                except OSError as e:
                    raise ConfigError(f"--scheduler {self.scheduler}: cannot connect ({e})") from None
            else:
                import dask

                # dask's nanny sets MALLOC_TRIM_THRESHOLD_ (64 KiB) so that workers hand memory back; setting
                # it also switches off glibc's adaptive mmap threshold, so every array above 128 KiB is a
                # fresh mmap and each of its pages a page fault: scoring ran 1.5-2x slower in a worker than
                # in a process. Chunks bound the memory anyway: keep arrays up to 32 MiB on the heap.
                env = {"MALLOC_TRIM_THRESHOLD_": 1 << 27, "MALLOC_MMAP_THRESHOLD_": 1 << 25}
                config = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in env.items()}
                # the workers' stack-sampling profiler (every 10 ms) and 100 ms memory polls cost a core's
                # worth of time on a small machine; tasks here are coarse, so sample rarely
                config.update({"distributed.worker.profile.enabled": False,
                               "distributed.worker.memory.monitor-interval": "1s"})
                with dask.config.set(config):
                    self._cluster = LocalCluster(n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1,
                                                 processes=True, dashboard_address=":0", silence_logs=40)
                self._client = Client(self._cluster)
            self.dashboard = getattr(self._client, "dashboard_link", None)
        elif (self.workers or 1) > 1:
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(self.workers, initializer=_die_with_parent, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    @property
    def parallel(self) -> int:
        """How many tasks run at once (1 for the serial local executor)."""
        if self._client is not None:
            return max(1, sum(self._client.nthreads().values()))
        return self.workers or 1

    def run(self, fn: Callable, tasks: Sequence[tuple]) -> Iterator[tuple[int, Any, BaseException | None]]:
        """Run ``fn(*task)`` for every task; yield (index, result, error) in completion order."""
        if self._client is not None:
            from dask.distributed import as_completed

            futures = {self._client.submit(_call, fn, t, pure=False): i for i, t in enumerate(tasks)}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    yield i, fut.result(), None
                except Exception as e:  # a worker's failure belongs to its task
                    yield i, None, e
            return
        if self._pool is not None:
            from concurrent.futures import as_completed as pool_completed

            futures = {self._pool.submit(_call, fn, t): i for i, t in enumerate(tasks)}
            try:
                for fut in pool_completed(futures):
                    i = futures[fut]
                    try:
                        yield i, fut.result(), None
                    except Exception as e:
                        yield i, None, e
            finally:
                for fut in futures:
                    fut.cancel()
            return
        for i, t in enumerate(tasks):
            try:
                yield i, fn(*t), None
            except Exception as e:
                yield i, None, e


def executor_from(kind: str = "local", workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor the command-line options ask for: naming a ``scheduler`` means dask."""
    return Executor("dask" if scheduler else kind, workers, scheduler)
