"""The public entry points, and the one module that orchestrates.

:func:`load` a model into the IR and :func:`profile` it; :func:`predict_latency` and
:func:`estimate_energy` on catalogue devices; run it for real with :func:`measure_memory`,
:func:`measure_latency` and :func:`measure_energy`, or all three with :func:`measured`;
:func:`validate` predictions against measurements, :func:`calibrate` this machine as a device.

Every one of them dispatches on the model's format through one table (:data:`_FORMATS`): how a
format loads and how (if at all) each measurement runs it. The measurement modules below
(:mod:`edgeprof.measure`) run one runtime each and never call back up here; the command line
(:mod:`edgeprof.cli`) parses arguments, calls these functions and renders their results.

Long steps take an optional ``progress`` callback, called with the label of each step as it
starts (the command line shows it on a terminal).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprof.errors import MeasurementError, ModelLoadError, UsageError
from edgeprof.frontends.base import CALLABLE_SPEC, LoadedModel, ShapeRequest
from edgeprof.ir.limits import MIN_NAMED_DIM, MIN_SHAPE_DIM, dim_in_range
from edgeprof.measure.timing import LatencyOptions
from edgeprof.report.energy import EnergyReport, MeasuredEnergy
from edgeprof.report.latency import LatencyReport, MeasuredLatency, ValidationEntry
from edgeprof.report.llm import LLMFigures
from edgeprof.report.model import Profile

if TYPE_CHECKING:
    from edgeprof.devices.catalogue import Device
    from edgeprof.measure.calibrate import Calibration
    from edgeprof.measure.power import EnergyMeter

__all__ = [
    "InputShapes", "Progress", "calibrate", "estimate_energy", "llm_figures_for", "load", "load_devices",
    "load_ops_file", "measure_energy", "measure_latency", "measure_memory", "measured", "predict_latency", "profile",
    "register_op", "shape_request", "unregister_op", "validate",
]

Progress = Callable[[str], None]
"""A progress callback: called with the label of each long step as it starts."""

InputShapes = (
    Mapping[str, Sequence[int]] | Sequence[Sequence[int]] | Sequence[tuple[str | None, Sequence[int]]] | None
)


def _is_pair(item: Any) -> bool:
    return (
        isinstance(item, tuple) and len(item) == 2 and (item[0] is None or isinstance(item[0], str))
        and isinstance(item[1], (tuple, list))
    )


def shape_request(
    input_shapes: InputShapes = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, float | Sequence[float]] | None = None,
) -> ShapeRequest:
    """Normalise the API's shape arguments into a :class:`ShapeRequest` (validated).

    ``input_shapes`` is a mapping name -> shape, a list of shapes in input order, one bare
    shape, or a list of ``(name or None, shape)`` pairs (``None``: the next input in order)."""
    pairs: list[tuple[str | None, tuple[int, ...]]] = []
    if isinstance(input_shapes, Mapping):
        items: list[tuple[str | None, Sequence[int]]] = [(str(k), v) for k, v in input_shapes.items()]
    elif input_shapes is None:
        items = []
    else:
        seq = list(input_shapes)
        if seq and all(isinstance(d, int) for d in seq):  # one bare shape: (1, 3, 224, 224)
            seq = [seq]  # type: ignore[list-item]
        if seq and all(_is_pair(s) for s in seq):  # (name or None, shape) pairs, in order
            items = [(s[0], s[1]) for s in seq]  # type: ignore[misc]
        else:
            items = [(None, s) for s in seq]  # type: ignore[misc]
    for name, shape in items:
        try:
            dims_t = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise UsageError(f"input shape {shape!r} is not a sequence of ints") from None
        for d in dims_t:
            if not dim_in_range(d, MIN_SHAPE_DIM):
                raise UsageError(f"input shape {dims_t}: every dim must be an integer from 1 to 2**62-1")
        pairs.append((name, dims_t))
    dims_map: dict[str, int] = {}
    for k, size in (dims or {}).items():
        if not isinstance(size, int) or isinstance(size, bool) or not dim_in_range(size, MIN_NAMED_DIM):
            raise UsageError(f"dim {k}={size!r} must be an integer from 0 to 2**62-1")
        dims_map[str(k)] = size
    vals: dict[str, tuple[float, ...]] = {}
    for k, v in (values or {}).items():
        vals[str(k)] = (float(v),) if isinstance(v, (int, float)) else tuple(float(x) for x in v)
    return ShapeRequest(tuple(pairs), dims_map, vals)


# ---- user formulas for custom ops ------------------------------------------------------------------


def register_op(op: str, formula: Callable[..., Any] | str | Mapping[str, Any], *, category: str = "other") -> None:
    """Cost ``op``, an op edgeprof does not know (``"com.example::MyOp"`` for an ONNX op of a
    custom domain, ``"CUSTOM:MyOp"`` for a TFLite custom op: the names a report's "Not counted"
    list shows), in every later :func:`profile`.

    ``formula`` is one of: a function of an :class:`edgeprof.OpCall` (its shapes through
    ``call.in_shape(i)``, ``call.out_shape(i)``, its attributes through ``call.attrs``) returning
    the FLOPs as an int or an :class:`edgeprof.Arith` (``ops``, ``macs``, bytes); an expression of
    the shapes as a string (the FLOPs, e.g. ``"2 * numel(in0)"``); or a mapping like a table of
    an ``--ops-file`` (``flops``, ``macs``, ``bytes_read``, ``bytes_written``, ``category``,
    ``defaults``; see :mod:`edgeprof.ops.user`). Registering the op again replaces its formula;
    an op edgeprof costs itself is refused (:class:`UsageError`). A formula that raises or
    cannot cost a node leaves that node not counted, with the reason."""
    from edgeprof.ops.registry import Arith, Category, register_user
    from edgeprof.ops.user import register_expressions

    origin = "edgeprof.register_op"
    if isinstance(formula, str):
        formula = {"flops": formula}
    if isinstance(formula, Mapping):
        table = dict(formula)
        if category != "other" and "category" not in table:
            table["category"] = category
        register_expressions(op, table, f"register_op({op!r})", origin=origin)
        return
    if not callable(formula):
        raise UsageError(f"register_op({op!r}): formula must be a function, an expression string or a mapping, not "
                         f"{type(formula).__name__}")
    try:
        cat = Category(category)
    except ValueError:
        raise UsageError(f"register_op({op!r}): unknown category {category!r} (known: "
                         f"{', '.join(c.value for c in Category)})") from None
    fn = formula

    def as_arith(call: Any) -> Arith:
        result = fn(call)
        if isinstance(result, int) and not isinstance(result, bool):
            return Arith(ops=result)
        return result  # type: ignore[no-any-return]  # checked by the registry (not an Arith: not counted)

    doc = (getattr(fn, "__doc__", None) or "").strip().splitlines()
    register_user(op, as_arith, cat, doc[0] if doc else f"{getattr(fn, '__qualname__', 'a function')} (Python)",
                  origin=origin)


def unregister_op(op: str) -> bool:
    """Forget the formula :func:`register_op` or :func:`load_ops_file` gave ``op``; whether there
    was one (edgeprof's own formulas are never removed)."""
    from edgeprof.ops.registry import unregister_user

    return unregister_user(op)


def load_ops_file(path: str | os.PathLike[str]) -> list[str]:
    """Register the formulas of a TOML ops file (``[ops."NAME"]`` tables of expressions of the
    input and output shapes: ``flops``, ``macs``, ``bytes_read``, ``bytes_written``; the format
    is in :mod:`edgeprof.ops.user` and docs/ops.md), as ``--ops-file`` does; returns the op
    names. Every op is checked before any is registered."""
    from edgeprof.ops.user import load_ops_file as load

    return load(str(path))


# ---- the one dispatch on the model's format ------------------------------------------------------

_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".ckpt", ".bin")


