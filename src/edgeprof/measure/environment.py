"""The environment of a measurement: CPU model, cores, runtime versions, load average, Python."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from edgeprof.report.latency import Environment

__all__ = ["cpu_model", "environment", "load_average"]


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU model name (Linux ``/proc/cpuinfo`` ``model name``, else ``platform.processor()``)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> tuple[float, ...]:
    """The 1/5/15-minute load averages (empty where the OS has none)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except (OSError, AttributeError):
        return ()


def environment(runtime: str, runtime_version: str, numpy_version: str, intra_op_threads: int) -> Environment:
    """This machine and process, with the runtime that ran the model."""
    return Environment(
        cpu_model=cpu_model(),
        logical_cores=os.cpu_count() or 0,
        platform=f"{platform.system()} {platform.release()} {platform.machine()}",
        python_version=platform.python_version(),
        runtime=runtime,
        runtime_version=runtime_version,
        numpy_version=numpy_version,
        intra_op_threads=intra_op_threads,
        load_average=load_average(),
    )
