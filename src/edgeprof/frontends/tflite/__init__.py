"""The TFLite frontend: a ``.tflite`` flatbuffer -> the IR (:func:`load_tflite`; the steps are
listed in ``_load.py``). Every other module of this package is internal."""

from __future__ import annotations

from edgeprof.frontends.tflite._load import is_tflite_file, load_tflite, load_tflite_bytes

__all__ = ["is_tflite_file", "load_tflite", "load_tflite_bytes"]
