"""The ONNX frontend: an ONNX file or ``onnx.ModelProto`` -> the IR (:func:`load_onnx`; the steps
are listed in ``_load.py``). Every other module of this package is internal."""

from __future__ import annotations

from edgeprof.frontends.onnx._load import load_onnx

__all__ = ["load_onnx"]
