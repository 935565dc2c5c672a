"""The TFLite frontend: a ``.tflite`` flatbuffer -> the IR.

Steps (each in its own module):

1. read the file, check the ``TFL3`` identifier, parse and check every length and index
   (``_read``); every failure of the generated reader becomes one
   :class:`~edgeprof.errors.ModelLoadError` line here, at the boundary;
2. resolve the input shapes from the user's request (``_shapes``);
3. build the graph of the main subgraph, and of every subgraph a WHILE/IF/CALL_ONCE runs
   (``_graph``, ``_flow``), mapping each operator onto the canonical ops
   (``_ops``, ``_nn``, ``_emit``), then validate it.

The file is only read, never written; it is data, never code.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeprof.errors import EdgeprofError, GraphError, ModelLoadError, UsageError
from edgeprof.frontends.base import LoadedModel, ShapeRequest
from edgeprof.ir import validate
from edgeprof.report.model import ModelInfo
from edgeprof.safe_files import UnreadableFile, read_head, read_regular_file

if TYPE_CHECKING:
    from edgeprof.frontends.tflite._read import TfModel

__all__ = ["is_tflite_file", "load_tflite", "load_tflite_bytes"]

MAX_FILE_BYTES = 1 << 34  # 16 GiB: a larger claim is not a model this reader can hold


def is_tflite_file(path: Path) -> bool:
    """Whether ``path`` starts like a TFLite flatbuffer (``TFL3`` at bytes 4..8)."""
    head = read_head(path, 8)  # a FIFO or a device is never opened: b""
    return len(head) == 8 and head[4:8] == b"TFL3"


def load_tflite(source: Path | str, request: ShapeRequest, **options: Any) -> LoadedModel:
    """Load a ``.tflite`` file into the IR at the shapes ``request`` asks for.

    Raises ModelLoadError (missing, unreadable, not TFLite, truncated, malformed), GraphError
    (a graph the IR cannot hold: a cycle, a subgraph that calls itself, a shape that does not
    fit its op), ShapeError (an input shape that cannot be resolved) or UsageError."""
    if options:
        raise UsageError(f"unknown option(s) for TFLite models: {', '.join(sorted(options))}")
    path = Path(source)
    label = str(path)
    try:  # a regular file only (``/dev/zero`` never ends, a FIFO blocks), at most MAX_FILE_BYTES
        data = read_regular_file(path, MAX_FILE_BYTES)
    except UnreadableFile as exc:
        raise ModelLoadError(f"{label}: {exc}") from None
    return load_tflite_bytes(data, request, label=label, path=str(path), name=path.stem)


def load_tflite_bytes(data: bytes, request: ShapeRequest, *, label: str = "<tflite bytes>", path: str = "",
                      name: str = "model") -> LoadedModel:
    """Load a TFLite model held in memory (see :func:`load_tflite`)."""
    try:  # the schema reader is an extra: `import edgeprof` and ONNX models work without it
        from edgeprof.frontends.tflite._read import Malformed, check_identifier, read_model
    except ImportError as exc:
        raise ModelLoadError(
            f"{label}: reading TFLite models needs the {exc.name or 'tflite'} package (pip install 'edgeprof[tflite]')"
        ) from None
    check_identifier(data, label)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            model = read_model(data)
        except Malformed as exc:
            raise ModelLoadError(f"{label}: malformed TFLite model ({exc})") from None
        return _build(model, request, label, path, name)
    except EdgeprofError:
        raise
    except RecursionError:
        raise ModelLoadError(f"{label}: the model nests subgraphs too deeply to load") from None
    except Exception as exc:  # the generated reader reads past the end, a field holds garbage, ...
        raise ModelLoadError(f"{label}: malformed or truncated TFLite model ({type(exc).__name__}: {exc})") from None
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(model: TfModel, request: ShapeRequest, label: str, path: str, name: str) -> LoadedModel:
    from edgeprof.frontends.tflite._graph import GraphBuilder, ModelContext
    from edgeprof.frontends.tflite._limits import check_node_limit
    from edgeprof.frontends.tflite._ops import map_operator
    from edgeprof.frontends.tflite._shapes import plan_shapes

    check_node_limit(model, label)
    plan = plan_shapes(model, request, label)
    ctx = ModelContext(model, plan, map_operator, label)
    graph = GraphBuilder(ctx, model.subgraphs[0]).build()
    try:
        validate(graph)
    except GraphError as exc:
        raise GraphError(f"{label}: {exc}") from None
    notices = [*plan.notices, *ctx.notices]
    if ctx.expanded_at_load:
        ops = " and ".join(f"{n} {op}" for op, n in sorted(ctx.expanded_at_load.items(), reverse=True))
        notices.append(
            f"{ops} operator(s) expand constant weights once at load (float16/int8 -> float32, sparse -> dense): "
            "the weights are counted on the layers that read them, at their stored size, and the expansion costs no "
            "per-inference FLOPs"
        )
    offset_buffers = sum(1 for b in model.buffers if b.offset > 1)
    if offset_buffers:
        notices.append(f"{offset_buffers} buffer(s) are stored after the flatbuffer (offset buffers); their bytes are counted")
    info = ModelInfo(
        name=name,
        format="tflite",
        path=path,
        file_bytes=model.file_bytes,
        producer=model.description,
        opset=f"tflite schema v{model.version}",
    )
    return LoadedModel(graph, info, plan.specs, tuple(notices))
