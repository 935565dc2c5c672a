"""The ONNX frontend: an ONNX file or ``onnx.ModelProto`` -> the IR.

Steps (each in its own module):

1. read the file, translate every failure into a one-line error (``_read``);
2. check every external-data location before anything is read (``_safety``);
3. build a working copy without the large payloads, inline model-local functions
   (``_work``), check the structure and sort the nodes (``_structure``);
4. resolve the input shapes from the user's request (``frontends.common``);
5. resolve every value's shape: ONNX inference, then the project's rules (``_shapes``,
   ``_fold``), with the control-flow facts (If branch, Loop/Scan trip counts);
6. build and validate the IR (``_convert``).

The user's ModelProto is never modified.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

from edgeprof.errors import EdgeprofError, GraphError, ModelLoadError, UsageError
from edgeprof.frontends.base import LoadedModel, ShapeRequest
from edgeprof.frontends.common import ModelInput, resolve_inputs
from edgeprof.frontends.onnx._convert import Converter, opset_string, producer_string
from edgeprof.frontends.onnx._graphs import graph_protos
from edgeprof.frontends.onnx._read import read_source
from edgeprof.frontends.onnx._safety import check_external_data
from edgeprof.frontends.onnx._shapes import ShapeEngine
from edgeprof.frontends.onnx._structure import check_and_sort
from edgeprof.frontends.onnx._types import parse_type, symbols_of
from edgeprof.frontends.onnx._work import build_work_model
from edgeprof.frontends.onnx_proto import ModelProto
from edgeprof.ir import validate
from edgeprof.report.model import ModelInfo

__all__ = ["load_onnx"]

_OPTIONS = ("base_dir",)


def load_onnx(source: Path | str | ModelProto, request: ShapeRequest, **options: Any) -> LoadedModel:
    """Load an ONNX model (a path or a ModelProto) into the IR at the shapes ``request`` asks for.

    Options: ``base_dir`` (the folder external data is read from; defaults to the model file's
    folder; an in-memory ModelProto's external data is read only when it is given).

    Raises ModelLoadError (unreadable, not ONNX, truncated, unsafe external data), GraphError
    (a malformed graph), ShapeError (an input shape that cannot be resolved) or UsageError."""
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise UsageError(f"unknown option(s) for ONNX models: {', '.join(unknown)} (known: {', '.join(_OPTIONS)})")
    base_dir = options.get("base_dir")
    label = str(source) if not isinstance(source, ModelProto) else "<ModelProto>"
    # The frontend allocates a few objects per node and value and frees none of them until it
    # returns: the cyclic collector would re-scan them again and again (super-linear on 100k-node
    # graphs). It is paused for the load and restored afterwards.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(source, request, base_dir)
    except EdgeprofError:
        raise
    except RecursionError:
        raise ModelLoadError(f"{label}: the model nests subgraphs too deeply to load") from None
    except Exception as exc:
        raise ModelLoadError(f"{label}: cannot load the model ({type(exc).__name__}: {exc})") from exc
    finally:
        if gc_was_enabled:
            gc.enable()


_IMAGE_SIZE_KEYS = ("imgsz", "image_size", "img_size", "input_size", "imagesize")


def image_size_of(model: ModelProto) -> tuple[int, int] | None:
    """(height, width) the model's metadata gives for its images (Ultralytics writes ``imgsz:
    [640, 640]``), or None. Used only to suggest sizes for dims the model leaves open."""
    for prop in model.metadata_props:
        if prop.key.strip().lower() not in _IMAGE_SIZE_KEYS or len(prop.value) > 100:
            continue
        sizes = [int(v) for v in re.findall(r"\d+", prop.value) if 0 < int(v) <= 1 << 16]
        if len(sizes) == 1:
            return sizes[0], sizes[0]
        if len(sizes) == 2:
            return sizes[0], sizes[1]
    return None


def _load(source: Path | str | ModelProto, request: ShapeRequest, base_dir: Path | str | None) -> LoadedModel:
    src = read_source(source, base_dir)
    label = src.label
    ext = check_external_data(src.model, src.base_dir, label)
    work = build_work_model(src.model, ext, label)
    check_and_sort(work.model, label)
    model_symbols = symbols_of(graph_protos(work.model).values())
    by_name = {vi.name: vi for vi in work.model.graph.input}
    inputs = [ModelInput(name, parse_type(by_name[name].type)) for name in work.user_inputs]
    resolved = resolve_inputs(inputs, request, model_symbols, label, image_size=image_size_of(src.model))
    engine = ShapeEngine(work.model, resolved, model_symbols, label)
    engine.run()
    graph = Converter(
        engine,
        list(src.model.graph.initializer),
        list(src.model.graph.sparse_initializer),
        work.user_inputs,
        resolved.shapes,
        ext,
    ).build()
    try:
        validate(graph)
    except GraphError as exc:
        raise GraphError(f"{label}: {exc}") from None
    notices = list(resolved.notices)
    if ext.unchecked:
        notices.append(
            f"{ext.unchecked} tensor(s) are stored as external data, which was not read: the model was passed in "
            "memory; pass base_dir= (the model's folder) to check it"
        )
    notices.extend(engine.notices)
    file_bytes = None
    if src.file_bytes is not None:
        file_bytes = src.file_bytes + ext.total_bytes
    info = ModelInfo(
        name=src.name,
        format="onnx",
        path=str(src.path) if src.path is not None else "",
        file_bytes=file_bytes,
        producer=producer_string(src.model),
        opset=opset_string(src.model),
        data_files=tuple(str(f) for f in ext.files),
    )
    return LoadedModel(graph, info, resolved.specs, tuple(notices))
