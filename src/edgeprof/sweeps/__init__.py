"""``edgeprof sweep``: profile many models (files, folders, ``module:callable`` specs and search spaces
over a Hugging Face config or a callable's keyword arguments), each with its own shapes, on
devices, into an SQLite results database that a sweep run again resumes from.

:func:`sweep` is ``edgeprof.sweep``. The parts: :mod:`.spec` (what runs: the jobs and their keys),
:mod:`.jobs` (one job, in a worker: the only caller of ``edgeprof.api`` here), :mod:`.runner` (in
this process, a process pool or Ray), :mod:`.db` (the database, written by this process only) and
:mod:`.pareto` (the Pareto front and the budget marks). See docs/sweep.md.

The sweep sits in its own layer, between the command line and ``api``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeprof.errors import UsageError
from edgeprof.report.sweep import SweepMark, SweepRow
from edgeprof.sweeps.spec import SweepModel

__all__ = ["SweepMark", "SweepModel", "SweepRow", "SweepRows", "sweep"]

SweepProgress = Callable[[SweepRow, int, int], None]
"""Called in this process as each row is made or found in the database: (row, rows done, rows in all)."""

PRECISIONS = ("fp32", "fp16", "int8", "w8a8", "w4a16")


class SweepRows(list[SweepRow]):
    """The rows of a sweep (a list), with :meth:`to_frame` for notebooks."""

    def to_dicts(self, *, report: bool = False) -> list[dict[str, Any]]:
        return [r.to_dict(report=report) for r in self]

    def to_frame(self, *, report: bool = False) -> Any:
        """A ``pandas.DataFrame`` with one row per result (pandas is optional: installed separately)."""
        try:
            import pandas
        except ImportError:
            raise UsageError("to_frame() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.to_dicts(report=report))


def sweep(
    models: Sequence[str | SweepModel | os.PathLike[str]],
    *,
    space: Mapping[str, Sequence[Any]] | None = None,
    input_shapes: Any = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, Sequence[float]] | None = None,
    seq_len: int | None = None,
    devices: Sequence[str] = (),
    precisions: Sequence[str] = (),
    devices_files: Sequence[str | os.PathLike[str]] = (),
    runtime: str | None = None,
    memory: bool = True,
    measure: bool = False,
    measure_runs: int = 5,
    measure_timeout_s: float = 300.0,
    measure_max_time_s: float = 10.0,
    threads: int = 1,
    db: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    jobs: int | None = 1,
    ray_address: str | None = None,
    progress: SweepProgress | None = None,
) -> SweepRows:
    """Profile every model of ``models`` and return one :class:`SweepRow` per (model, device,
    precision), in the order given.

    ``models``: model files, folders (their ``.onnx``, ``.tflite`` and ``.pt2`` files), glob
    patterns, Hugging Face ``config.json`` files, ``'package.module:callable'`` specs, or
    :class:`SweepModel` with their own shapes and search space. ``space`` (``{"hidden_size": [256,
    384]}``) sweeps the cross product of its values over every config (its fields) and callable (its
    keyword arguments) without a space of its own. ``input_shapes``, ``dims``, ``values`` and
    ``seq_len`` are those of :func:`edgeprof.profile`; ``devices`` (with ``precisions``, each a
    what-if, ``runtime`` and ``devices_files``) predict latency and energy, one row per device and
    precision; ``measure`` runs each model for real (:func:`edgeprof.measured`).

    ``db``: an SQLite file (created if missing; ``None``: none) that gets each row as it is made, and
    whose rows of the same (model hash, options, device, precision, edgeprof version) are taken as
    they are instead of being made again (``retry_failed``: except the failed ones). ``jobs``: 1
    runs in this process (no subprocess), N on a process pool of N (``None``: the number of cores);
    ``ray_address`` runs the jobs as Ray tasks instead (``pip install 'edgeprof[ray]'``; with
    ``measure`` and ``devices`` each job needs the Ray resource named after its device).
    ``progress`` is called with each row. A model that fails keeps its rows, ``status`` ``error``
    with the reason; the sweep goes on."""
    from edgeprof._version import __version__
    from edgeprof.sweeps.db import ResultsDB
    from edgeprof.sweeps.runner import run_inline, run_pool, run_ray
    from edgeprof.sweeps.spec import Job, expand

    for p in precisions:
        if p not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, not {p!r}")
    if precisions and not devices:
        raise UsageError("a precision is a what-if on a device: give devices too")
    if jobs is not None and jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    if devices:
        from edgeprof.devices.catalogue import load_catalogue
        from edgeprof.errors import EdgeprofError

        try:
            catalogue = load_catalogue(*(Path(f) for f in devices_files))
            for d in devices:
                catalogue.get(d)
        except EdgeprofError as exc:
            raise UsageError(exc.message) from None
    targets = [(d, p) for d in dict.fromkeys(devices) for p in (dict.fromkeys(precisions) or [""])] or [("", "")]
    options: dict[str, Any] = {"memory": memory, "runtime": runtime, "measure": None}
    if measure:
        if not memory:
            raise UsageError("measure needs the memory analysis (memory=True)")
        options["measure"] = {"runs": measure_runs, "timeout_s": measure_timeout_s, "max_time_s": measure_max_time_s,
                              "threads": threads}
    all_jobs = expand([m if isinstance(m, SweepModel) else os.fspath(m) for m in models], input_shapes=input_shapes,
                      dims=dims, values=values, seq_len=seq_len, space=space, targets=targets, options=options,
                      devices_files=[os.fspath(f) for f in devices_files],
                      pin_devices=bool(ray_address and measure and devices))
    Key = tuple[str, str, str, str, str]

    def keys_of(job: Job) -> list[Key]:
        return [(*k, __version__) for k in job.keys]

    keys = [k for job in all_jobs for k in keys_of(job)]
    if len(set(keys)) != len(keys):  # the same model and options twice: run once
        seen: set[Key] = set()
        unique: list[Job] = []
        for job in all_jobs:
            job_keys = keys_of(job)
            if not seen.intersection(job_keys):
                unique.append(job)
            seen.update(job_keys)
        all_jobs = unique
        keys = [k for job in all_jobs for k in keys_of(job)]
    store = ResultsDB(db) if db is not None else None
    results: dict[Key, SweepRow] = {}
    try:
        if store is not None:
            results.update(store.existing(keys, ok_only=retry_failed))
        total = len(keys)
        count = 0
        for key in keys:
            if key in results and progress is not None:
                count += 1
                progress(results[key], count, total)
        todo = [j for j in all_jobs if any(k not in results for k in keys_of(j))]

        def done(job: Job, rows: list[SweepRow]) -> None:
            nonlocal count
            for row in rows:
                if store is not None:
                    store.put(row)  # one transaction per finished row, in this process only
                results[row.key] = row
                count += 1
                if progress is not None:
                    progress(row, count, total)

        if ray_address:
            run_ray(todo, ray_address, done)
        elif (jobs if jobs is not None else os.cpu_count() or 1) == 1 or len(todo) <= 1:
            run_inline(todo, done)
        else:
            run_pool(todo, jobs if jobs is not None else os.cpu_count() or 1, done)
    finally:
        if store is not None:
            store.close()
    return SweepRows(results[k] for k in keys if k in results)
