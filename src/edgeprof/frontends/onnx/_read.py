"""Reading an ONNX model from a file or taking a ModelProto, with every failure translated
into a one-line :class:`~edgeprof.errors.ModelLoadError` that names the file.

External data is never loaded here (see :mod:`edgeprof.frontends.onnx._safety`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError

from edgeprof.errors import GraphError, ModelLoadError
from edgeprof.frontends.limits import DEFAULT_MAX_NODES as DEFAULT_MAX_NODES
from edgeprof.frontends.limits import max_nodes
from edgeprof.frontends.onnx._expansion import RecursiveFunction, expanded_node_count
from edgeprof.frontends.onnx._structure import function_subgraphs, walk_graphs
from edgeprof.frontends.onnx._tensors import as_text
from edgeprof.frontends.onnx_proto import ModelProto

# Magic numbers of formats people hand to a model profiler by mistake: (offset, bytes, what).
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a zip archive (a PyTorch checkpoint or a .pt2 export?)"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"\x80\x02", "a Python pickle"),
    (0, b"\x80\x03", "a Python pickle"),
    (0, b"\x80\x04", "a Python pickle"),
    (0, b"\x80\x05", "a Python pickle"),
    (0, b"\x89HDF", "an HDF5 file (a Keras model?)"),
    (4, b"TFL3", "a TensorFlow Lite model"),
    (4, b"ORTM", "an ONNX Runtime (.ort) model"),
    (0, b"\x7fELF", "an executable"),
)


MAX_FILE_BYTES = 2**31 - 1  # protobuf's limit for one serialized message
IO_SHARE = 5  # graph inputs and outputs: at most a fifth of the node limit (100,000 by default) ...
MIN_IO = 1000  # ... and never fewer than this (a lowered node limit still admits small models)


@dataclass(frozen=True)
class Source:
    """A model as read: the proto (never modified), a label for messages, its file and folder."""

    model: ModelProto
    label: str
    path: Path | None
    base_dir: Path | None
    file_bytes: int | None
    name: str


def read_source(source: Path | str | ModelProto, base_dir: Path | str | None = None) -> Source:
    """Read ``source`` (a path or a ModelProto) into a :class:`Source`; ModelLoadError on failure."""
    if isinstance(source, ModelProto):
        graph_name = as_text(source.graph.name)
        label = f"<ModelProto {graph_name!r}>" if graph_name else "<ModelProto>"
        _check_model(source, label)
        folder = Path(base_dir) if base_dir is not None else None
        return Source(source, label, None, folder, None, graph_name or "model")
    path = Path(source)
    label = str(path)
    data = _read_bytes(path, label)
    model = _parse(data, label)
    _check_model(model, label)
    folder = Path(base_dir) if base_dir is not None else path.parent
    return Source(model, label, path, folder, len(data), path.stem or path.name)


def _read_bytes(path: Path, label: str) -> bytes:
    try:
        if not path.exists():
            raise ModelLoadError(f"{label}: no such file")
        if path.is_dir():
            raise ModelLoadError(f"{label}: is a directory, not an ONNX model file")
        if not path.is_file():
            raise ModelLoadError(f"{label}: is not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ModelLoadError(
                f"{label}: the file has {size:,} bytes, more than protobuf's 2 GiB limit for one message, so it "
                "cannot be an ONNX model (large models keep their weights as external data beside the .onnx file)"
            )
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ModelLoadError(f"{label}: the file grew past protobuf's 2 GiB limit while it was read")
    except ModelLoadError:
        raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ModelLoadError(f"{label}: cannot read the file ({reason})") from None
    if not data:
        raise ModelLoadError(f"{label}: the file is empty, not an ONNX model")
    return data


def _magic(data: bytes) -> str:
    """The binary format ``data`` starts like ("" when none is recognised). None of these
    signatures can start a serialized ModelProto."""
    for offset, magic, what in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return what
    return ""


def _looks_like_text(data: bytes) -> str:
    """"a text file" when ``data`` reads as text (used only once protobuf has refused it)."""
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    if text and printable / len(text) > 0.95:
        return "a JSON file" if text.lstrip().startswith(("{", "[")) else "a text file"
    return ""


def _parse(data: bytes, label: str) -> ModelProto:
    looks_like = _magic(data)
    if looks_like:
        raise ModelLoadError(f"{label}: not an ONNX model (the file looks like {looks_like})")
    try:
        model: ModelProto = ModelProto.FromString(data)
    except DecodeError:
        text = _looks_like_text(data)
        if text:
            raise ModelLoadError(f"{label}: not an ONNX model (the file looks like {text})") from None
        layout = _top_level_layout(data)
        if layout == "truncated":
            raise ModelLoadError(
                f"{label}: the ONNX file is truncated (it ends inside a field after {len(data)} bytes)"
            ) from None
        if layout == "model":
            raise ModelLoadError(f"{label}: the ONNX file is corrupt (protobuf cannot parse its graph)") from None
        raise ModelLoadError(f"{label}: not an ONNX model (protobuf cannot parse the file)") from None
    except (RuntimeError, ValueError, MemoryError, OverflowError) as exc:
        raise ModelLoadError(f"{label}: cannot parse the ONNX file ({type(exc).__name__}: {exc})") from None
    if model.ir_version > 0 and not model.HasField("graph"):
        raise ModelLoadError(f"{label}: the ONNX file has no graph (is it truncated?)")
    if not model.HasField("graph") or model.ir_version <= 0:
        text = _looks_like_text(data)
        what = f" (the file looks like {text})" if text else " (no graph or no IR version in the file)"
        raise ModelLoadError(f"{label}: not an ONNX model{what}")
    return model


def _wire_types() -> dict[int, int]:
    """ModelProto's field numbers and the wire type each is written with."""
    from google.protobuf.descriptor import FieldDescriptor as F

    varint = {F.TYPE_INT64, F.TYPE_INT32, F.TYPE_UINT64, F.TYPE_UINT32, F.TYPE_BOOL, F.TYPE_ENUM}
    return {f.number: 0 if f.type in varint else 2 for f in ModelProto.DESCRIPTOR.fields}


