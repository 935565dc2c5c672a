"""ONNX external data, checked before anything is read.

Model files are data, and their external-data locations are untrusted strings. Every
location is checked up front: it must be a relative path with no ``..`` component, and the
file it names (symlinks resolved) must be a regular file inside the model's folder, holding
the bytes the tensor's header says it has. Only small tensors are ever read, and then only
their own byte range.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from edgeprof.errors import ModelLoadError
from edgeprof.frontends.onnx._tensors import as_text, is_external, iter_model_tensors, tensor_nbytes
from edgeprof.frontends.onnx_proto import ModelProto, TensorProto


@dataclass(frozen=True)
class ExternalRef:
    """Where the bytes of one external tensor are: a checked file, an offset, a length."""

    location: str
    file: Path
    offset: int
    length: int

    @property
    def storage_key(self) -> str:
        return f"{self.location}@{self.offset}"


@dataclass
class ExternalData:
    """The checked external data of one model: the folder it must lie in, the distinct files it
    uses (real path -> size), and how many external tensors could not be checked (an in-memory
    model with no folder given)."""

    label: str
    base_dir: Path | None
    files: dict[Path, int] = field(default_factory=dict)  # real path -> size in bytes
    unchecked: int = 0  # external tensors of an in-memory model with no folder to check against

    def ref(self, t: TensorProto) -> ExternalRef | None:
        """The checked location of ``t`` (None when ``t`` is not external or there is no folder)."""
        if not is_external(t) or self.base_dir is None:
            return None
        return _resolve(t, self.base_dir, self.label, self.files, what=f"tensor {t.name!r}")

    def read(self, t: TensorProto) -> bytes | None:
        """The payload bytes of the external tensor ``t`` (only its own range), or None."""
        ref = self.ref(t)
        if ref is None:
            return None
        try:
            with open(ref.file, "rb") as f:
                f.seek(ref.offset)
                data = f.read(ref.length)
        except OSError as exc:
            raise ModelLoadError(
                f"{self.label}: cannot read external data of tensor {t.name!r} from {ref.location!r} "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
        if len(data) != ref.length:
            raise ModelLoadError(
                f"{self.label}: external data of tensor {t.name!r} in {ref.location!r} is truncated"
            )
        return data

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())


def check_external_data(model: ModelProto, base_dir: Path | None, label: str) -> ExternalData:
    """Check every external-data location of ``model`` (graphs, subgraphs, function bodies).
    ModelLoadError names the tensor and the location of the first unsafe or missing one."""
    ext = ExternalData(label, base_dir)
    for t, what in iter_model_tensors(model):
        if not is_external(t):
            continue
        if base_dir is None:
            _location(t, label, what)  # still refuse an unsafe string
            ext.unchecked += 1
            continue
        _resolve(t, base_dir, label, ext.files, what)
    return ext


def _entries(t: TensorProto) -> dict[str, str]:
    # protobuf hands back bytes for a string that is not UTF-8: such a location is text too.
    return {as_text(e.key): as_text(e.value) for e in t.external_data}


def _location(t: TensorProto, label: str, what: str) -> str:
    loc = _entries(t).get("location", "")
    if not loc:
        raise ModelLoadError(f"{label}: {what} is stored externally but names no location")
    if "\x00" in loc:
        raise ModelLoadError(f"{label}: {what}: external data location {loc!r} is not a valid path; refused")
    if PurePosixPath(loc).is_absolute() or PureWindowsPath(loc).is_absolute() or PureWindowsPath(loc).drive \
            or loc.startswith(("/", "\\")):
        raise ModelLoadError(
            f"{label}: {what}: external data location {loc!r} is an absolute path; refused "
            "(external data must lie inside the model's folder)"
        )
    parts = loc.replace("\\", "/").split("/")
    if ".." in parts:
        raise ModelLoadError(
            f"{label}: {what}: external data location {loc!r} contains '..'; refused "
            "(external data must lie inside the model's folder)"
        )
    return loc


def _int_entry(t: TensorProto, key: str, label: str, what: str) -> int | None:
    raw = _entries(t).get(key)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ModelLoadError(f"{label}: {what}: external data {key} {raw!r} is not an integer") from None
    if value < 0:
        raise ModelLoadError(f"{label}: {what}: external data {key} {value} is negative")
    return value


def _resolve(t: TensorProto, base_dir: Path, label: str, files: dict[Path, int], what: str) -> ExternalRef:
    loc = _location(t, label, what)
    base_real = Path(os.path.realpath(base_dir))
    target = Path(os.path.realpath(base_dir / loc))
    try:
        inside = os.path.commonpath([base_real, target]) == str(base_real) and target != base_real
    except ValueError:  # different drives
        inside = False
    if not inside:
        raise ModelLoadError(
            f"{label}: {what}: external data location {loc!r} resolves outside the model's folder "
            f"(to {target}); refused"
        )
    size = files.get(target)
    if size is None:
        if not target.exists():
            raise ModelLoadError(f"{label}: {what}: external data file {loc!r} is missing")
        if not target.is_file():
            raise ModelLoadError(f"{label}: {what}: external data location {loc!r} is not a regular file")
        try:
            size = target.stat().st_size
        except OSError as exc:
            raise ModelLoadError(
                f"{label}: {what}: cannot read external data file {loc!r} ({exc.strerror or type(exc).__name__})"
            ) from None
        files[target] = size
    offset = _int_entry(t, "offset", label, what) or 0
    need = tensor_nbytes(t) if t.data_type != TensorProto.STRING else 0
    length = _int_entry(t, "length", label, what)
    if length is None:
        length = need
    elif length < need:
        raise ModelLoadError(
            f"{label}: {what}: external data length {length} is smaller than its shape {list(t.dims)} needs ({need} bytes)"
        )
    if offset + length > size:
        raise ModelLoadError(
            f"{label}: {what}: external data file {loc!r} is too short ({size} bytes; the tensor needs bytes "
            f"{offset}..{offset + length})"
        )
    return ExternalRef(loc, target, offset, length)
