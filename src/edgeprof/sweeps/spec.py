"""What a sweep runs: the models given (files, folders, globs, Hugging Face configs,
``module:callable`` specs) expanded into :class:`Job`\\ s, one per model or search-space point,
each with the content hash and the options hash that key its rows in the database.

* A folder stands for its ``.onnx``, ``.tflite`` and ``.pt2`` files (not recursive, sorted); a
  pattern with ``*``, ``?`` or ``[`` that names no file is expanded like a shell glob.
* A search space (``space={"hidden_size": [256, 384], "num_hidden_layers": [4, 6]}``, the CLI's
  ``--set``) applies to a Hugging Face ``config.json`` (the values replace the config's fields;
  ``text_config.hidden_size`` reaches into a sub-config) or to a ``module:callable`` (the values
  are its keyword arguments): the cross product, in the order given.
* The model hash: the SHA-256 of a model file's bytes; of a Hugging Face config's fields (as
  canonical JSON, after the search-space point is applied); of a ``module:callable`` spec, its
  keyword arguments and (when the module is found without running it) its source file.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edgeprof.errors import UsageError
from edgeprof.frontends.base import CALLABLE_SPEC

__all__ = ["MODEL_SUFFIXES", "Job", "SweepModel", "canonical_json", "expand", "parse_set"]

MODEL_SUFFIXES = (".onnx", ".tflite", ".pt2")
"""The files a folder given to a sweep stands for."""

_GLOB_CHARS = frozenset("*?[")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces (tuples as lists): the text that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SweepModel:
    """One model of a sweep, with its own shapes (``None``: the sweep's) and search space.

    ``source``: a model file, a folder, a glob pattern, a Hugging Face ``config.json`` or a
    ``'package.module:callable'``; ``space``: ``{name: [values]}``, the cross product of which is
    swept (config fields or keyword arguments); ``label``: the rows' label (default: the source,
    with the point in brackets)."""

    source: str
    label: str = ""
    input_shapes: Any = None
    dims: Mapping[str, int] | None = None
    values: Mapping[str, Sequence[float]] | None = None
    seq_len: int | None = None
    space: Mapping[str, Sequence[Any]] | None = None


@dataclass(frozen=True)
class Job:
    """One unit of work, picklable for a process pool or a Ray task: one model (or point of a
    search space) profiled once, then predicted on each (device, precision) of ``targets`` (``("",
    "")`` without devices). ``resource``: the Ray resource the job must run on (a ``--measure`` job
    pinned to a device's machines), empty for any."""

    kind: Literal["file", "hf-config", "callable"]
    source: str
    label: str
    model_hash: str
    options_hash: str
    options: dict[str, Any]
    targets: tuple[tuple[str, str], ...]
    point: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None  # the Hugging Face config, the point applied
    devices_files: tuple[tuple[str, str], ...] = ()  # (file name, TOML text): shipped to the worker
    resource: str = ""

    @property
    def keys(self) -> list[tuple[str, str, str, str]]:
        """The (model hash, options hash, device, precision) of each row the job makes."""
        return [(self.model_hash, self.options_hash, d, p) for d, p in self.targets]


def parse_set(spec: str) -> tuple[str, list[Any]]:
    """``'hidden_size=256,384,512'`` -> ``('hidden_size', [256, 384, 512])``: each value is read as
    JSON (numbers, ``true``, ``null``, ``"text"``), else kept as a string."""
    name, sep, text = spec.partition("=")
    if not sep or not name.strip() or name != name.strip():
        raise UsageError(f"--set {spec!r}: expected NAME=V[,V...], e.g. hidden_size=256,384,512")
    if text == "":
        raise UsageError(f"--set {spec!r}: no value after '='")
    values: list[Any] = []
    for item in text.split(","):
        try:
            values.append(json.loads(item))
        except ValueError:
            values.append(item)
    return name, values


def _points(space: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    if not space:
        return [{}]
    names = list(space)
    for name in names:
        if isinstance(space[name], (str, bytes)) or not list(space[name]):
            raise UsageError(f"search space {name!r}: give a non-empty list of values")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(list(space[n]) for n in names))]


def _point_label(point: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in point.items())