_MODEL_FIELDS = _wire_types()


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    value, shift = 0, 0
    while pos < len(data) and shift < 70:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    return None


def _top_level_layout(data: bytes) -> str:
    """Reads only the top-level protobuf fields: ``"model"`` when they are ModelProto fields
    and complete (the damage is inside), ``"truncated"`` when the data stops inside a
    ModelProto field, ``"other"`` when a field is not one of ModelProto's."""
    pos, n = 0, len(data)
    while pos < n:
        tag = _varint(data, pos)
        if tag is None:
            return "truncated"
        key, pos = tag
        field_no, wire = key >> 3, key & 7
        if _MODEL_FIELDS.get(field_no) != wire:
            return "other"
        if wire == 0:
            v = _varint(data, pos)
            if v is None:
                return "truncated"
            pos = v[1]
        else:
            size = _varint(data, pos)
            if size is None:
                return "truncated"
            length, pos = size
            if pos + length > n:
                return "truncated"
            pos += length
    return "model"


def _check_model(model: ModelProto, label: str) -> None:
    """The minimum a ModelProto needs before anything else looks at it."""
    if not model.HasField("graph") or model.ir_version <= 0:
        raise ModelLoadError(f"{label}: not an ONNX model (no graph or no IR version in the file)")
    graph = model.graph
    if len(graph.node) == 0:
        raise GraphError(f"{label}: the model's graph is empty (it has no nodes)")
    limit = max_nodes()
    nodes = len(graph.node) if len(graph.node) > limit else _count_nodes(model)
    if nodes > limit:
        raise ModelLoadError(
            f"{label}: the model has {nodes:,} nodes (subgraphs and functions included), more than edgeprof's limit "
            f"of {limit:,}; set EDGEPROF_MAX_NODES to raise it (a load takes about 0.2 ms and 8 kB per node)"
        )
    _check_counts(model, label, limit)
    if model.functions:
        _check_expansion(model, label, limit)
    _check_names(model, label)


