"""Measured peak memory: run the model for real in a fresh subprocess and read the kernel's
resident-set counters (Linux ``/proc/self/status``: ``VmRSS``, ``VmHWM``).

ONNX files run on ONNX Runtime's CPU provider with random inputs of the profiled shapes and
dtypes. What is measured, in the child process:

1. import numpy and onnxruntime; create a **warm-up session on the same model**, run it once and
   drop it, so the runtime's one-off costs (its environment, kernel registries, code pages of
   the kernels this model uses, thread-local buffers) are paid before the baseline;
2. ``baseline`` = ``VmRSS``; the high-water mark is reset (``/proc/self/clear_refs``: 5);
3. create the session: ``load peak`` = ``VmHWM`` - baseline (the parsed model and the
   session's copy of the weights coexist here); then ``malloc_trim`` and
   ``session`` = ``VmRSS`` - baseline (the weights as the session holds them + session state);
4. make the inputs, reset the high-water mark, run ``runs`` times: ``peak`` = ``VmHWM`` -
   baseline, the figure compared with the prediction (weights + activation peak; the inputs
   are part of both).

The session options make that comparison meaningful (see :data:`ORT_OPTIONS` and
docs/memory.md): the CPU arena is off (it rounds allocations up and never gives memory back),
the memory pattern is off (each tensor is allocated when written and freed after its last
reader, as in the prediction), graph optimisations are off (the runtime runs the graph that
was predicted), weight pre-packing is off (no second copy of the weights), one thread. glibc
is told to serve every allocation of 64 KiB or more with its own ``mmap`` so that a freed
tensor leaves the resident set at once (``MALLOC_MMAP_THRESHOLD_``).
"""

from __future__ import annotations

import gc
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from edgeprof.errors import MeasurementError
from edgeprof.measure.inputs import input_request
from edgeprof.measure.ort_session import OrtModel, import_runtime
from edgeprof.measure.runner import ChildError as _ChildError
from edgeprof.measure.runner import first_line as _first_line
from edgeprof.measure.runner import run_child, serve
from edgeprof.report.memory import MeasuredMemory, MeasuredTensorPeak
from edgeprof.report.model import InputSpec, Provenance

__all__ = [
    "CHILD_ENV",
    "ORT_OPTIONS",
    "OrtMemoryOptions",
    "OrtProcessMemory",
    "measure_onnx_memory",
    "measure_ort_process_memory",
    "measure_torch_tensor_peak",
]


@dataclass(frozen=True)
class OrtMemoryOptions:
    """ONNX Runtime session settings for a memory measurement (the defaults are the ones the
    comparison with the prediction is documented for)."""

    enable_cpu_mem_arena: bool = False
    enable_mem_pattern: bool = False
    graph_optimization_level: str = "ORT_DISABLE_ALL"
    disable_prepacking: bool = True
    intra_op_num_threads: int = 1

    def describe(self) -> tuple[str, ...]:
        return (
            f"enable_cpu_mem_arena={self.enable_cpu_mem_arena}",
            f"enable_mem_pattern={self.enable_mem_pattern}",
            f"graph_optimization_level={self.graph_optimization_level}",
            f"session.disable_prepacking={int(self.disable_prepacking)}",
            f"intra_op_num_threads={self.intra_op_num_threads}",
            "inter_op_num_threads=1",
            "execution_mode=ORT_SEQUENTIAL",
            "providers=CPUExecutionProvider",
        )


ORT_OPTIONS = OrtMemoryOptions()

# glibc: a fixed mmap threshold (which also turns off its dynamic adjustment) so that tensors of
# 64 KiB and more are mapped and unmapped one by one; OpenMP builds kept to one thread.
CHILD_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "65536",
    "MALLOC_TRIM_THRESHOLD_": "131072",
    "OMP_NUM_THREADS": "1",
}

_GRAPH_LEVELS = ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL")


def _measurable(path: str | Path, runs: int) -> Path:
    """The model file of a memory measurement, after the checks every such run needs: at least
    one run, Linux's /proc counters, a file that exists."""
    if runs < 1:
        raise MeasurementError(f"memory measurement needs at least one run, got {runs}")
    if platform.system() != "Linux":
        raise MeasurementError(f"memory measurement reads Linux /proc counters; this is {platform.system()}")
    file = Path(path)
    if not file.is_file():
        raise MeasurementError(f"memory measurement: {file} is not a file")
    return file


