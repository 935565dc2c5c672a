"""The public entry points: :func:`load` a model into the IR, :func:`profile` it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeprof.errors import ModelLoadError, UsageError
from edgeprof.frontends.base import LoadedModel, ShapeRequest
from edgeprof.ir.limits import MIN_NAMED_DIM, MIN_SHAPE_DIM, dim_in_range
from edgeprof.report.model import Profile

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


def load(
    model: Any,
    *,
    input_shapes: InputShapes = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, float | Sequence[float]] | None = None,
    **options: Any,
) -> LoadedModel:
    """Turn ``model`` (a path, an ``onnx.ModelProto``, a ``torch.nn.Module``, ...) into the IR."""
    import sys

    request = shape_request(input_shapes, dims, values)
    # An nn.Module is recognised without importing torch: ``import edgeprof`` stays torch-free.
    torch_mod = sys.modules.get("torch")
    if torch_mod is not None and isinstance(model, torch_mod.nn.Module):
        from edgeprof.frontends.torch import load_torch

        return load_torch(model, request, **options)
    # "package.module:callable" (an existing file of that name wins).
    if isinstance(model, str) and _is_callable_spec(model) and not os.path.exists(model):
        from edgeprof.frontends.torch import load_callable

        return load_callable(model, request, **options)
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        suffix = path.suffix.lower()
        if suffix == ".pt2":
            from edgeprof.frontends.torch import load_pt2

            return load_pt2(path, request, **options)
        if suffix == ".json":
            from edgeprof.frontends.hf import load_hf_config

            return load_hf_config(path, request, **options)
        if suffix in (".pt", ".pth", ".pkl", ".ckpt", ".bin"):
            raise ModelLoadError(
                f"{path}: refusing to unpickle a {suffix} checkpoint (unpickling runs code from the file); "
                "pass an .onnx or a torch.export .pt2 file, or a 'module:callable' that builds the model"
            )
        from edgeprof.frontends.tflite import is_tflite_file, load_tflite

        if suffix == ".tflite" or is_tflite_file(path):  # by name, or by the TFL3 identifier at bytes 4..8
            return load_tflite(path, request, **options)
        from edgeprof.frontends.onnx import load_onnx

        return load_onnx(path, request, **options)
    if type(model).__name__ == "ModelProto" and type(model).__module__.startswith("onnx"):
        from edgeprof.frontends.onnx import load_onnx

        return load_onnx(model, request, **options)
    raise UsageError(
        f"cannot profile an object of type {type(model).__name__}; pass a model file path, an onnx.ModelProto, "
        "a torch.nn.Module or a 'package.module:callable' that builds one"
    )


def profile(
    model: Any,
    *,
    input_shapes: InputShapes = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, float | Sequence[float]] | None = None,
    memory: bool = True,
    search_order: bool = True,
    **options: Any,
) -> Profile:
    """Count FLOPs, MACs, parameters and bytes of ``model`` at the given input shapes.

    ``input_shapes`` maps input names to shapes (or lists shapes in input order); ``dims``
    sets named symbolic dims; ``values`` gives small inputs' values (a sample rate, an ``If``
    flag). ``memory`` adds the memory report (weights, activation peak, timeline) and
    ``search_order`` its search for a lower-peak execution order. Other keyword options go to
    the frontend (e.g. ``example_inputs``, ``seq_len`` for PyTorch / Hugging Face models).
    Returns a :class:`Profile`."""
    from edgeprof.passes.summary import build_profile

    loaded = load(model, input_shapes=input_shapes, dims=dims, values=values, **options)
    result = build_profile(loaded, memory=memory, search_order=search_order)
    if loaded.info.format == "hf-config" and options.get("seq_len") is not None:
        result = _with_llm_figures(result, model, options)
    return result


def _with_llm_figures(result: Profile, model: Any, options: Mapping[str, Any]) -> Profile:
    """A decoder LLM's prefill/decode/KV-cache figures at the context length ``seq_len``."""
    import dataclasses

    from edgeprof.frontends.hf import build_model, is_decoder_llm, llm_figures_for

    built, config = build_model(model)
    if not is_decoder_llm(built, config):
        return result
    kwargs = {k: options[k] for k in ("attn_implementation", "dtype") if options.get(k) is not None}
    figures = llm_figures_for(model, int(options["seq_len"]), batch_size=int(options.get("batch_size") or 1), **kwargs)
    return dataclasses.replace(result, llm=figures)