def _check_counts(model: ModelProto, label: str, limit: int) -> None:
    """Initializers, value_info entries and graph inputs and outputs (all graphs) are bounded
    like nodes (1 M initializers took 56 s and 2.5 GB; 100,000 graph inputs 28 s)."""
    graphs = list(walk_graphs(model.graph, *function_subgraphs(model)))
    counts = (
        ("initializers", sum(len(g.initializer) + len(g.sparse_initializer) for g in graphs), limit),
        ("value_info entries", sum(len(g.value_info) for g in graphs) + sum(len(f.value_info) for f in model.functions
                                                                            if hasattr(f, "value_info")), limit),
        ("graph inputs and outputs", sum(len(g.input) + len(g.output) for g in graphs), max(MIN_IO, limit // IO_SHARE)),
    )
    for what, count, most in counts:
        if count > most:
            raise ModelLoadError(
                f"{label}: the model has {count:,} {what} (all graphs), more than edgeprof's limit of {most:,}; "
                "set EDGEPROF_MAX_NODES to raise it"
            )


def _check_expansion(model: ModelProto, label: str, limit: int) -> None:
    """The node limit applies to the graph the inliner would build: predicted, never expanded."""
    try:
        expanded = expanded_node_count(model)
    except RecursiveFunction as exc:
        raise ModelLoadError(
            f"{label}: model-local function {str(exc)[:200]!r} calls itself (directly or through other functions); "
            "it cannot be inlined"
        ) from None
    if expanded > limit:
        bits = expanded.bit_length()  # str() of an int over 4,300 digits raises: no decimal for those
        shown = f"{expanded:,}" if bits <= 100 else f"more than 2**{bits - 1}"
        raise ModelLoadError(
            f"{label}: the model has {shown} nodes once its functions are inlined, more than edgeprof's limit of "
            f"{limit:,}; set EDGEPROF_MAX_NODES to raise it (a load takes about 0.2 ms and 8 kB per node)"
        )


def _count_nodes(model: ModelProto) -> int:
    """Nodes in the graph, its subgraphs (If, Loop, Scan bodies) and the model-local functions."""
    functions = sum(len(f.node) for f in model.functions)
    return functions + sum(len(g.node) for g in walk_graphs(model.graph, *function_subgraphs(model)))


def _bad_name(names: Iterable[str | bytes]) -> bytes | None:
    for n in names:
        if isinstance(n, bytes):  # protobuf hands back bytes for a string field that is not UTF-8
            return n
    return None


def _check_names(model: ModelProto, label: str) -> None:
    """Every name the frontend matches on (values, nodes, ops, domains) is text: ONNX strings
    are UTF-8, and a name that is not (a damaged file) is refused here rather than half-read."""
    for f in model.functions:
        bad = _bad_name((f.name, f.domain, *f.input, *f.output))
        if bad is None:
            bad = _bad_name(x for n in f.node for x in (n.name, n.op_type, n.domain, *n.input, *n.output))
        if bad is not None:
            raise ModelLoadError(f"{label}: the ONNX file is corrupt (a name in function {as_text(f.name)!r} is not "
                                 f"valid UTF-8: {bad[:40]!r})")
    for g in walk_graphs(model.graph, *function_subgraphs(model)):
        bad = _bad_name(t.name for t in g.initializer)
        bad = bad or _bad_name(s.values.name for s in g.sparse_initializer)
        bad = bad or _bad_name(v.name for vs in (g.input, g.output, g.value_info) for v in vs)
        bad = bad or _bad_name(x for n in g.node for x in (n.name, n.op_type, n.domain, *n.input, *n.output))
        if bad is not None:
            raise ModelLoadError(f"{label}: the ONNX file is corrupt (a name in graph {as_text(g.name)!r} is not "
                                 f"valid UTF-8: {bad[:40]!r})")