def _sources(source: str) -> list[str]:
    """A folder's model files, a glob's matches, or the source itself."""
    if os.path.isdir(source):
        found = sorted(str(p) for p in Path(source).iterdir() if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())
        if not found:
            raise UsageError(f"{source}: a folder with no model file ({', '.join(MODEL_SUFFIXES)})")
        return found
    if not os.path.exists(source) and _GLOB_CHARS & set(source) and not CALLABLE_SPEC.match(source):
        found = sorted(p for p in glob.glob(source) if os.path.isfile(p))
        if not found:
            raise UsageError(f"{source}: no file matches this pattern")
        return found
    return [source]


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _read_config(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a Hugging Face config (not a JSON object)")
    return data


def _apply(config: dict[str, Any], point: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``config`` with the point's fields set (``a.b`` sets field ``b`` of sub-config ``a``)."""
    out: dict[str, Any] = json.loads(json.dumps(config))
    for name, value in point.items():
        *path, last = name.split(".")
        target = out
        for part in path:
            if not isinstance(target.get(part), dict):
                raise UsageError(f"--set {name}: {where} has no sub-config {part!r}")
            target = target[part]
        target[last] = value
    return out


def _callable_hash(spec: str, kwargs: Mapping[str, Any]) -> str:
    """The spec, its keyword arguments and, when found without importing it, the module's source."""
    digest = hashlib.sha256(canonical_json({"callable": spec, "kwargs": kwargs}).encode())
    module = spec.partition(":")[0]
    if "." not in module:  # find_spec of a submodule would import its package
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        origin = getattr(found, "origin", None)
        if origin and os.path.isfile(origin):
            digest.update(_file_hash(origin).encode())
    return digest.hexdigest()


def _read_devices_files(files: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for f in files:
        try:
            out.append((Path(f).name, Path(f).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--devices-file {f}: {getattr(exc, 'strerror', None) or exc}") from None
    return tuple(out)


def expand(models: Sequence[str | SweepModel], *, input_shapes: Any = None, dims: Mapping[str, int] | None = None,
           values: Mapping[str, Sequence[float]] | None = None, seq_len: int | None = None,
           space: Mapping[str, Sequence[Any]] | None = None, targets: Sequence[tuple[str, str]] = (("", ""),),
           options: Mapping[str, Any] | None = None, devices_files: Sequence[str] = (),
           pin_devices: bool = False) -> list[Job]:
    """The jobs of a sweep, in order. ``space`` applies to every config and callable without a space
    of its own (model files are profiled as they are); ``options`` (memory, measure, runtime, ...) go into every job's options hash;
    ``pin_devices``: one job per device, to run where a Ray resource of the device's name is
    advertised (``--ray`` with ``--measure``)."""
    if not models:
        raise UsageError("sweep: no model given")
    shipped = _read_devices_files(devices_files)
    common = {**dict(options or {}), "devices_files": [_sha256(text.encode()) for _, text in shipped]}
    jobs: list[Job] = []
    for given in models:
        model = given if isinstance(given, SweepModel) else SweepModel(str(given))
        model_space = model.space if model.space is not None else space
        shape_opts = {
            "input_shapes": model.input_shapes if model.input_shapes is not None else input_shapes,
            "dims": dict(model.dims) if model.dims is not None else dict(dims or {}),
            "values": {k: list(v) for k, v in (model.values if model.values is not None else values or {}).items()},
            "seq_len": model.seq_len if model.seq_len is not None else seq_len,
        }
        for source in _sources(model.source):
            is_callable = CALLABLE_SPEC.match(source) is not None and not os.path.exists(source)
            if not is_callable and not os.path.exists(source):
                raise UsageError(f"{source}: No such file or directory")
            kind: Literal["file", "hf-config", "callable"] = (
                "callable" if is_callable else "hf-config" if source.lower().endswith(".json") else "file")
            if kind == "file" and model.space:
                raise UsageError(f"{source}: a search space (--set) applies to a Hugging Face config.json or a "
                                 "'module:callable', not to a model file")
            # seq_len sets a Hugging Face config's text input; other models take --input shapes
            job_options = {**common, **shape_opts, "seq_len": shape_opts["seq_len"] if kind == "hf-config" else None}
            options_hash = _sha256(canonical_json(job_options).encode())
            base = _read_config(source) if kind == "hf-config" else None
            file_hash = _file_hash(source) if kind == "file" else ""
            for point in _points(model_space if kind != "file" else None):
                label = model.label or source
                if point:
                    label = f"{label}[{_point_label(point)}]"
                config = _apply(base, point, source) if base is not None else None
                if config is not None:
                    model_hash = _sha256(canonical_json(config).encode())
                elif kind == "callable":
                    model_hash = _callable_hash(source, point)
                else:
                    model_hash = file_hash
                groups = ([[t for t in targets if t[0] == d] for d in dict.fromkeys(t[0] for t in targets)]
                          if pin_devices else [list(targets)])
                for group in groups:
                    jobs.append(Job(kind, source, label, model_hash, options_hash, job_options,
                                    tuple(group), point, config, shipped,
                                    group[0][0] if pin_devices else ""))
    if space and all(j.kind == "file" for j in jobs):
        raise UsageError("a search space (--set) applies to a Hugging Face config.json or a 'module:callable', and "
                         "no model given is one")
    return jobs
