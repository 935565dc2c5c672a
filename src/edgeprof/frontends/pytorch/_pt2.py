"""A ``torch.export`` ``.pt2`` archive read by edgeprof's own reader: no code, no pickles.

``torch.export.load`` is not safe on an untrusted file: it ``pickle.loads`` any constant whose
``path_name`` (in the archive's constants configuration, not the member's file name) starts with
``opaque_obj``, loads TorchScript custom objects, unpickles legacy weights and example inputs
with ``weights_only=False`` as a fallback, extracts and ``dlopen``\\ s an AOTInductor ``.so``
found under ``data/aotinductor/``, and its extraction follows member names such as
``model/../../x`` out of its temporary folder. This reader replaces it:

1. the file is a regular file of at most :data:`MAX_FILE_BYTES`, a zip of at most
   :data:`MAX_MEMBERS` members whose uncompressed sizes add up to at most :data:`MAX_FILE_BYTES`;
2. every member name is checked before anything is read: one root folder, no absolute path, no
   ``..`` or ``.`` component, no backslash, no NUL, no duplicate, no symbolic link or other
   special file;
3. only the members of an exported program are accepted (``models/``, ``data/weights/``,
   ``data/constants/``, ``data/sample_inputs/``, ``extra/`` and the format files); any compiled
   artefact (``data/aotinductor/``, ``data/executorch/``, ``data/mtia/``) or other member is refused;
4. weights and tensor constants are rebuilt from their raw bytes and JSON metadata; a tensor
   saved as a pickle is read with ``torch.load(weights_only=True)`` (tensors only); a constant
   that is not a tensor (TorchScript custom object, opaque Python object) is refused before any
   of its bytes are read;
5. nothing is extracted to disk; the graph is deserialised from JSON by torch's deserialiser,
   which resolves operators only among torch's registered ops.

Errors and torch's warnings and log lines become one :class:`ModelLoadError` line."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import stat
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import torch

from edgeprof.errors import ModelLoadError

__all__ = ["MAX_FILE_BYTES", "MAX_MEMBERS", "read_exported_program"]

MAX_FILE_BYTES = 1 << 34  # 16 GiB: the archive, and the sum of its members' uncompressed sizes
MAX_MEMBERS = 200_000  # weights are one member each: a 13B model has a few thousand

# Members (below the archive's root folder) an exported program consists of.
_META_FILES = {"archive_format", "archive_version", "byteorder", ".data/version", ".data/serialization_id"}
_DATA_DIRS = ("models/", "data/weights/", "data/constants/", "data/sample_inputs/", "extra/")
_COMPILED_DIRS = ("data/aotinductor/", "data/executorch/", "data/mtia/")
_MODEL = "model"  # torch.export.save writes the program as models/model.json


@dataclass(frozen=True)
class _Archive:
    """The validated members of one archive: name below the root -> zip entry."""

    path: Path
    zip: zipfile.ZipFile
    members: Mapping[str, zipfile.ZipInfo]

    def read(self, name: str) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise ModelLoadError(f"{self.path}: the archive has no member {name!r}")
        return self.zip.read(info)

    def text(self, name: str) -> str:
        try:
            return self.read(name).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelLoadError(f"{self.path}: member {name!r} is not UTF-8 text") from None


def read_exported_program(path: Path) -> Any:
    """The ``torch.export.ExportedProgram`` stored in ``path`` (see the module docstring)."""
    _check_regular_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}: not a torch.export archive ({_line(exc)})") from None
    with zf, _quiet_torch():
        archive = _Archive(path, zf, _validated_members(path, zf))
        try:
            return _deserialize(archive)
        except ModelLoadError:
            raise
        except Exception as exc:  # torch's deserialiser: any failure is a bad file
            raise ModelLoadError(
                f"{path}: cannot load the exported program: {type(exc).__name__}: {_line(exc)}") from None


# ---- the archive ---------------------------------------------------------------------------


def _check_regular_file(path: Path) -> None:
    try:
        st = path.stat()
    except OSError:
        raise ModelLoadError(f"{path}: no such file") from None
    if not stat.S_ISREG(st.st_mode):
        raise ModelLoadError(f"{path}: not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise ModelLoadError(f"{path}: {st.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a .pt2 file")


def _validated_members(path: Path, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelLoadError(f"{path}: {len(infos):,} archive members, over the limit of {MAX_MEMBERS:,}")
    roots: set[str] = set()
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        parts = _safe_parts(path, info)
        if info.is_dir():
            continue
        roots.add(parts[0])
        if len(roots) > 1:
            raise ModelLoadError(f"{path}: members under {len(roots)} root folders; a .pt2 archive has one")
        if len(parts) < 2:
            raise ModelLoadError(f"{path}: member {_show(info.filename)} is outside the archive's root folder")
        name = "/".join(parts[1:])
        if name in members:
            raise ModelLoadError(f"{path}: member {_show(info.filename)} appears twice")
        total += info.file_size
        if total > MAX_FILE_BYTES:
            raise ModelLoadError(f"{path}: members add up to more than {MAX_FILE_BYTES:,} bytes uncompressed")
        _check_allowed(path, name)
        members[name] = info
    if not members:
        raise ModelLoadError(f"{path}: not a torch.export archive (no members)")
    return members


def _safe_parts(path: Path, info: zipfile.ZipInfo) -> list[str]:
    raw = info.filename
    bad = (
        "\x00" in raw or "\\" in raw or raw.startswith("/") or (len(raw) > 1 and raw[1] == ":")
        or any(p in ("..", ".") for p in raw.split("/"))
    )
    if bad:
        raise ModelLoadError(f"{path}: unsafe member name {_show(raw)} (absolute, '..', '.', '\\' or NUL)")
    mode = info.external_attr >> 16
    file_type = stat.S_IFMT(mode)
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        kind = "a symbolic link" if file_type == stat.S_IFLNK else "a special file"
        raise ModelLoadError(f"{path}: member {_show(raw)} is {kind}")
    parts = [p for p in PurePosixPath(raw).parts]
    if not parts:
        raise ModelLoadError(f"{path}: a member has an empty name")
    return parts


def _check_allowed(path: Path, name: str) -> None:
    if name.startswith(_COMPILED_DIRS):
        raise ModelLoadError(f"{path}: holds a compiled artefact ({_show(name)}); edgeprof profiles the exported "
                             "program, never compiled code: save it with torch.export.save")
    if name in _META_FILES or name.startswith(_DATA_DIRS):
        return
    if name in ("version", "serialized_exported_program.json", "serialized_state_dict.json"):
        raise ModelLoadError(f"{path}: written in torch.export's pre-2.8 format, whose weights are pickles; "
                             "re-export it with a current torch.export.save")
    raise ModelLoadError(f"{path}: unexpected archive member {_show(name)}; not a torch.export.save archive")


# ---- the program ---------------------------------------------------------------------------


def _deserialize(archive: _Archive) -> Any:
    from torch._export.serde import schema
    from torch._export.serde.serialize import ExportedProgramDeserializer, _bytes_to_dataclass, _dict_to_dataclass
    from torch.export.pt2_archive import constants as k

    path = archive.path
    fmt = archive.text(k.ARCHIVE_FORMAT_PATH) if k.ARCHIVE_FORMAT_PATH in archive.members else None
    if fmt != k.ARCHIVE_FORMAT_VALUE:
        raise ModelLoadError(f"{path}: not a torch.export archive (archive_format {fmt!r})")
    version = archive.text(k.ARCHIVE_VERSION_PATH) if k.ARCHIVE_VERSION_PATH in archive.members else None
    if version != k.ARCHIVE_VERSION_VALUE:
        raise ModelLoadError(f"{path}: archive version {version!r}; this torch reads version "
                             f"{k.ARCHIVE_VERSION_VALUE!r}: re-export it with this torch")
    model_file = k.MODELS_FILENAME_FORMAT.format(_MODEL)
    if model_file not in archive.members:
        raise ModelLoadError(f"{path}: no exported program ({model_file}) in the archive")
    for name in archive.members:
        if name.startswith("data/weights/") and name.endswith(".pt"):
            raise ModelLoadError(f"{path}: weights in torch.export's legacy pickled form ({_show(name)}); "
                                 "re-export it with a current torch.export.save")
        if name.startswith("data/constants/") and name.endswith(".pt"):
            raise ModelLoadError(f"{path}: constants in torch.export's legacy pickled form ({_show(name)}); "
                                 "re-export it with a current torch.export.save")

    def config(name: str) -> Any:
        try:
            data = json.loads(archive.text(name))
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{path}: {name} is not JSON ({_line(exc)})") from None
        return _dict_to_dataclass(schema.PayloadConfig, data)  # type: ignore[no-untyped-call]

    weights = config(k.WEIGHTS_CONFIG_FILENAME_FORMAT.format(_MODEL))
    consts = config(k.CONSTANTS_CONFIG_FILENAME_FORMAT.format(_MODEL))
    for fqn, meta in consts.config.items():  # refuse objects before reading any payload
        if not meta.path_name.startswith(k.TENSOR_CONSTANT_FILENAME_PREFIX):
            raise ModelLoadError(f"{path}: constant {_show(fqn)} is a Python object ({_show(meta.path_name)}), "
                                 "not a tensor; refusing to unpickle it")
    state_dict = {fqn: _payload(archive, k.WEIGHTS_DIR, meta, as_param=meta.is_param)
                  for fqn, meta in weights.config.items()}
    constants = {fqn: _payload(archive, k.CONSTANTS_DIR, meta, as_param=False) for fqn, meta in consts.config.items()}
    if any(t.is_meta for t in (*state_dict.values(), *constants.values())):  # shape-only: one device for all
        state_dict = {fqn: _to_meta(t) for fqn, t in state_dict.items()}
        constants = {fqn: _to_meta(t) for fqn, t in constants.items()}
    program = _bytes_to_dataclass(schema.ExportedProgram, archive.read(model_file))
    samples = _sample_inputs(archive, k.SAMPLE_INPUTS_FILENAME_FORMAT.format(_MODEL))
    ep = ExportedProgramDeserializer(None).deserialize(program, state_dict, constants, samples)
    if not hasattr(ep, "module") or not hasattr(ep, "graph_signature"):
        raise ModelLoadError(f"{path}: does not hold an exported program")
    return ep


def _payload(archive: _Archive, folder: str, meta: Any, *, as_param: bool) -> torch.Tensor:
    """One weight or tensor constant, from its raw bytes (or a tensors-only pickle)."""
    from torch._export.serde.serialize import (
        deserialize_scalar_type,
        deserialize_size,
        deserialize_storage_offset,
        deserialize_stride,
    )

    path = archive.path
    name = meta.path_name
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ModelLoadError(f"{path}: payload path {_show(str(name))} is not a plain member name")
    data = archive.read(folder + name)
    if meta.use_pickle:
        try:
            loaded = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        except Exception as exc:
            raise ModelLoadError(f"{path}: {folder + name} is not a plain tensor ({_line(exc)})") from None
        if not isinstance(loaded, torch.Tensor):
            raise ModelLoadError(f"{path}: {folder + name} holds a {type(loaded).__name__}, not a tensor")
        return loaded
    tm = meta.tensor_meta
    if tm is None:
        raise ModelLoadError(f"{path}: {folder + name} has no tensor metadata")
    dtype = deserialize_scalar_type(tm.dtype)
    sizes = deserialize_size(tm.sizes)
    strides = deserialize_stride(tm.strides)
    offset = deserialize_storage_offset(tm.storage_offset)
    if not all(isinstance(d, int) and d >= 0 for d in (*sizes, *strides, offset)):
        raise ModelLoadError(f"{path}: {folder + name} has a symbolic or negative size, stride or offset")
    if not data:  # saved from fake/meta tensors: the shape without the values
        flat = torch.empty(_extent(sizes, strides, offset), dtype=dtype, device="meta")
    else:
        size = torch.empty((), dtype=dtype).element_size()
        if len(data) % size:
            raise ModelLoadError(f"{path}: {folder + name} is {len(data)} bytes, not a whole number of {dtype}")
        flat = torch.frombuffer(bytearray(data), dtype=dtype) if dtype != torch.bool else \
            torch.frombuffer(bytearray(data), dtype=torch.uint8).to(torch.bool)
    if _extent(sizes, strides, offset) > flat.numel():
        raise ModelLoadError(f"{path}: {folder + name} is smaller than its shape {tuple(sizes)} needs")
    tensor = torch.as_strided(flat, sizes, strides, offset)
    if as_param:
        return torch.nn.Parameter(tensor, requires_grad=bool(tm.requires_grad) and tensor.is_floating_point())
    return tensor


def _to_meta(t: torch.Tensor) -> torch.Tensor:
    if t.is_meta:
        return t
    if isinstance(t, torch.nn.Parameter):
        return torch.nn.Parameter(t.detach().to("meta"), requires_grad=t.requires_grad)
    return t.to("meta")


def _extent(sizes: Sequence[int], strides: Sequence[int], offset: int) -> int:
    """Elements a strided view needs from its storage."""
    if any(s == 0 for s in sizes):
        return offset
    return offset + 1 + sum((s - 1) * st for s, st in zip(sizes, strides, strict=True))


def _sample_inputs(archive: _Archive, name: str) -> Any:
    """The recorded example inputs, tensors only (``None`` when absent or not plain tensors)."""
    if name not in archive.members:
        return None
    try:
        loaded = torch.load(io.BytesIO(archive.read(name)), weights_only=True, map_location="cpu")
    except Exception:
        return None
    return loaded if isinstance(loaded, tuple) else None


# ---- quiet torch ---------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_torch() -> Iterator[None]:
    """No torch warning or log line reaches the user's terminal; torch.load stays tensors-only."""
    loggers = [logging.getLogger(n) for n in ("torch.export", "torch._export", "torch._export.serde.serialize",
                                                "torch.export.pt2_archive._package", "torch.fx")]
    levels = [lg.level for lg in loggers]
    env = {k: os.environ.get(k) for k in ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")}
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    try:
        for lg in loggers:
            lg.setLevel(logging.CRITICAL + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _show(text: str) -> str:
    """A model-provided name, printable on one line."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return repr(clean if len(clean) <= 120 else clean[:117] + "...")


def _line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= 300 else first[:297] + "..."