def measure_onnx_memory(
    path: str | Path,
    inputs: Sequence[InputSpec] = (),
    *,
    runs: int = 5,
    timeout_s: float = 300.0,
    options: OrtMemoryOptions = ORT_OPTIONS,
) -> MeasuredMemory:
    """Run the ONNX file at ``path`` on ONNX Runtime (CPU) in a fresh subprocess and measure
    its peak resident-set increase. ``inputs`` give the shapes and dtypes (an input not listed
    must have a static shape in the model)."""
    if options.graph_optimization_level not in _GRAPH_LEVELS:
        raise MeasurementError(f"unknown graph optimisation level {options.graph_optimization_level!r}")
    file = _measurable(path, runs)
    request = {
        "path": str(file.resolve()),
        "inputs": input_request(inputs),
        "runs": runs,
        "options": {
            "enable_cpu_mem_arena": options.enable_cpu_mem_arena,
            "enable_mem_pattern": options.enable_mem_pattern,
            "graph_optimization_level": options.graph_optimization_level,
            "disable_prepacking": options.disable_prepacking,
            "intra_op_num_threads": options.intra_op_num_threads,
        },
    }
    result = run_child(["-m", "edgeprof.measure.memory"], request, what="onnxruntime memory run", timeout_s=timeout_s,
                       env=CHILD_ENV)
    baseline, load, session, peak, version, used = _child_rss(result, "baseline_rss_bytes", "onnxruntime memory run")
    env = f"onnxruntime {version}, CPUExecutionProvider, {platform.system()} {platform.release()}, " \
          f"Python {platform.python_version()}"
    return MeasuredMemory(
        runtime=f"onnxruntime {version} (CPUExecutionProvider)",
        peak_rss_increase_bytes=peak,
        load_peak_rss_increase_bytes=load,
        session_rss_increase_bytes=session,
        runs=runs,
        baseline_rss_bytes=baseline,
        options=(*options.describe(), *(f"{k}={v}" for k, v in CHILD_ENV.items())),
        inputs=used,
        provenance=Provenance(
            "measured",
            f"VmHWM over {runs} runs minus VmRSS after a warm-up session on the same model was dropped, "
            "in a fresh subprocess; random inputs",
            (env,),
        ),
    )


# ---- the process as deployed: default session options, default allocator ----------------------


@dataclass(frozen=True)
class OrtProcessMemory:
    """A process that creates an ONNX Runtime session with its *default* options and runs the
    model: resident-set figures relative to the RSS just after ``import onnxruntime``
    (``after_import_rss_bytes``). ``load_peak_increase_bytes``: the high-water mark while the
    session is created; ``session_increase_bytes``: once it is created; ``peak_increase_bytes``:
    the high-water mark from the import to the end of the runs (the figure
    ``process_peak_bytes`` predicts)."""

    runtime: str
    after_import_rss_bytes: int
    load_peak_increase_bytes: int
    session_increase_bytes: int
    peak_increase_bytes: int
    runs: int
    inputs: tuple[str, ...]
    provenance: Provenance


def measure_ort_process_memory(
    path: str | Path,
    inputs: Sequence[InputSpec] = (),
    *,
    runs: int = 3,
    timeout_s: float = 300.0,
) -> OrtProcessMemory:
    """The peak resident-memory increase of a fresh process that, after ``import onnxruntime``,
    creates ``InferenceSession(path)`` with default ``SessionOptions`` (arena, memory pattern,
    all graph optimisations, pre-packing, the default thread pools; glibc's default allocator
    settings) and runs it ``runs`` times on random inputs of the profiled shapes. Nothing is
    warmed up before the baseline: the runtime's one-off costs are part of the figure."""
    file = _measurable(path, runs)
    request = {"mode": "process", "path": str(file.resolve()), "inputs": input_request(inputs), "runs": runs}
    result = run_child(["-m", "edgeprof.measure.memory"], request, what="onnxruntime process memory run",
                       timeout_s=timeout_s)
    base, load, session, peak, version, used = _child_rss(result, "after_import_rss_bytes",
                                                         "onnxruntime process memory run")
    return OrtProcessMemory(
        runtime=f"onnxruntime {version} (CPUExecutionProvider, default SessionOptions)",
        after_import_rss_bytes=base,
        load_peak_increase_bytes=load,
        session_increase_bytes=session,
        peak_increase_bytes=peak,
        runs=runs,
        inputs=used,
        provenance=Provenance(
            "measured",
            f"VmHWM from just after import onnxruntime through InferenceSession(path) and {runs} runs, minus VmRSS "
            "after the import, in a fresh subprocess; default session options; random inputs",
            (f"onnxruntime {version}, {platform.system()} {platform.release()}, Python {platform.python_version()}",),
        ),
    )