def measured(
    profile: Profile, *, runs: int = 5, timeout_s: float = 300.0, model: Any = None, example_inputs: Any = None
) -> Profile:
    """Run the profiled model for real and return ``profile`` with the measured peak memory
    beside the prediction.

    * ONNX files: ONNX Runtime on CPU in a fresh subprocess: the peak resident-set increase,
      compared with ``memory.peak_bytes``.
    * PyTorch modules (pass the module as ``model``; ``example_inputs`` defaults to random tensors
      of the profiled input shapes): a CPU eager forward in this process, the peak of live tensor
      storage, compared with ``memory.peak_activation_bytes``.
    * PyTorch models built by a ``"package.module:callable"`` (also from the command line): the
      model is built again and run in a fresh subprocess: its peak RSS increase (compared with
      ``memory.peak_bytes``) and its peak of live tensor storage.

    A run that cannot be made (a model ONNX Runtime rejects, a crash, a timeout, a forward that
    raises) never raises: ``memory.measurement_error`` says why and the static figures stay."""
    import dataclasses

    from edgeprof.errors import MeasurementError
    from edgeprof.passes.memory import with_measurement, with_measurement_error

    report = profile.memory
    if report is None:
        raise UsageError("measuring needs the memory analysis: profile the model with memory=True")
    try:
        if profile.model.format == "onnx" and profile.model.path:
            from edgeprof.measure.memory import measure_onnx_memory

            measured: Any = measure_onnx_memory(profile.model.path, profile.inputs, runs=runs, timeout_s=timeout_s)
        elif profile.model.format == "tflite" and profile.model.path:
            from edgeprof.measure.litert import measure_tflite_memory

            measured = measure_tflite_memory(profile.model.path, profile.inputs, runs=runs, timeout_s=timeout_s)
        elif profile.model.format == "torch" and model is not None:
            from edgeprof.measure.memory import measure_torch_tensor_peak

            inputs = example_inputs if example_inputs is not None else _random_torch_inputs(profile)
            measured = measure_torch_tensor_peak(model, inputs, runs=max(2, min(runs, 5)))
        elif profile.model.format == "torch" and _is_callable_spec(profile.model.name):
            from edgeprof.measure.torch_memory import measure_callable_memory

            rss, tensor_peak = measure_callable_memory(profile.model.name, profile.inputs, runs=runs,
                                                       timeout_s=timeout_s)
            measured = rss
            report = with_measurement(report, tensor_peak)
        else:
            raise MeasurementError(
                f"measuring a {profile.model.format!r} model needs an ONNX file, a 'module:callable' that builds a "
                "PyTorch model, or (Python API) the module passed as model=..."
            )
        memory = with_measurement(report, measured)
    except MeasurementError as exc:
        memory = with_measurement_error(report, str(exc))
    return dataclasses.replace(profile, memory=memory)


def _is_callable_spec(name: str) -> bool:
    from edgeprof.frontends.base import CALLABLE_SPEC

    return bool(CALLABLE_SPEC.match(name))


