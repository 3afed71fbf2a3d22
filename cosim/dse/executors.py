"""Where design evaluations run: local processes (default), a Ray cluster, or a Dask cluster.

Each executor ships the `EvalContext` (traced graphs, base specs) to every worker once, then
runs `Task` batches and yields their results as they finish.  Results do not depend on the
executor: a task's rows depend only on its designs and the context, and the sweep orders and
keys them itself.

Local (``--executor local``, the default): a ``forkserver`` process pool with one process per
core (``--workers`` to change).

Ray (``--executor ray``): without ``--address`` a local Ray instance is started with
``--workers`` CPUs; to use an existing cluster start it with ``ray start --head`` on the head
node (``ray start --address=HEAD:6379`` on the others) and pass ``--address auto`` when
sweeping on a cluster node, or ``--address ray://HEAD:10001`` (Ray Client) from outside.  One
actor per worker holds the context.  Ray's session files go to a temporary directory.

Dask (``--executor dask``): without ``--address`` a ``distributed.LocalCluster`` of
``--workers`` single-threaded processes is started; to use an existing cluster run
``dask scheduler`` on one machine and ``dask worker tcp://SCHEDULER:8786`` on the others,
then pass ``--address tcp://SCHEDULER:8786``.  The context is scattered to all workers
(broadcast) once.  Dask's spill/work files go to a temporary directory.

Workers import cosim, so every machine of a cluster needs the same cosim version installed.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from enum import StrEnum
from pathlib import Path
from typing import Any

from cosim.dse.evaluate import EvalContext, Task, TaskResult, run_task
from cosim.errors import SpecError


class ExecutorKind(StrEnum):
    LOCAL = "local"
    RAY = "ray"
    DASK = "dask"


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- local processes

_WORKER_CTX: EvalContext | None = None


def _init_worker(ctx: EvalContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx


def _run_in_worker(task: Task) -> TaskResult:
    assert _WORKER_CTX is not None, "worker not initialized"
    return run_task(_WORKER_CTX, task)


class _Base:
    workers: int

    def __enter__(self) -> _Base:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        pass


class LocalExecutor(_Base):
    """A process pool; ``workers=0`` runs tasks in this process (for debugging and tiny sweeps)."""

    def __init__(self, ctx: EvalContext, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self.ctx = ctx
        self.pool: ProcessPoolExecutor | None = None
        if self.workers > 0:
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            mpctx = mp.get_context(method)
            if method == "forkserver":
                # the server imports the models once; each worker is then a cheap fork of it
                mpctx.set_forkserver_preload(["cosim.dse.evaluate"])
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=mpctx,
                initializer=_init_worker,
                initargs=(ctx,),
            )

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        if self.pool is None:
            for t in tasks:
                yield run_task(self.ctx, t)
            return
        try:
            yield from _bounded(self.pool.submit, _run_in_worker, tasks, 2 * self.workers)
        except BrokenProcessPool as e:
            raise RuntimeError(
                "a sweep worker process died.  Worker processes re-import the main script: when "
                "run_sweep is called from a script, call it under `if __name__ == '__main__':`"
            ) from e

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _bounded(submit: Any, fn: Any, tasks: Iterable[Task], inflight: int) -> Iterator[TaskResult]:
    """Submit with at most `inflight` tasks outstanding; yield results as they complete."""
    pending: set[Future] = set()
    it = iter(tasks)
    done_all = False
    while True:
        while not done_all and len(pending) < inflight:
            try:
                t = next(it)
            except StopIteration:
                done_all = True
                break
            pending.add(submit(fn, t))
        if not pending:
            return
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for f in done:
            yield f.result()


# --------------------------------------------------------------------------- Ray


class _RayWorker:
    """A Ray actor holding the context."""

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx

    def run(self, task: Task) -> TaskResult:
        return run_task(self.ctx, task)


def _remove_tree(path: str, timeout_s: float = 10.0) -> None:
    """Remove a Ray/Dask temporary directory.  Their helper processes can still be writing logs
    and sockets into it for a moment after shutdown, so one rmtree may leave files behind."""
    deadline = time.monotonic() + timeout_s
    while True:
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path) or time.monotonic() > deadline:
            return
        time.sleep(0.1)


class RayExecutor(_Base):
    def __init__(self, ctx: EvalContext, workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise SpecError("--executor ray: ray is not installed (pip install 'cosim[dist]')") from None
        self.ray = ray
        self.workers = workers or default_workers()
        self._tmp = tempfile.mkdtemp(prefix="cosim-ray-")
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if address:
            kwargs["address"] = address
        else:
            # local Ray: workers must import this cosim even when it is not installed (PYTHONPATH checkout)
            root = str(Path(__file__).resolve().parents[2])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            kwargs.update(num_cpus=self.workers, _temp_dir=self._tmp, runtime_env={"env_vars": {"PYTHONPATH": path}})
        self._owns = not ray.is_initialized()
        if self._owns:
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError) as e:
                _remove_tree(self._tmp)
                raise SpecError(f"--address {address}: cannot connect to Ray: {str(e).splitlines()[0]}") from None
        if address:
            self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1)(_RayWorker)
        ref = ray.put(ctx)
        self.actors = [actor.remote(ref) for _ in range(self.workers)]

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        ray = self.ray
        free = list(self.actors)
        pending: dict[Any, Any] = {}
        it = iter(tasks)
        exhausted = False
        while True:
            while free and not exhausted:
                try:
                    t = next(it)
                except StopIteration:
                    exhausted = True
                    break
                a = free.pop()
                pending[a.run.remote(t)] = a
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            for r in ready:
                free.append(pending.pop(r))
                yield ray.get(r)

    def close(self) -> None:
        for a in getattr(self, "actors", []):
            with contextlib.suppress(Exception):
                self.ray.kill(a)
        self.actors = []
        if getattr(self, "_owns", False):
            self.ray.shutdown()
            self._owns = False
        _remove_tree(self._tmp)


# --------------------------------------------------------------------------- Dask


def _dask_run(ctx: EvalContext, task: Task) -> TaskResult:
    return run_task(ctx, task)


class DaskExecutor(_Base):
    def __init__(self, ctx: EvalContext, workers: int | None = None, address: str | None = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise SpecError("--executor dask: dask/distributed are not installed (pip install 'cosim[dist]')") from None
        self._tmp = tempfile.mkdtemp(prefix="cosim-dask-")
        dask.config.set({"temporary-directory": self._tmp, "distributed.worker.daemon": False})
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout="20s")
            else:
                self.workers = workers or default_workers()
                self.cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    local_directory=self._tmp,
                    silence_logs=40,
                )
                self.client = Client(self.cluster)
        except (OSError, TimeoutError, ValueError) as e:
            _remove_tree(self._tmp)
            raise SpecError(f"--address {address}: cannot connect to Dask: {str(e).splitlines()[0]}") from None
        self.workers = workers or max(1, sum(self.client.nthreads().values()))
        self.ctx_future = self.client.scatter(ctx, broadcast=True)

    def run(self, tasks: Iterable[Task]) -> Iterator[TaskResult]:
        from distributed import as_completed

        it = iter(tasks)
        ac = as_completed()
        inflight = 0
        for _ in range(2 * self.workers):
            t = next(it, None)
            if t is None:
                break
            ac.add(self.client.submit(_dask_run, self.ctx_future, t, pure=False))
            inflight += 1
        while inflight:
            f = next(ac)
            inflight -= 1
            res = f.result()
            f.release()
            t = next(it, None)
            if t is not None:
                ac.add(self.client.submit(_dask_run, self.ctx_future, t, pure=False))
                inflight += 1
            yield res

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
        _remove_tree(self._tmp)


def check_executor(kind: str | ExecutorKind, address: str | None = None, workers: int | None = None) -> ExecutorKind:
    """Validate executor options before any work starts.

    Raises:
        SpecError: unknown kind, ``--address`` with the local executor, negative worker count.
    """
    try:
        k = ExecutorKind(kind)
    except ValueError:
        raise SpecError(f"--executor: unknown executor {kind!r} (allowed: local, ray, dask)") from None
    if k is ExecutorKind.LOCAL and address:
        raise SpecError("--address is for --executor ray or dask; the local executor runs on this machine")
    if workers is not None and workers < 0:
        raise SpecError(f"--workers: must be >= 0, got {workers}")
    return k


def make_executor(
    kind: str | ExecutorKind, ctx: EvalContext, workers: int | None = None, address: str | None = None
) -> Any:
    """An executor of `kind` with `ctx` shipped to its workers.

    Raises:
        SpecError: bad options (see `check_executor`), missing package, unreachable cluster.
    """
    k = check_executor(kind, address, workers)
    if k is ExecutorKind.LOCAL:
        return LocalExecutor(ctx, workers)
    if k is ExecutorKind.RAY:
        return RayExecutor(ctx, workers, address)
    return DaskExecutor(ctx, workers, address)


__all__ = [
    "DaskExecutor",
    "ExecutorKind",
    "LocalExecutor",
    "RayExecutor",
    "check_executor",
    "default_workers",
    "make_executor",
]
