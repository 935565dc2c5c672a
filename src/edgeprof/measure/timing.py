"""The timed-run protocol every latency measurement uses, whatever runtime runs the model.

Child side (:func:`time_runs`): the first inference timed on its own; warm-up (at least 3 runs
and 0.2 s, at most 50 runs); then timed runs (``time.perf_counter`` around each) until the 95 %
confidence interval of the mean is within ``target_rel_ci`` of it after at least ``min_runs``
runs and ``min_time_s``, or ``max_runs`` or ``max_time_s`` is reached; the process CPU time
over the loop.

Parent side (:func:`measured_latency`): the child's samples and facts turned into a
:class:`~edgeprof.report.latency.MeasuredLatency` with the statistics of
:mod:`edgeprof.measure.stats`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.stats import relative_ci_half_width, summarise
from edgeprof.report.latency import Environment, MeasuredLatency

__all__ = ["DEFAULT_OPTIONS", "LatencyOptions", "environment_dict", "measured_latency", "time_runs"]

WARMUP_MIN_RUNS = 3
WARMUP_MAX_RUNS = 50
WARMUP_MIN_S = 0.2


@dataclass(frozen=True)
class LatencyOptions:
    """How long and how a latency measurement runs."""

    intra_op_threads: int = 1
    min_runs: int = 10
    max_runs: int = 1000
    max_time_s: float = 10.0
    min_time_s: float = 1.0  # keep timing at least this long, even when stable earlier
    target_rel_ci: float = 0.02
    graph_optimization_level: str = "ORT_ENABLE_ALL"

    def check(self) -> None:
        """Raise :class:`MeasurementError` for options no measurement can run with."""
        if self.intra_op_threads < 1:
            raise MeasurementError(f"latency measurement needs at least one thread, got {self.intra_op_threads}")
        if self.max_runs < 1 or self.min_runs < 1:
            raise MeasurementError("latency measurement needs at least one run")

    def request(self) -> dict[str, Any]:
        """The loop's settings as the child's request carries them (read by :func:`time_runs`)."""
        return {
            "threads": self.intra_op_threads,
            "min_runs": min(self.min_runs, self.max_runs),
            "max_runs": self.max_runs,
            "max_time_s": self.max_time_s,
            "min_time_s": self.min_time_s,
            "target_rel_ci": self.target_rel_ci,
        }

    def describe_loop(self) -> str:
        return (f"warm-up then timed runs until the 95 % CI of the mean is within {self.target_rel_ci:.0%} (at least "
                f"{self.min_runs} runs and {self.min_time_s:g} s, at most {self.max_runs} runs and "
                f"{self.max_time_s:g} s); random inputs")


DEFAULT_OPTIONS = LatencyOptions()


def time_runs(run: Callable[[], None], request: Mapping[str, Any]) -> dict[str, Any]:
    """In the child: time ``run`` (one inference) as the module docstring says; ``request`` holds
    :meth:`LatencyOptions.request`'s keys. Returns the samples and the loop's facts."""
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    warm = 0
    t0 = time.perf_counter()
    while warm < WARMUP_MAX_RUNS and (warm < WARMUP_MIN_RUNS or time.perf_counter() - t0 < WARMUP_MIN_S):
        run()
        warm += 1
    min_runs, max_runs = int(request["min_runs"]), int(request["max_runs"])
    max_time, target = float(request["max_time_s"]), float(request["target_rel_ci"])
    min_time = min(float(request["min_time_s"]), max_time)
    samples: list[float] = []
    reason = f"max runs ({max_runs})"
    cpu0 = time.process_time()
    start = time.perf_counter()
    while len(samples) < max_runs:
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        samples.append(t1 - t0)
        n = len(samples)
        if (n >= min_runs and t1 - start >= min_time and (n < 200 or n % 10 == 0)
                and relative_ci_half_width(samples) <= target):
            reason = f"stable (95 % CI of the mean within {target:.0%})"
            break
        if t1 - start >= max_time:
            reason = f"time limit ({max_time:g} s)"
            break
    return {
        "samples_s": samples,
        "warmup_runs": warm,
        "cpu_time_s": time.process_time() - cpu0,
        "first_inference_s": first,
        "wall_time_s": time.perf_counter() - start,
        "stop_reason": reason,
    }


def environment_dict(env: Environment) -> dict[str, Any]:
    """In the child: an :class:`Environment` as JSON."""
    return {
        "cpu_model": env.cpu_model, "logical_cores": env.logical_cores, "platform": env.platform,
        "python_version": env.python_version, "runtime": env.runtime, "runtime_version": env.runtime_version,
        "numpy_version": env.numpy_version, "intra_op_threads": env.intra_op_threads,
        "load_average": list(env.load_average),
    }


def measured_latency(result: Mapping[str, Any], options: LatencyOptions, *, what: str, runtime: str,
                     method: str) -> MeasuredLatency:
    """In the parent: the child's result (:func:`time_runs`' keys plus ``load_time_s``, ``inputs``
    and ``environment``) as a :class:`MeasuredLatency`; ``runtime`` may use ``{version}``."""
    try:
        samples = [float(x) for x in result["samples_s"]]
        stats = summarise(samples)
        raw_env = result["environment"]
        environment = Environment(**{**raw_env, "load_average": tuple(raw_env["load_average"])})
        return MeasuredLatency(
            runtime=runtime.format(version=environment.runtime_version),
            runs=stats.runs,
            warmup_runs=int(result["warmup_runs"]),
            p50_s=stats.p50_s, p90_s=stats.p90_s, p99_s=stats.p99_s, min_s=stats.min_s, max_s=stats.max_s,
            mean_s=stats.mean_s, std_s=stats.std_s,
            ci95_half_width_rel=stats.ci95_half_width_rel if math.isfinite(stats.ci95_half_width_rel) else None,
            stable=stats.ci95_half_width_rel <= options.target_rel_ci,
            cpu_time_per_run_s=float(result["cpu_time_s"]) / stats.runs,
            load_time_s=float(result["load_time_s"]),
            first_inference_s=float(result["first_inference_s"]),
            wall_time_s=float(result["wall_time_s"]),
            stop_reason=str(result["stop_reason"]),
            inputs=tuple(str(x) for x in result["inputs"]),
            environment=environment,
            method=f"{method}; {options.describe_loop()}",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MeasurementError(f"{what}: malformed result ({exc})") from None