def _random_torch_inputs(profile: Profile) -> tuple[Any, ...]:
    import torch

    out = []
    for spec in profile.inputs:
        dtype = getattr(torch, spec.dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise UsageError(f"input {spec.name!r} has dtype {spec.dtype}; pass example_inputs=... to measure")
        if dtype.is_floating_point:
            out.append(torch.randn(spec.shape, dtype=dtype))
        else:
            out.append(torch.zeros(spec.shape, dtype=dtype))
    return tuple(out)


def predict_latency(
    profile: Profile, devices: Sequence[str], *, devices_files: Sequence[str | os.PathLike[str]] = ()
) -> Profile:
    """``profile`` with ``latency.predicted`` for each device id of the catalogue (plus the TOML
    ``devices_files``; ``host`` comes from ``edgeprof calibrate``'s file), and for each device with
    SRAM and flash sizes whether the model fits (``memory.device_fits``). See docs/latency.md."""
    from edgeprof.devices.catalogue import load_catalogue
    from edgeprof.passes.latency import with_predictions

    catalogue = load_catalogue(*(Path(f) for f in devices_files))
    targets = [catalogue.get(d) for d in devices]
    result = with_predictions(profile, targets)
    if result.memory is not None:
        from edgeprof.passes.memory import with_device_fits

        result = dataclasses.replace(result, memory=with_device_fits(result.memory, targets))
    return result


def measure_latency(profile: Profile, *, threads: int = 1, max_runs: int = 1000, max_time_s: float = 10.0,
                    timeout_s: float = 300.0, model: Any = None, example_inputs: Any = None) -> Profile:
    """Time the profiled model for real: ``latency.measured``. ONNX files on ONNX Runtime, ``.tflite``
    files on LiteRT and ``module:callable`` PyTorch models on PyTorch eager run in a fresh subprocess;
    a PyTorch module passed as ``model`` is timed in this process (on ``example_inputs``, default
    random tensors of the profiled shapes). Never raises for a model that cannot run:
    ``latency.measurement_error`` says why."""
    from edgeprof.measure.latency import measure_profile_latency

    return measure_profile_latency(profile, threads=threads, max_runs=max_runs, max_time_s=max_time_s,
                                   timeout_s=timeout_s, model=model, example_inputs=example_inputs)


def estimate_energy(
    profile: Profile, devices: Sequence[str], *, devices_files: Sequence[str | os.PathLike[str]] = (),
    fps: float | None = None, battery_wh: float | None = None,
) -> Profile:
    """``profile`` with ``energy.estimated`` for each device id: a {low, mid, high} range in joules from
    per-op and data-movement energies (Horowitz 45 nm, node-scaled) and device power x predicted
    latency (predicted here unless ``profile.latency`` has it). ``fps`` (default 30) and
    ``battery_wh`` (default 15 Wh, an assumed phone battery) drive the user figures. See docs/energy.md."""
    from edgeprof.devices.catalogue import load_catalogue
    from edgeprof.passes.energy import BATTERY_SOURCE, DEFAULT_BATTERY_WH, DEFAULT_FPS, with_energy

    for name, value in (("fps", fps), ("battery_wh", battery_wh)):
        if value is not None and not (value > 0 and value < float("inf")):
            raise UsageError(f"{name} must be a positive number, got {value!r}")
    catalogue = load_catalogue(*(Path(f) for f in devices_files))
    source = BATTERY_SOURCE if battery_wh is None else "given by the user"
    return with_energy(profile, [catalogue.get(d) for d in devices], fps=fps or DEFAULT_FPS,
                       battery_wh=battery_wh or DEFAULT_BATTERY_WH, battery_source=source)


def measure_energy(profile: Profile, *, sysfs_root: str | os.PathLike[str] = "/sys", nvml: Any = None,
                   runs_time_s: float = 3.0, idle_s: float = 2.0, timeout_s: float = 300.0) -> Profile:
    """Measure the energy per inference of the profiled ONNX model with a power sensor of this
    machine (Linux powercap RAPL, NVIDIA NVML, Jetson INA3221 under ``sysfs_root``), idle baseline
    subtracted: ``energy.measured``. Without a sensor ``energy.sensor_note`` says what was checked
    and no measured figure is made up; a run that fails sets ``energy.measurement_error``."""
    from edgeprof.measure.energy import measure_profile_energy

    return measure_profile_energy(profile, sysfs_root=Path(sysfs_root), nvml=nvml, runs_time_s=runs_time_s,
                                  idle_s=idle_s, timeout_s=timeout_s)
