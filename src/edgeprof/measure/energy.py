"""Measured energy per inference: ONNX Runtime runs in a fresh subprocess, read by a power sensor.

Protocol (docs/energy.md):

1. the parent (:func:`edgeprof.api.measure_energy`) finds a sensor
   (:func:`edgeprof.measure.power.detect_meters`); with none, the report says
   :func:`no_sensor_note` ("no power sensor found (checked: ...)") and no subprocess runs;
2. the child (``python -m edgeprof.measure.energy``, via :mod:`edgeprof.measure.runner`) reads the
   sensor for ``idle_s`` seconds before loading the model: the idle baseline power;
3. it then runs the ONNX Runtime child of :mod:`edgeprof.measure.latency` with a timer that reads
   the sensor around the shared run loop (:func:`edgeprof.measure.timing.time_runs`: the first
   inference, the warm-up and the timed runs; ``N`` inferences in all, over ``T`` seconds);
4. energy per inference = (energy over the loop - idle power x T) / N.

A whole-socket sensor (RAPL) or a whole-module one (INA3221 VDD_IN) also measures every other
process of the machine: the idle baseline removes what ran before, not what changes during.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.inputs import input_request
from edgeprof.measure.latency import onnx_child
from edgeprof.measure.power import EnergyMeter, SensorError, SensorUnavailable, meter_from_spec
from edgeprof.measure.runner import ChildError, run_child, serve
from edgeprof.measure.timing import LatencyOptions, time_runs
from edgeprof.report.energy import MeasuredEnergy
from edgeprof.report.model import InputSpec

__all__ = ["measure_onnx_energy", "no_sensor_note", "per_inference"]


def no_sensor_note(checked: list[str]) -> str:
    """The plain statement a report carries when this machine has no usable power sensor."""
    return f"no power sensor found (checked: {'; '.join(checked)}): no measured energy"


def per_inference(total_j: float, idle_power_w: float, duration_s: float, runs: int) -> float:
    """(energy over the runs - idle power x their duration) / runs."""
    if runs < 1:
        raise MeasurementError("energy measurement: no inference was run")
    return (total_j - idle_power_w * duration_s) / runs


def measure_onnx_energy(path: str | Path, inputs: tuple[InputSpec, ...], meter: EnergyMeter, *,
                        runs_time_s: float = 3.0, idle_s: float = 2.0, threads: int = 1,
                        timeout_s: float = 300.0) -> MeasuredEnergy:
    """Measure the energy per inference of the ONNX file at ``path`` with ``meter`` (see the module docstring)."""
    file = Path(path)
    if not file.is_file():
        raise MeasurementError(f"energy measurement: {file} is not a file")
    if runs_time_s <= 0 or idle_s <= 0:
        raise MeasurementError("energy measurement: the run and idle times must be positive")
    options = LatencyOptions(intra_op_threads=threads, min_runs=10, max_runs=1_000_000, max_time_s=runs_time_s,
                             min_time_s=runs_time_s)
    request = {
        "path": str(file.resolve()),
        "inputs": input_request(inputs),
        **options.request(),
        "graph_optimization_level": options.graph_optimization_level,
        "sensor": meter.spec(),
        "idle_s": idle_s,
    }
    result = run_child(["-m", "edgeprof.measure.energy"], request, what="energy measurement",
                       timeout_s=timeout_s, env={"OMP_NUM_THREADS": str(threads)})
    try:
        e = result["energy"]
        runs = int(e["runs"])
        idle_w = float(e["idle_j"]) / float(e["idle_s"])
        by_domain = {str(k): float(v) for k, v in e["by_domain_j"].items()}
        total = meter.total(by_domain)
        duration = float(e["duration_s"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise MeasurementError(f"energy measurement: malformed result ({exc})") from None
    measured = per_inference(total, idle_w, duration, runs)
    note = ("whole-socket/whole-module sensor: other processes running during the runs are included; "
            "the idle baseline removes only what ran before")
    if measured <= 0:
        note = (f"the runs drew no more than the idle baseline ({measured:.3g} J per inference): the workload is "
                "below what this sensor resolves, or the idle load changed; " + note)
    return MeasuredEnergy(
        sensor=meter.name, domains=tuple(meter.domains), measured_j=measured, runs=runs, total_j=total,
        duration_s=duration, idle_power_w=idle_w, idle_s=float(e["idle_s"]),
        mean_power_w=total / duration if duration > 0 else 0.0, by_domain_j=by_domain,
        method=(f"fresh subprocess, onnxruntime CPU, {threads} thread(s); idle baseline {idle_s:g} s before loading; "
                f"energy over the first inference, warm-up and timed runs ({runs} inferences, at least "
                f"{runs_time_s:g} s); (energy - idle power x duration) / inferences; total = {meter.total_rule}"),
        note=note,
    )


# ---- the child -------------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> Mapping[str, Any]:
    try:
        meter = meter_from_spec(request["sensor"])
        idle_s = float(request["idle_s"])
        meter.start()
        time.sleep(idle_s)
        idle = meter.stop()
    except (SensorError, SensorUnavailable) as exc:
        raise ChildError(str(exc)) from None
    box: dict[str, Any] = {}

    def timed(run: Callable[[], None], req: Mapping[str, Any]) -> dict[str, Any]:
        meter.start()
        t0 = time.perf_counter()
        out = time_runs(run, req)
        duration = time.perf_counter() - t0
        try:
            by_domain = meter.stop()
        except (SensorError, SensorUnavailable) as exc:
            raise ChildError(str(exc)) from None
        box.update(runs=1 + int(out["warmup_runs"]) + len(out["samples_s"]), duration_s=duration,
                   by_domain_j=by_domain)
        return out

    result = dict(onnx_child(request, timer=timed))
    if not box:
        raise ChildError("the run loop of the ONNX Runtime child was not reached")
    result["energy"] = {**box, "idle_j": meter.total(idle), "idle_s": idle_s}
    return result


if __name__ == "__main__":
    serve(_child)