@dataclass(frozen=True)
class _Run:
    """What a measurement runs: the profiled model (its file or 'module:callable', its inputs), the
    PyTorch module when one was passed, its example inputs, and the time allowed."""

    profile: Profile
    model: Any
    example_inputs: Any
    timeout_s: float
    values: Mapping[str, Sequence[float]] | None = None  # inputs filled with these (not random)

    @property
    def path(self) -> str:
        return self.profile.model.path

    def torch_inputs(self) -> Any:
        """The example inputs, or random tensors of the profiled shapes and dtypes."""
        if self.example_inputs is not None:
            return self.example_inputs
        from edgeprof.measure.inputs import TORCH_DTYPES, input_request, random_inputs

        for spec in self.profile.inputs:
            if spec.dtype not in TORCH_DTYPES:
                raise UsageError(f"input {spec.name!r} has dtype {spec.dtype}; pass example_inputs=... to measure")
        return tuple(random_inputs(input_request(self.profile.inputs), tensors=True))


_Loaded = tuple[LoadedModel, "LLMFigures | None"]  # the IR, and a decoder LLM's figures
_Loader = Callable[[Any, ShapeRequest, dict[str, Any], bool], _Loaded]


@dataclass(frozen=True)
class _Format:
    """One model format: how it loads (with the LLM figures a Hugging Face decoder config adds) and
    how each measurement runs it (None: that measurement is not available for it)."""

    load: _Loader
    memory: Callable[[_Run, int], tuple[Any, ...]] | None = None  # the measurements, applied in order
    latency: Callable[[_Run, LatencyOptions], MeasuredLatency] | None = None
    energy: Callable[[_Run, EnergyMeter, float, float, int], MeasuredEnergy] | None = None


