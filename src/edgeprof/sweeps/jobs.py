"""One job of a sweep, as a worker runs it (in this process, a process-pool worker or a Ray task):
profile the model through :mod:`edgeprof.api`, measure it (``--measure``), predict it on each
(device, precision) and return one :class:`SweepRow` per target. Never raises for a model that
fails: its rows carry the reason (``status`` ``error``).

The one module of the sweep that calls the API: the sweep sits in its own layer between the
command line and ``api`` (docs/design.md).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from edgeprof import api
from edgeprof._version import __version__
from edgeprof.errors import EdgeprofError
from edgeprof.report.model import Profile
from edgeprof.report.sweep import SweepRow
from edgeprof.sweeps.spec import Job, canonical_json

__all__ = ["run_job"]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EdgeprofError):
        return " ".join(exc.message.split())
    return " ".join(f"internal error: {type(exc).__name__}: {exc}".split())


def _profile(job: Job, folder: Path) -> tuple[Profile, Any]:
    """The job's profile, and the PyTorch module a measurement runs (None: it runs from the file)."""
    opts = job.options
    kwargs: dict[str, Any] = {"input_shapes": opts["input_shapes"], "dims": opts["dims"] or None,
                              "values": opts["values"] or None, "memory": opts.get("memory", True)}
    if opts.get("seq_len") is not None:
        kwargs["seq_len"] = opts["seq_len"]
    if job.kind == "hf-config":
        path = folder / "config.json"
        path.write_text(json.dumps(job.config, sort_keys=True, indent=2), encoding="utf-8")
        p = api.profile(str(path), **kwargs)
        return dataclasses.replace(p, model=dataclasses.replace(p.model, path=job.source)), None
    if job.kind == "callable" and job.point:
        module = _call(job.source, job.point)
        p = api.profile(module, **kwargs)
        return dataclasses.replace(p, model=dataclasses.replace(p.model, name=job.label, path="")), module
    return api.profile(job.source, **kwargs), None


def _call(spec: str, kwargs: dict[str, Any]) -> Any:
    """``module:callable`` called with ``kwargs`` (the search-space point): the PyTorch module."""
    import importlib

    from edgeprof.errors import ModelLoadError

    module_name, _, attr_path = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ModelLoadError(f"{spec}: cannot import module {module_name!r}: {type(exc).__name__}: {exc}") from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise ModelLoadError(f"{spec}: {module_name!r} has no attribute {attr_path!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ModelLoadError(f"{spec}: {attr_path!r} is a {type(obj).__name__}, not a callable")
    try:
        return obj(**kwargs)
    except Exception as exc:
        raise ModelLoadError(f"{spec}: calling it with {kwargs} raised {type(exc).__name__}: {exc}") from None


def _measured(p: Profile, module: Any, opts: dict[str, Any]) -> Profile:
    m = opts["measure"]
    return api.measured(p, model=module, runs=m["runs"], timeout_s=m["timeout_s"], max_time_s=m["max_time_s"],
                        threads=m["threads"], sysfs_root=m.get("sysfs_root", "/sys"))


def _on_target(p: Profile, device: str, precision: str, job: Job, devices_files: list[str]) -> Profile:
    if not device:
        return p
    runtime = job.options.get("runtime")
    p = api.predict_latency(p, [device], devices_files=devices_files, runtime=runtime, precision=precision or None)
    return api.estimate_energy(p, [device], devices_files=devices_files, runtime=runtime, precision=precision or None)


def _row(job: Job, device: str, precision: str, base: dict[str, Any], p: Profile | None, error: str) -> SweepRow:
    if p is None:
        return SweepRow(**base, device=device, precision=precision, status="error", error=error)
    t = p.totals
    mem = p.memory
    lat = p.latency.predicted.get(device) if p.latency is not None and device else None
    energy = p.energy.estimated.get(device) if p.energy is not None and device else None
    measured = p.latency.measured if p.latency is not None else None
    measured_peak = None
    errors = []
    if mem is not None and mem.measured is not None:
        if mem.measured.rss is not None:
            measured_peak = mem.measured.rss.peak_rss_increase_bytes
        elif mem.measured.tensor_peak is not None:
            measured_peak = mem.measured.tensor_peak.peak_activation_bytes
    if mem is not None and mem.measurement_error:
        errors.append(f"memory: {mem.measurement_error}")
    if p.latency is not None and p.latency.measurement_error:
        errors.append(f"latency: {p.latency.measurement_error}")
    return SweepRow(
        **base, device=device, precision=precision, status="ok",
        flops=max(t.flops, t.flops_max), macs=max(t.macs, t.macs_max), params=t.params, weight_bytes=t.weight_bytes,
        peak_bytes=mem.predicted.peak_bytes if mem is not None else None, is_lower_bound=t.is_lower_bound,
        latency_s=lat.total_s if lat is not None else None,
        latency_is_lower_bound=lat.is_lower_bound if lat is not None else None,
        energy_j=energy.estimated_j.mid if energy is not None else None,
        measured_latency_s=measured.p50_s if measured is not None else None, measured_peak_bytes=measured_peak,
        measurement_error="; ".join(" ".join(e.split()) for e in errors),
        report=p.to_json(indent=None),
    )


def run_job(job: Job, runner: str = "local") -> list[SweepRow]:
    """The rows of one job (see the module docstring); ``runner`` is recorded in each row."""
    start = time.perf_counter()
    rows: list[SweepRow] = []
    with tempfile.TemporaryDirectory(prefix="edgeprof-sweep-") as tmp:
        folder = Path(tmp)
        devices_files = []
        for i, (name, text) in enumerate(job.devices_files):
            path = folder / f"devices-{i}-{Path(name).name}"
            path.write_text(text, encoding="utf-8")
            devices_files.append(str(path))
        profiled: Profile | None = None
        module: Any = None
        error = ""
        try:
            profiled, module = _profile(job, folder)
            if job.options.get("measure"):
                profiled = _measured(profiled, module, job.options)
        except Exception as exc:  # one model's failure is its rows' reason, never the sweep's end
            error = _reason(exc)
        results: list[tuple[str, str, Profile | None, str]] = []
        for device, precision in job.targets:
            if profiled is None:
                results.append((device, precision, None, error))
                continue
            try:
                results.append((device, precision, _on_target(profiled, device, precision, job, devices_files), ""))
            except Exception as exc:
                results.append((device, precision, None, _reason(exc)))
    elapsed = time.perf_counter() - start
    base = {"model_hash": job.model_hash, "options_hash": job.options_hash, "edgeprof_version": __version__,
            "label": job.label, "source": job.source, "point": canonical_json(job.point),
            "options": canonical_json(job.options), "runner": runner, "host": socket.gethostname(),
            "elapsed_s": elapsed, "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    for device, precision, p, err in results:
        rows.append(_row(job, device, precision, base, p, err))
    return rows


def worker_env() -> dict[str, str]:
    """The environment a worker needs to import this edgeprof (a Ray task on this machine)."""
    src = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (src, path) if p)}