class _ChildRss(NamedTuple):
    """A memory child's figures, each RSS as an increase over its baseline."""

    baseline_bytes: int
    load_peak_increase_bytes: int
    session_increase_bytes: int
    run_peak_increase_bytes: int
    onnxruntime: str
    inputs: tuple[str, ...]


def _child_rss(result: dict[str, Any], baseline_key: str, what: str) -> _ChildRss:
    """Read what a memory child reported, relative to its ``baseline_key`` RSS; a
    MeasurementError naming ``what`` when the result is malformed."""
    try:
        baseline = int(result[baseline_key])
        return _ChildRss(
            baseline,
            int(result["load_hwm_bytes"]) - baseline,
            int(result["session_rss_bytes"]) - baseline,
            int(result["run_hwm_bytes"]) - baseline,
            str(result["onnxruntime"]),
            tuple(str(x) for x in result["inputs"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MeasurementError(f"{what}: malformed result ({exc})") from None


class _DefaultSession(OrtModel):
    """:class:`OrtModel`'s feeds and runs around a session made with default ``SessionOptions``."""

    def __init__(self, path: str, ort: Any) -> None:
        self.path, self.feeds = path, {}
        try:
            self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        except Exception as exc:  # the runtime's own error types; reported as one line
            raise _ChildError(f"onnxruntime cannot load {Path(path).name}: {_first_line(exc)}") from None


def _process_child(request: dict[str, Any]) -> dict[str, Any]:
    """A deployed process: nothing warmed up, default session options, the default allocator."""
    _, ort = import_runtime()
    gc.collect()
    base = baseline()
    model = _DefaultSession(request["path"], ort)
    load = _status()
    described = model.feed(request["inputs"])
    for _ in range(int(request["runs"])):
        model.run()
    end = _status()
    return {
        "onnxruntime": ort.__version__,
        "after_import_rss_bytes": base["VmRSS"],
        "load_hwm_bytes": load["VmHWM"],
        "session_rss_bytes": load["VmRSS"],
        "run_hwm_bytes": end["VmHWM"],
        "inputs": described,
    }


# ---- PyTorch: the peak of live tensor storage ---------------------------------------------------


def measure_torch_tensor_peak(module: Any, inputs: Any, *, runs: int = 2) -> MeasuredTensorPeak:
    """Run ``module`` (a CPU ``torch.nn.Module``) on ``inputs`` (a tensor, a tuple of positional
    inputs or a dict of keyword inputs) under ``torch.inference_mode`` and measure the peak of
    live tensor storage: the inputs plus the most bytes the CPU allocator held for tensors made
    during one forward (``torch.profiler`` with ``profile_memory=True``; the last of ``runs``
    forwards is measured, the others warm up one-off caches).

    This is the extension point of the PyTorch path: it runs in the calling process (a module
    cannot be handed to another one); run it in a fresh subprocess to keep the caller's memory
    apart. The module's training flags are restored afterwards. Raises
    :class:`MeasurementError` (one line) when the forward fails."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    from torch.utils import _pytree as pytree

    if runs < 1:
        raise MeasurementError(f"memory measurement needs at least one run, got {runs}")
    if not isinstance(module, torch.nn.Module):
        raise MeasurementError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(inputs, dict):
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = dict(inputs)
    else:
        args, kwargs = (inputs if isinstance(inputs, tuple) else (inputs,)), {}
    tensors = [t for t in pytree.tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
    weights = [*module.parameters(), *module.buffers()]
    if any(t.device.type != "cpu" for t in (*tensors, *weights)):
        raise MeasurementError("the live-tensor measurement runs on the CPU; move the module and inputs to the CPU")

    def storage_bytes(ts: Sequence[Any]) -> int:
        seen: dict[int, int] = {}
        for t in ts:
            st = t.untyped_storage()
            seen[st.data_ptr()] = st.nbytes()
        return sum(seen.values())

    flags = {m: m.training for m in module.modules()}
    events: list[Any] = []
    try:
        module.eval()
        with torch.inference_mode():
            for _ in range(runs - 1):
                module(*args, **kwargs)
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                out = module(*args, **kwargs)
            del out
        events = list(prof.profiler.kineto_results.events())
    except MeasurementError:
        raise
    except AttributeError as exc:
        raise MeasurementError(f"this torch version does not expose the profiler's memory events ({exc})") from None
    except Exception as exc:
        raise MeasurementError(f"the PyTorch forward failed: {_first_line(exc)}") from None
    finally:
        for m, flag in flags.items():
            m.training = flag
    allocations = sorted(
        (e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]" and str(e.device_type()).endswith("CPU")
    )
    live = peak = 0
    for _, nbytes in allocations:
        live += nbytes
        peak = max(peak, live)
    input_bytes = storage_bytes(tensors)
    return MeasuredTensorPeak(
        runtime=f"torch {torch.__version__} eager (CPU)",
        peak_activation_bytes=input_bytes + peak,
        peak_allocated_increase_bytes=peak,
        input_bytes=input_bytes,
        weight_bytes=storage_bytes(weights),
        runs=runs,
        provenance=Provenance(
            "measured",
            "torch.profiler memory events (profile_memory=True): peak of CPU bytes allocated during one forward "
            "under inference_mode, plus the inputs",
            (f"torch {torch.__version__}, {platform.system()} {platform.release()}, Python {platform.python_version()}",),
        ),
    )


# ---- the child -------------------------------------------------------------------------------


def _status() -> dict[str, int]:
    """``/proc/self/status`` memory counters in bytes."""
    found: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                found[key] = int(rest.split()[0]) * 1024
    return found


def _reset_hwm() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def baseline() -> dict[str, int]:
    """In a child: the memory counters now (the baseline), then the peak-RSS mark reset."""
    base = _status()
    try:
        _reset_hwm()
    except OSError as exc:
        raise _ChildError(f"cannot reset the peak-RSS counter (/proc/self/clear_refs): {exc.strerror}") from None
    return base


def settler() -> Callable[[], None]:
    """In a child: a function that collects garbage and gives freed heap back to the kernel
    (glibc ``malloc_trim``, when there is one), so the resident set shows what is live."""
    import ctypes

    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        trim = None

    def settle() -> None:
        gc.collect()
        if trim is not None:
            trim(0)

    return settle


def _child(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("mode") == "process":
        return _process_child(request)
    _, ort = import_runtime()
    settle = settler()
    opts = request["options"]
    path, given = request["path"], request["inputs"]

    def configure(so: Any) -> None:
        so.enable_cpu_mem_arena = bool(opts["enable_cpu_mem_arena"])
        so.enable_mem_pattern = bool(opts["enable_mem_pattern"])
        if opts["disable_prepacking"]:
            so.add_session_config_entry("session.disable_prepacking", "1")

    def session() -> OrtModel:
        return OrtModel(path, threads=int(opts["intra_op_num_threads"]),
                        graph_optimization_level=opts["graph_optimization_level"], configure=configure)

    warm = session()
    warm.feed(given)
    warm.run()
    del warm
    settle()
    base = baseline()
    model = session()
    load_hwm = _status()["VmHWM"]
    settle()
    after_session = _status()["VmRSS"]
    described = model.feed(given)
    settle()
    _reset_hwm()
    for _ in range(int(request["runs"])):
        model.run()
    end = _status()
    return {
        "onnxruntime": ort.__version__,
        "baseline_rss_bytes": base["VmRSS"],
        "load_hwm_bytes": load_hwm,
        "session_rss_bytes": after_session,
        "run_hwm_bytes": end["VmHWM"],
        "file_rss_growth_bytes": end.get("RssFile", 0) - base.get("RssFile", 0),
        "inputs": described,
    }


if __name__ == "__main__":
    serve(_child)
