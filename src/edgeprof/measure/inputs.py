"""The random inputs every measurement runs on, for ONNX Runtime and LiteRT feeds and PyTorch tensors.

One rule for every runtime (:func:`random_inputs`): seeded (0), floats uniform in [0, 1), integers
in {0, 1} (valid token ids, masks and indices), booleans random; an input given a value (``--value``,
``values=``: a sample rate, an ``If`` flag) is filled with it instead, so the run takes the branch the
profile counted. The parent describes the inputs a
child makes with :func:`input_request` (name, shape and dtype of each profiled input).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edgeprof.measure.runner import ChildError
from edgeprof.report.model import InputSpec

__all__ = ["INT_DTYPES", "TORCH_DTYPES", "describe", "input_request", "random_inputs"]

INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
TORCH_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")
_NUMPY_DTYPES = ("float32", "float64", "float16", "bool", *INT_DTYPES)


def input_request(inputs: Sequence[InputSpec],
                  values: Mapping[str, Sequence[float]] | None = None) -> list[dict[str, Any]]:
    """The inputs as a child's request carries them: ``{"name", "shape", "dtype"}`` each, and
    ``"value"`` (a list of numbers) for an input the user gave values (``--value``, recorded on
    the profile's inputs) or that ``values`` names."""
    out: list[dict[str, Any]] = []
    for s in inputs:
        spec: dict[str, Any] = {"name": s.name, "shape": list(s.shape), "dtype": s.dtype}
        if values and s.name in values:
            spec["value"] = [float(v) for v in values[s.name]]
        elif s.value:
            spec["value"] = list(s.value)
        out.append(spec)
    return out


def describe(name: str, dtype_name: str, shape: Sequence[int]) -> str:
    """``"x: float32[1x3x224x224]"``: how a measurement lists the inputs it ran on."""
    return f"{name}: {dtype_name}[{'x'.join(str(d) for d in shape)}]"


def random_inputs(specs: Sequence[Mapping[str, Any]], *, tensors: bool = False, seed: int = 0) -> list[Any]:
    """Values for each ``{"shape", "dtype"[, "value"]}`` of ``specs``, in order: the given
    ``"value"`` (reshaped to the shape), else random from one generator seeded with ``seed``:
    numpy arrays, or (``tensors=True``) torch CPU tensors of the same values.

    Floats are uniform in [0, 1), integers in {0, 1}, booleans random; a spec with ``"value"`` is
    filled with it (one number: every element; else the numbers in order, as many as elements).
    Raises :class:`ChildError` for a dtype no input can be made of or a value of the wrong size."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        shape = [int(d) for d in spec["shape"]]
        name = str(spec["dtype"])
        if name not in (TORCH_DTYPES if tensors else _NUMPY_DTYPES):
            raise ChildError(f"cannot make random inputs of dtype {name}")
        if spec.get("value") is not None:
            array = _given(spec["value"], shape, name)
        elif name in ("float32", "float64"):
            array = rng.random(shape, dtype=np.dtype(name))
        elif name in ("float16", "bfloat16"):  # numpy has no bfloat16: made as float32, cast by torch
            array = rng.random(shape, dtype=np.float32)
            array = array.astype(np.float16) if name == "float16" else array
        elif name == "bool":
            array = rng.integers(0, 2, shape, dtype=np.uint8).astype(np.bool_)
        else:
            array = rng.integers(0, 2, shape, dtype=np.dtype(name))
        out.append(_tensor(array, name) if tensors else array)
    return out


def _given(value: Sequence[float], shape: list[int], dtype_name: str) -> Any:
    import numpy as np

    numbers = np.asarray(list(value), dtype=np.float64)
    size = int(np.prod(shape)) if shape else 1
    if numbers.size == 1:
        numbers = np.full(size, numbers[0])
    if numbers.size != size:
        raise ChildError(f"{numbers.size} value(s) given for an input of {size} element(s)")
    if dtype_name == "bool":
        return (numbers != 0).reshape(shape)
    dtype = np.float32 if dtype_name == "bfloat16" else np.dtype(dtype_name)
    return numbers.astype(dtype).reshape(shape)


def _tensor(array: Any, dtype_name: str) -> Any:
    import torch

    return torch.from_numpy(array).to(getattr(torch, dtype_name))
