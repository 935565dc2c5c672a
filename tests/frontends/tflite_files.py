"""The TFLite test models of scripts/make_tflite_models.py, imported by path (the script is the one
place that builds them) and written into a temporary folder."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


@cache
def builders() -> ModuleType:
    """scripts/make_tflite_models.py as a module."""
    spec = importlib.util.spec_from_file_location("make_tflite_models", ROOT / "scripts" / "make_tflite_models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def write(folder: Path, name: str) -> Path:
    """Write model ``name`` (a key of MODELS) as ``folder/name.tflite``."""
    path = folder / f"{name}.tflite"
    path.write_bytes(builders().MODELS[name]())
    return path
