"""Where a sweep's jobs run: in this process (``jobs=1``), on a local process pool (``jobs=N``) or as
Ray tasks on a Ray cluster (``ray_address``). Every runner hands each finished job's rows to
``done`` in this (the parent) process, which alone writes the database.

The pool keeps at most ``N`` jobs in flight. A worker that dies (a crash in native code, the OOM
killer) breaks the pool: the jobs that were in flight run again one at a time, and the one that
kills its worker alone gets error rows; the others go on.

On Ray each job is one task of one CPU; a job pinned to a device (``--measure`` with ``--device``)
asks for one unit of the Ray resource of that name, so it runs on a machine whose Ray node
advertises it (``ray start --resources '{"rpi5": 1}'``), one measurement at a time per board.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from edgeprof._version import __version__
from edgeprof.errors import UsageError
from edgeprof.report.sweep import SweepRow
from edgeprof.sweeps.jobs import run_job, worker_env
from edgeprof.sweeps.spec import Job, canonical_json

__all__ = ["error_rows", "run_inline", "run_pool", "run_ray"]

Done = Callable[[Job, list[SweepRow]], None]


def error_rows(job: Job, reason: str, runner: str) -> list[SweepRow]:
    """The rows of a job that could not run at all (its worker died, its task failed)."""
    return [SweepRow(job.model_hash, job.options_hash, device, precision, __version__, job.label, job.source,
                     canonical_json(job.point), canonical_json(job.options), "error", reason, runner=runner)
            for device, precision in job.targets]


def run_inline(jobs: Sequence[Job], done: Done) -> None:
    """One job after another in this process (no subprocess; PyTorch's modules stay imported)."""
    for job in jobs:
        done(job, run_job(job, "local"))


def run_pool(jobs: Sequence[Job], workers: int, done: Done) -> None:
    """On a pool of ``workers`` processes (started with ``spawn``: no fork of a threaded parent)."""
    queue: deque[Job] = deque(jobs)
    solo: deque[Job] = deque()  # jobs in flight when a worker died: run again one at a time
    context = multiprocessing.get_context("spawn")
    pool: ProcessPoolExecutor | None = None
    inflight: dict[Future[list[SweepRow]], Job] = {}
    try:
        while queue or solo or inflight:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(queue) + len(solo))), mp_context=context)
            if solo:
                if not inflight:
                    job = solo.popleft()
                    inflight[pool.submit(run_job, job, "local")] = job
            else:
                while queue and len(inflight) < workers:
                    job = queue.popleft()
                    inflight[pool.submit(run_job, job, "local")] = job
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken: list[Job] = []
            for future in finished:
                job = inflight.pop(future)
                try:
                    rows = future.result()
                except BrokenProcessPool:
                    broken.append(job)
                    continue
                except Exception as exc:  # the job could not be sent or its rows not returned
                    rows = error_rows(job, f"internal error: {type(exc).__name__}: {exc}", "local")
                done(job, rows)
            if broken:
                broken += list(inflight.values())
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                if len(broken) == 1:
                    done(broken[0], error_rows(broken[0], "the worker process died while profiling this model "
                                                          "(a crash or out of memory)", "local"))
                else:
                    solo.extend(broken)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'edgeprof[ray]'") from None
    return ray


def run_ray(jobs: Sequence[Job], address: str, done: Done) -> None:
    """As Ray tasks on the cluster at ``address`` (``auto``: the one this machine belongs to; a Ray
    already initialised in this process is used as it is)."""
    ray = _ray()
    started = False
    refs: dict[Any, Job] = {}
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": worker_env()})
        except Exception as exc:
            raise UsageError(f"--ray {address}: cannot connect: {type(exc).__name__}: {exc}") from None
        started = True
    try:
        needed = sorted({j.resource for j in jobs if j.resource})
        offered = ray.cluster_resources()
        missing = [r for r in needed if not offered.get(r)]
        if missing:
            raise UsageError(f"--ray {address}: no Ray node offers the resource(s) {', '.join(missing)} that "
                             "--measure on those devices needs; start a node on the board with "
                             f"ray start --address ADDRESS --resources '{{\"{missing[0]}\": 1}}'")
        task = ray.remote(run_job)
        for job in jobs:
            opts: dict[str, Any] = {"num_cpus": 1, "max_retries": 1}
            if job.resource:
                opts["resources"] = {job.resource: 1}
            refs[task.options(**opts).remote(job, "ray")] = job
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                job = refs.pop(ref)
                try:
                    rows = ray.get(ref)
                except Exception as exc:  # the task failed (its worker died, the node went away)
                    rows = error_rows(job, " ".join(f"the Ray task failed: {type(exc).__name__}: {exc}".split())[:500],
                                      "ray")
                done(job, rows)
    finally:
        for ref in refs:  # interrupted: the tasks not finished are not wanted any more
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