def _load_onnx(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    from edgeprof.frontends.onnx import load_onnx

    return load_onnx(source, request, **options), None


def _load_tflite(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    from edgeprof.frontends.tflite import load_tflite

    return load_tflite(Path(source), request, **options), None


def _load_module(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    from edgeprof.frontends.pytorch import load_torch

    return load_torch(source, request, **options), None


def _load_callable(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    from edgeprof.frontends.pytorch import load_callable

    return load_callable(source, request, **options), None


def _load_pt2(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    from edgeprof.frontends.pytorch import load_pt2

    return load_pt2(Path(source), request, **options), None


def _load_hf(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    """The config's model is built once: traced for the profile and (``llm``: for a decoder LLM with
    ``seq_len``) for its prefill and decode figures."""
    from edgeprof.frontends.pytorch import load_hf_config_and_decoder
    from edgeprof.passes.llm import llm_figures

    loaded, trace = load_hf_config_and_decoder(_hf_folder(Path(source)) or Path(source), request, llm=llm, **options)
    if trace is None:
        return loaded, None
    return loaded, llm_figures(trace.prefill, trace.decode, trace.spec, prefill_logits=trace.prefill_logits)


def _hf_folder(path: Path) -> Path | None:
    """The ``config.json`` of a Hugging Face model folder (accepted where a config file is)."""
    config = path / "config.json"
    return config if path.is_dir() and config.is_file() else None


def llm_figures_for(source: str | os.PathLike[str] | Mapping[str, Any], context_len: int, *, batch_size: int = 1,
                    attn_implementation: str = "sdpa", dtype: str | None = None) -> LLMFigures:
    """Prefill and decode figures of a decoder LLM (a Hugging Face config file or dict) at
    ``context_len`` tokens: the PyTorch frontend traces the prefill and the decode step, the LLM
    pass counts them. Prefill is one forward over ``context_len`` tokens computing the logits of
    the last position only (as ``generate()`` runs it); decode is one new token attending to a KV
    cache of ``context_len`` tokens (so ``context_len + 1`` keys)."""
    from edgeprof.frontends.pytorch import trace_decoder
    from edgeprof.passes.llm import llm_figures

    src: Any = source if isinstance(source, Mapping) else _hf_folder(Path(source)) or Path(source)
    trace = trace_decoder(src, context_len, batch_size=batch_size, attn_implementation=attn_implementation,
                          dtype=dtype)
    return llm_figures(trace.prefill, trace.decode, trace.spec, prefill_logits=trace.prefill_logits)


def _refuse_checkpoint(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    path = Path(source)
    raise ModelLoadError(
        f"{path}: refusing to unpickle a {path.suffix.lower()} checkpoint (unpickling runs code from the file); "
        "pass an .onnx or a torch.export .pt2 file, or a 'module:callable' that builds the model"
    )


def _refuse_object(source: Any, request: ShapeRequest, options: dict[str, Any], llm: bool) -> _Loaded:
    raise UsageError(
        f"cannot profile an object of type {type(source).__name__}; pass a model file path, an onnx.ModelProto, "
        "a torch.nn.Module or a 'package.module:callable' that builds one"
    )


def _onnx_memory(run: _Run, runs: int) -> tuple[Any, ...]:
    from edgeprof.measure.memory import measure_onnx_memory

    return (measure_onnx_memory(run.path, run.profile.inputs, runs=runs, timeout_s=run.timeout_s),)


def _onnx_latency(run: _Run, options: LatencyOptions) -> MeasuredLatency:
    from edgeprof.measure.latency import measure_onnx_latency

    return measure_onnx_latency(run.path, run.profile.inputs, options=options, timeout_s=run.timeout_s,
                                values=run.values)


def _onnx_energy(run: _Run, meter: EnergyMeter, runs_time_s: float, idle_s: float, threads: int) -> MeasuredEnergy:
    from edgeprof.measure.energy import measure_onnx_energy

    return measure_onnx_energy(run.path, run.profile.inputs, meter, runs_time_s=runs_time_s, idle_s=idle_s,
                               threads=threads, timeout_s=run.timeout_s)


def _tflite_memory(run: _Run, runs: int) -> tuple[Any, ...]:
    from edgeprof.measure.litert import measure_tflite_memory

    return (measure_tflite_memory(run.path, run.profile.inputs, runs=runs, timeout_s=run.timeout_s),)


def _tflite_latency(run: _Run, options: LatencyOptions) -> MeasuredLatency:
    from edgeprof.measure.litert import measure_tflite_latency

    return measure_tflite_latency(run.path, run.profile.inputs, options=options, timeout_s=run.timeout_s)


def _module_memory(run: _Run, runs: int) -> tuple[Any, ...]:
    from edgeprof.measure.memory import measure_torch_tensor_peak

    return (measure_torch_tensor_peak(run.model, run.torch_inputs(), runs=max(2, min(runs, 5))),)


def _module_latency(run: _Run, options: LatencyOptions) -> MeasuredLatency:
    from edgeprof.measure.torch_latency import measure_module_latency

    return measure_module_latency(run.model, run.torch_inputs(), options=options)


def _callable_memory(run: _Run, runs: int) -> tuple[Any, ...]:
    from edgeprof.measure.torch_memory import measure_callable_memory

    rss, tensor_peak = measure_callable_memory(run.profile.model.name, run.profile.inputs, runs=runs,
                                               timeout_s=run.timeout_s)
    return tensor_peak, rss


def _callable_latency(run: _Run, options: LatencyOptions) -> MeasuredLatency:
    from edgeprof.measure.torch_latency import measure_callable_latency

    return measure_callable_latency(run.profile.model.name, run.profile.inputs, options=options,
                                    timeout_s=run.timeout_s)


_FORMATS: dict[str, _Format] = {
    "onnx": _Format(_load_onnx, _onnx_memory, _onnx_latency, _onnx_energy),
    "tflite": _Format(_load_tflite, _tflite_memory, _tflite_latency),
    "torch-module": _Format(_load_module, _module_memory, _module_latency),
    "torch-callable": _Format(_load_callable, _callable_memory, _callable_latency),
    "pt2": _Format(_load_pt2),
    "hf-config": _Format(_load_hf),
    "checkpoint": _Format(_refuse_checkpoint),
    "unknown": _Format(_refuse_object),
}


def _format_of(model: Any) -> str:
    """What ``model`` is: a key of :data:`_FORMATS`."""
    # An nn.Module is recognised without importing torch: ``import edgeprof`` stays torch-free.
    torch_mod = sys.modules.get("torch")
    if torch_mod is not None and isinstance(model, torch_mod.nn.Module):
        return "torch-module"
    # "package.module:callable" (an existing file of that name wins).
    if isinstance(model, str) and CALLABLE_SPEC.match(model) and not os.path.exists(model):
        return "torch-callable"
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if _hf_folder(path) is not None:
            return "hf-config"
        suffix = path.suffix.lower()
        if suffix in (".pt2", ".json") or suffix in _PICKLE_SUFFIXES:
            return {".pt2": "pt2", ".json": "hf-config"}.get(suffix, "checkpoint")
        from edgeprof.frontends.tflite import is_tflite_file

        # by name, or by the TFL3 identifier at bytes 4..8
        return "tflite" if suffix == ".tflite" or is_tflite_file(path) else "onnx"
    if type(model).__name__ == "ModelProto" and type(model).__module__.startswith("onnx"):
        return "onnx"
    return "unknown"


def _format_run(profile: Profile, model: Any) -> _Format | None:
    """The format a profiled model runs as: its file's (ONNX, TFLite), the PyTorch module passed as
    ``model``, or the 'module:callable' it was built by; None when it cannot be run."""
    info = profile.model
    if info.format in ("onnx", "tflite"):
        return _FORMATS[info.format] if info.path else None
    if info.format == "torch" and model is not None:
        return _FORMATS["torch-module"]
    if info.format == "torch" and CALLABLE_SPEC.match(info.name):
        return _FORMATS["torch-callable"]
    return None


def _load(model: Any, request: ShapeRequest, options: dict[str, Any], *, llm: bool) -> _Loaded:
    return _FORMATS[_format_of(model)].load(model, request, options, llm)


# ---- loading and counting ------------------------------------------------------------------------


def load(
    model: Any,
    *,
    input_shapes: InputShapes = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, float | Sequence[float]] | None = None,
    **options: Any,
) -> LoadedModel:
    """Turn ``model`` (a path, an ``onnx.ModelProto``, a ``torch.nn.Module``, ...) into the IR."""
    return _load(model, shape_request(input_shapes, dims, values), options, llm=False)[0]


def profile(
    model: Any,
    *,
    input_shapes: InputShapes = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, float | Sequence[float]] | None = None,
    memory: bool = True,
    search_order: bool = True,
    progress: Progress | None = None,
    **options: Any,
) -> Profile:
    """Count FLOPs, MACs, parameters and bytes of ``model`` at the given input shapes.

    ``input_shapes`` maps input names to shapes (or lists shapes in input order); ``dims``
    sets named symbolic dims; ``values`` gives small inputs' values (a sample rate, an ``If``
    flag). ``memory`` adds the memory report (weights, activation peak, timeline) and
    ``search_order`` its search for a lower-peak execution order. Other keyword options go to
    the frontend (e.g. ``example_inputs``, ``seq_len`` for PyTorch / Hugging Face models; a
    decoder LLM's config with ``seq_len`` also gets its prefill, decode and KV-cache figures).
    ``progress`` is called with the name of each step as it starts (loading, counting).
    Returns a :class:`Profile`."""
    from edgeprof.passes.summary import build_profile

    if progress is not None:
        progress("loading the model")
    loaded, llm = _load(model, shape_request(input_shapes, dims, values), options, llm=True)
    if progress is not None:
        progress("counting" + (" and the memory analysis" if memory else ""))
    result = build_profile(loaded, memory=memory, search_order=search_order)
    return dataclasses.replace(result, llm=llm) if llm is not None else result


# ---- devices: predictions and estimates ------------------------------------------------------------


def load_devices(ids: Sequence[str] | None = None, *,
                 devices_files: Sequence[str | os.PathLike[str]] = ()) -> list[Device]:
    """The catalogue's devices (plus those of the TOML ``devices_files``), or the ones named by
    ``ids`` in that order (:class:`UsageError` for an unknown id)."""
    from edgeprof.devices.catalogue import load_catalogue

    catalogue = load_catalogue(*(Path(f) for f in devices_files))
    if ids is None:
        return list(catalogue.devices.values())
    return [catalogue.get(d) for d in ids]


def predict_latency(
    profile: Profile, devices: Sequence[str], *, devices_files: Sequence[str | os.PathLike[str]] = (),
    runtime: str | None = None, precision: str | None = None,
) -> Profile:
    """``profile`` with ``latency.predicted`` for each device id of the catalogue (plus the TOML
    ``devices_files``; ``host`` comes from ``edgeprof calibrate``'s file), and whether the model
    fits each device: its RAM (``memory.predicted.ram_fits``: weights, activations, a decoder
    LLM's KV cache, the system's share) and, with SRAM and flash sizes, those
    (``memory.predicted.device_fits``). ``runtime`` picks one of the devices' runtimes (default:
    each device's own, ``devices/runtimes.toml``); the graph is partitioned for it (fallbacks to the
    host CPU). ``precision`` (fp32, fp16, int8, w8a8, w4a16) is a what-if: the network re-typed as
    deployed at that precision. See docs/latency.md."""
    from edgeprof.devices.catalogue import load_catalogue
    from edgeprof.passes.latency import with_predictions

    _check_precision(precision)
    catalogue = load_catalogue(*(Path(f) for f in devices_files))
    targets = [catalogue.get(d) for d in devices]
    result = with_predictions(profile, targets, runtime=runtime, precision=precision, catalogue=catalogue)
    if result.memory is not None:
        from edgeprof.passes.memory import with_device_fits

        kv_cache = result.llm.kv_cache_bytes if result.llm is not None else 0
        result = dataclasses.replace(result, memory=with_device_fits(result.memory, targets, kv_cache, precision))
    return result


def _check_precision(precision: str | None) -> None:
    from edgeprof.passes.partition import WHAT_IF_PRECISIONS

    if precision is not None and precision not in WHAT_IF_PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(WHAT_IF_PRECISIONS)}, not {precision!r}")


def estimate_energy(
    profile: Profile, devices: Sequence[str], *, devices_files: Sequence[str | os.PathLike[str]] = (),
    fps: float | None = None, battery_wh: float | None = None, runtime: str | None = None,
    precision: str | None = None,
) -> Profile:
    """``profile`` with ``energy.estimated`` for each device id: a {low, mid, high} range in joules:
    the device's idle and active power by the predicted utilisation over the predicted latency
    (predicted here unless ``profile.latency`` has it), the range from the uncertainty of both, with
    the per-op and data-movement energies (Horowitz 45 nm, node-scaled) beside it. ``fps`` (default
    30) drives the per-hour figures; ``battery_wh`` the battery share (default: 15 Wh, an assumed
    phone battery, on phones only; none for boards without a battery). ``runtime`` and
    ``precision`` (a what-if) as in :func:`predict_latency`. See docs/energy.md."""
    from edgeprof.passes.energy import DEFAULT_FPS, with_energy

    for name, value in (("fps", fps), ("battery_wh", battery_wh)):
        if value is not None and not (value > 0 and value < float("inf")):
            raise UsageError(f"{name} must be a positive number, got {value!r}")
    _check_precision(precision)
    return with_energy(profile, load_devices(devices, devices_files=devices_files), fps=fps or DEFAULT_FPS,
                       battery_wh=battery_wh, precision=precision, runtime=runtime)


# ---- measurements ------------------------------------------------------------------------------------


def measure_memory(
    profile: Profile, *, runs: int = 5, timeout_s: float = 300.0, model: Any = None, example_inputs: Any = None
) -> Profile:
    """Run the profiled model for real and return ``profile`` with the measured peak memory
    beside the prediction.

    * ONNX files: ONNX Runtime on CPU in a fresh subprocess: the peak resident-set increase,
      compared with ``memory.peak_bytes``; ``.tflite`` files likewise on LiteRT.
    * PyTorch modules (pass the module as ``model``; ``example_inputs`` defaults to random tensors
      of the profiled input shapes): a CPU eager forward in this process, the peak of live tensor
      storage, compared with ``memory.peak_activation_bytes``.
    * PyTorch models built by a ``"package.module:callable"`` (also from the command line): the
      model is built again and run in a fresh subprocess: its peak RSS increase (compared with
      ``memory.peak_bytes``) and its peak of live tensor storage.

    A run that cannot be made (a model the runtime rejects, a crash, a timeout, a forward that
    raises) never raises: ``memory.measurement_error`` says why and the static figures stay."""
    from edgeprof.passes.memory import with_measurement, with_measurement_error

    report = profile.memory
    if report is None:
        raise UsageError("measuring needs the memory analysis: profile the model with memory=True")
    try:
        fmt = _format_run(profile, model)
        if fmt is None or fmt.memory is None:
            raise MeasurementError(
                f"measuring a {profile.model.format!r} model needs an ONNX file, a 'module:callable' that builds a "
                "PyTorch model, or (Python API) the module passed as model=..."
            )
        for measurement in fmt.memory(_Run(profile, model, example_inputs, timeout_s), runs):
            report = with_measurement(report, measurement)
    except MeasurementError as exc:
        report = with_measurement_error(report, str(exc))
    return dataclasses.replace(profile, memory=report)


def measure_latency(profile: Profile, *, threads: int = 1, max_runs: int = 1000, max_time_s: float = 10.0,
                    timeout_s: float = 300.0, model: Any = None, example_inputs: Any = None,
                    progress: Progress | None = None,
                    values: Mapping[str, float | Sequence[float]] | None = None) -> Profile:
    """Time the profiled model for real: ``latency.measured``. ONNX files on ONNX Runtime, ``.tflite``
    files on LiteRT and ``module:callable`` PyTorch models on PyTorch eager run in a fresh subprocess;
    a PyTorch module passed as ``model`` is timed in this process (on ``example_inputs``, default
    random tensors of the profiled shapes). ``values`` fills the ONNX inputs it names (as
    :func:`profile` takes them: a sample rate, an ``If`` flag), so the run takes the branch the
    profile counted; the other inputs are random. Never raises for a model that cannot run:
    ``latency.measurement_error`` says why (the static figures stay as they are)."""
    if progress is not None:
        progress("timing the model")
    current = profile.latency or LatencyReport()
    try:
        options = LatencyOptions(intra_op_threads=threads, max_runs=max_runs, max_time_s=max_time_s,
                                 min_time_s=min(1.0, max_time_s))
        fmt = _format_run(profile, model)
        if fmt is None or fmt.latency is None:
            raise MeasurementError(
                f"latency measurement of a {profile.model.format!r} model is not available; ONNX files are timed on "
                "ONNX Runtime, .tflite files on LiteRT, PyTorch models on PyTorch eager (a 'module:callable', or the module "
                "passed as model=...)"
            )
        given = {str(k): (v,) if isinstance(v, (int, float)) else tuple(v) for k, v in (values or {}).items()}
        measured = fmt.latency(_Run(profile, model, example_inputs, timeout_s, given or None), options)
        report = dataclasses.replace(current, measured=measured, measurement_error="")
    except MeasurementError as exc:
        report = dataclasses.replace(current, measured=None, measurement_error=str(exc))
    return dataclasses.replace(profile, latency=report)


def measure_energy(profile: Profile, *, sysfs_root: str | os.PathLike[str] = "/sys", nvml: Any = None,
                   runs_time_s: float = 3.0, idle_s: float = 2.0, threads: int = 1, timeout_s: float = 300.0,
                   progress: Progress | None = None) -> Profile:
    """Measure the energy per inference of the profiled ONNX model with a power sensor of this
    machine (Linux powercap RAPL, NVIDIA NVML, Jetson INA3221 under ``sysfs_root``), idle baseline
    subtracted: ``energy.measured``. Without a sensor ``energy.sensor_note`` says what was checked
    and no measured figure is made up; a run that fails sets ``energy.measurement_error``."""
    from edgeprof.measure.energy import no_sensor_note
    from edgeprof.measure.power import detect_meters

    if progress is not None:
        progress("measuring energy")
    current = profile.energy or EnergyReport()
    meters, checked = detect_meters(Path(sysfs_root), nvml=nvml)
    if not meters:
        report = dataclasses.replace(current, measured=None, sensor_note=no_sensor_note(checked),
                                     measurement_error="")
        return dataclasses.replace(profile, energy=report)
    meter = meters[0]
    note = f"sensor used: {meter.name} (checked: {'; '.join(checked)})"
    try:
        fmt = _format_run(profile, None)
        if fmt is None or fmt.energy is None:
            raise MeasurementError(f"energy measurement of a {profile.model.format!r} model is not available; "
                                   "ONNX files are measured on ONNX Runtime")
        measured = fmt.energy(_Run(profile, None, None, timeout_s), meter, runs_time_s, idle_s, threads)
        report = dataclasses.replace(current, measured=measured, sensor_note=note, measurement_error="")
    except MeasurementError as exc:
        report = dataclasses.replace(current, measured=None, sensor_note=note, measurement_error=str(exc))
    return dataclasses.replace(profile, energy=report)


def measured(
    profile: Profile, *, runs: int = 5, timeout_s: float = 300.0, model: Any = None, example_inputs: Any = None,
    threads: int = 1, max_runs: int = 1000, max_time_s: float = 10.0, sysfs_root: str | os.PathLike[str] = "/sys",
    nvml: Any = None, progress: Progress | None = None,
) -> Profile:
    """Run the profiled model for real, in one call, as ``edgeprof profile --measure`` does:
    :func:`measure_memory` (``runs``), then :func:`measure_latency` (``threads``, ``max_runs``,
    ``max_time_s``) and :func:`measure_energy` (the sensors under ``sysfs_root``, and ``nvml``),
    each allowed ``timeout_s``. ``model`` and ``example_inputs`` are those of a PyTorch module.

    Never raises for a model that cannot run: each report's ``measurement_error`` says why and the
    static figures stay; :class:`UsageError` when ``profile`` has no memory analysis."""
    result = measure_memory(profile, runs=runs, timeout_s=timeout_s, model=model, example_inputs=example_inputs)
    result = measure_latency(result, threads=threads, max_runs=max_runs, max_time_s=max_time_s, timeout_s=timeout_s,
                             model=model, example_inputs=example_inputs, progress=progress)
    return measure_energy(result, sysfs_root=sysfs_root, nvml=nvml, threads=threads, timeout_s=timeout_s,
                          progress=progress)


# ---- validation and calibration ----------------------------------------------------------------------


def validate(models: Sequence[Any], device_id: str, *, devices_files: Sequence[str | os.PathLike[str]] = (),
             threads: int = 1, max_time_s: float = 10.0, timeout_s: float = 300.0, input_shapes: InputShapes = None,
             dims: Mapping[str, int] | None = None, progress: Progress | None = None) -> list[ValidationEntry]:
    """Predicted vs measured latency of each model on ``device_id`` (normally the calibrated
    ``host``): :func:`profile`, :func:`predict_latency`, :func:`measure_latency` and the relative
    error (predicted - measured) / measured. The prediction is for the runtime the measurement
    runs (``xnnpack`` for a ``.tflite`` file on a device that offers it). A model may be a :class:`edgeprof.compare.ModelRun`
    with its own shapes (``input_shapes``/``dims`` apply to the others) and its row label. A model
    that cannot be profiled at its shapes (an input or dim it lacks) keeps its row, with the reason
    as its ``problem``."""
    from edgeprof.compare import ModelRun
    from edgeprof.errors import ShapeError

    load_devices([device_id], devices_files=devices_files)  # an unknown device: bad input, before any work
    if progress is not None:
        progress(f"validating {len(models)} model(s)")
    entries = []
    for model in models:
        run = model if isinstance(model, ModelRun) else ModelRun(model, str(model))
        shapes = run.input_shapes if run.input_shapes is not None else input_shapes
        try:
            prof = profile(run.model, input_shapes=shapes, dims=run.dims if run.dims is not None else dims,
                           values=run.values, memory=False)
        except ShapeError as exc:
            entries.append(ValidationEntry(run.label, device_id, None, None, None, problem=exc.message))
            continue
        prof = predict_latency(prof, [device_id], devices_files=devices_files,
                               runtime=_measured_runtime(prof, device_id))
        prof = measure_latency(prof, threads=threads, max_time_s=max_time_s, timeout_s=timeout_s, values=run.values)
        assert prof.latency is not None
        pred = prof.latency.predicted[device_id]
        meas = prof.latency.measured
        measured_s = meas.p50_s if meas is not None else None
        error = (pred.total_s - measured_s) / measured_s if measured_s else None
        entries.append(ValidationEntry(run.label, device_id, pred.total_s, measured_s, error, pred.is_lower_bound,
                                       prof.latency.measurement_error))
    return entries


def _measured_runtime(profile: Profile, device_id: str) -> str | None:
    """The runtime a validation's prediction uses: the one the measurement runs, when the device
    offers it (a ``.tflite`` file runs on LiteRT with XNNPACK: ``xnnpack``); else the device's default."""
    from edgeprof.devices.runtimes import load_runtimes

    entry = load_runtimes().for_device(device_id)
    if profile.model.format == "tflite" and entry is not None and "xnnpack" in entry.runtimes:
        return "xnnpack"
    return None


def calibrate(*, threads: int = 1, seconds_per_model: float = 3.0, command: str = "edgeprof calibrate",
              progress: Progress | None = None) -> Calibration:
    """Measure this machine as device ``host`` with micro-benchmarks of single-op ONNX models on ONNX
    Runtime (about a minute at the default ``seconds_per_model``; ``progress`` gets each one's
    label). :meth:`Calibration.to_toml` is the device file ``devices_files=`` loads."""
    from edgeprof.measure.calibrate import calibrate as run_calibration

    return run_calibration(lambda path: profile(str(path), memory=False), threads=threads,
                           seconds_per_model=seconds_per_model, command=command, progress=progress)
