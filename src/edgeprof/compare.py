"""``edgeprof compare``: profile several models, keeping going past the ones that fail.

A model that cannot be profiled keeps its entry, with the one-line reason; the others are
still compared. The table, Markdown, JSON and HTML comparisons are drawn by
``edgeprof.render.compare``.

Each model of ``compare`` and ``validate`` may carry its own shape flags: a model argument
``PATH::--input=x=1x3x320x320::--dim=batch=2`` (:func:`parse_model_arg`) or a ``[[model]]`` of a
``--models-file`` (:func:`load_models_file`); the same model may appear at several shapes, and its
rows are then labelled with them (:func:`labels`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from edgeprof.errors import EdgeprofError, UsageError
from edgeprof.report.compare import CompareEntry
from edgeprof.report.model import Profile

__all__ = ["ModelArg", "ModelRun", "compare_models", "labels", "load_models_file", "parse_model_arg"]

SEPARATOR = "::"
_FLAG = re.compile(r"(--[a-z-]+)(?:=|\s+)(.*)", re.DOTALL)
_FLAGS = {"--input": "inputs", "--dim": "dims", "--value": "values", "--label": "label"}


@dataclass(frozen=True)
class ModelArg:
    """One model of ``compare``/``validate`` and its own flags, as the user wrote them (the CLI
    parses the ``--input``/``--dim``/``--value`` strings; empty: the global flags apply)."""

    path: str
    inputs: tuple[str, ...] = ()
    dims: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    label: str = ""

    def flags(self) -> str:
        """The model's own flags, as one short string (``x=1x3x320x320 batch=2``)."""
        return " ".join((*self.inputs, *self.dims, *self.values))


@dataclass(frozen=True)
class ModelRun:
    """One model to run with its shapes resolved: ``None`` fields take the call's global ones.
    ``input_shapes`` is what :func:`edgeprof.profile` takes as ``input_shapes``."""

    model: Any
    label: str
    input_shapes: Any = None
    dims: Mapping[str, int] | None = None
    values: Mapping[str, Sequence[float]] | None = None


def parse_model_arg(arg: str) -> ModelArg:
    """``'a.onnx::--input=x=1x3x320x320::--dim=batch=2'`` -> the path and its own flags (``--input``,
    ``--dim``, ``--value``, ``--label``; ``=`` or a space after the flag name). An argument that names
    an existing file is a path even if it holds ``::``."""
    if SEPARATOR not in arg or os.path.exists(arg):
        return ModelArg(arg)
    path, *tokens = arg.split(SEPARATOR)
    if not path:
        raise UsageError(f"{arg!r}: no model before '{SEPARATOR}'")
    found: dict[str, list[str]] = {"inputs": [], "dims": [], "values": [], "label": []}
    for token in tokens:
        text = token.strip()
        match = _FLAG.fullmatch(text)
        flag, value = (match.group(1), match.group(2).strip()) if match else (text, "")
        field = _FLAGS.get(flag)
        if field is None or not value:
            raise UsageError(f"{arg!r}: after '{SEPARATOR}' expected --input=SPEC, --dim=NAME=N, --value=NAME=V or "
                             f"--label=TEXT, got {text!r}")
        found[field].append(value)
    if len(found["label"]) > 1:
        raise UsageError(f"{arg!r}: --label given twice")
    return ModelArg(path, tuple(found["inputs"]), tuple(found["dims"]), tuple(found["values"]),
                    found["label"][0] if found["label"] else "")


def load_models_file(path: str) -> list[ModelArg]:
    """The ``[[model]]`` tables of a TOML file: ``path`` (required), ``input``, ``dim``, ``value``
    (a string or a list of strings, as the flags take them) and ``label``. A relative path is taken
    from the file's folder when a model is there."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as the tomli package
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UsageError(f"--models-file {path}: reading TOML needs Python 3.11+ or the tomli package") from None
    where = f"--models-file {path}"
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: not valid TOML: {exc}") from None
    tables = data.get("model")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise UsageError(f"{where}: no [[model]] tables (expected [[model]] path = \"a.onnx\" input = [\"x=1x3x320x320\"])")
    folder = Path(path).parent
    out = []
    for i, table in enumerate(tables, 1):
        unknown = sorted(set(table) - {"path", "input", "dim", "value", "label"})
        if unknown:
            raise UsageError(f"{where}: model {i}: unknown key(s) {', '.join(unknown)} (path, input, dim, value, label)")
        model = table.get("path")
        if not isinstance(model, str) or not model:
            raise UsageError(f"{where}: model {i}: 'path' must be a non-empty string")
        if not os.path.isabs(model) and (folder / model).exists():
            model = str(folder / model)
        label = table.get("label", "")
        if not isinstance(label, str):
            raise UsageError(f"{where}: model {i}: 'label' must be a string")
        inputs, dims, values = (_strings(table.get(k), f"{where}: model {i}: '{k}'") for k in ("input", "dim", "value"))
        out.append(ModelArg(model, inputs, dims, values, label))
    return out


def _strings(v: Any, what: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise UsageError(f"{what} must be a string or a list of strings")


def labels(models: Sequence[ModelArg]) -> list[str]:
    """The row label of each model: its ``label``, else its path, with its own flags added when the
    same path appears with different flags (``a.onnx [x=1x3x320x320]``; ``[global shapes]`` for one
    without flags of its own)."""
    flags: dict[str, set[str]] = {}
    for m in models:
        flags.setdefault(m.path, set()).add(m.flags())
    out = []
    for m in models:
        if m.label:
            out.append(m.label)
        elif len(flags[m.path]) > 1:
            out.append(f"{m.path} [{m.flags() or 'global shapes'}]")
        else:
            out.append(m.path)
    return out


def compare_models(
    paths: Sequence[str], profile: Callable[[str], Profile], *, progress: TextIO | None = None
) -> list[CompareEntry]:
    """Profile every path with ``profile``; a failure becomes the entry's ``error`` (one line).
    With ``progress`` (a terminal stream) a progress bar is drawn on it. A "path" may be a row
    label (:func:`labels`) that ``profile`` resolves."""
    entries: list[CompareEntry] = []

    def one(path: str) -> CompareEntry:
        try:
            return CompareEntry(path, profile(path))
        except EdgeprofError as exc:
            return CompareEntry(path, None, exc.message)
        except Exception as exc:  # a bug in one model's path must not hide the others' rows
            return CompareEntry(path, None, " ".join(f"internal error: {type(exc).__name__}: {exc}".split()))

    if progress is None:
        return [one(p) for p in paths]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=progress)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("profiling", total=len(paths))
        for path in paths:
            bar.update(task, description=f"profiling {path}")
            entries.append(one(path))
            bar.advance(task)
    return entries
