"""The ``edgeprof`` command line: parse arguments, call the API, render, map errors to exit codes.

No computation happens here. Exit codes:

* 0 the report was written;
* 1 ``--strict`` and some ops were not counted (the report is written first);
* 2 a usage or input error (a bad flag, a missing or unreadable model, an unknown input name);
* 3 an internal error (a bug: ``--debug`` shows the traceback);
* 130 interrupted (Ctrl-C); 141 the reader of the output went away (``edgeprof ... | head``).

Every error is one line on stderr: ``edgeprof: <message>``, its control and bidi characters
written as visible escapes (a model's names can hold terminal escape sequences).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NoReturn, TextIO

from edgeprof.errors import EdgeprofError, MeasurementError, StrictModeError, UsageError, did_you_mean
from edgeprof.ir.limits import MAX_DIM, MIN_NAMED_DIM, MIN_SHAPE_DIM, dim_in_range
from edgeprof.render.format import ViewOptions
from edgeprof.report.model import Profile

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_PIPE", "MAX_DIM", "main", "parse_dim", "parse_input_spec",
           "parse_value"]

EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe
FORMATS = ("table", "json", "csv", "md", "html")
OPS_FORMATS = ("table", "md", "json")
COMPARE_FORMATS = ("table", "md", "json", "html")
CHECK_FORMATS = ("table", "md", "json")
DEFAULT_WIDTH = 100

_DIGITS = re.compile(r"[0-9]+")


class _ArgumentError(Exception):
    """argparse rejected the command line (raised by :meth:`_Parser.error`)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: no usage dump, the message goes to ``main``, with a
    "did you mean" for a mistyped command, flag or choice."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        prog = f"{self.prog} {self._command}" if len(self._parsers()) > 1 else self.prog
        raise _ArgumentError(f"{message}{self._suggestion(message)}; see '{prog} --help'")

    def _suggestion(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice is not None:
            return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        if unknown is None:
            return ""
        flags = [w for w in unknown.group(1).split() if w.startswith("--")]
        options = [o for parser in self._parsers() for o in parser._option_string_actions if o.startswith("--")]
        for flag in flags:
            hint = did_you_mean(flag.partition("=")[0], options)
            if hint:
                return hint
        return ""

    def _parsers(self) -> list[argparse.ArgumentParser]:
        """This parser and the subcommand's parser that ran (the last one ``parse_args`` used)."""
        found: list[argparse.ArgumentParser] = [self]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and self._command in action.choices:
                found.append(action.choices[self._command])
        return found

    _command = ""

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        words = list(args or [])
        self._command = next((w for w in words if not w.startswith("-")), "")
        return super().parse_args(words, namespace)


# ---- flag values ------------------------------------------------------------------------

_SPEC_HINT = "expected [NAME=]DxDx...xD with positive integer dims, e.g. 1x3x224x224 or images=1x3x320x320"


def _dim_problem(text: str, position: int) -> str | None:
    """What is wrong with one dim of a shape spec (None when it is fine)."""
    if text == "":
        return f"dim {position} is empty"
    if text.startswith("-") and _DIGITS.fullmatch(text[1:]):
        return f"dim {position} ({text}) is negative"
    if not _DIGITS.fullmatch(text):
        return f"dim {position} ({text[:40]!r}) is not an integer"
    if len(text.lstrip("0")) > 19:  # past 2**62 for sure: int() of over 4,300 digits would raise
        return f"dim {position} ({len(text):,} digits) is larger than 2**62"
    value = int(text)
    if value == 0:
        return f"dim {position} is 0; dims must be at least 1"
    if not dim_in_range(value, MIN_SHAPE_DIM):
        return f"dim {position} ({text}) is larger than 2**62-1"
    return None


def parse_input_spec(spec: str) -> tuple[str | None, tuple[int, ...]]:
    """``'1x3x224x224'`` -> ``(None, (1, 3, 224, 224))``; ``'images=1x3x320x320'`` ->
    ``('images', (1, 3, 320, 320))``. Raises :class:`UsageError` naming what is wrong."""

    def bad(problem: str) -> UsageError:
        return UsageError(f"--input {_shown(spec)}: {problem} ({_SPEC_HINT})")

    name: str | None = None
    shape_text = spec
    if "=" in spec:
        name, _, shape_text = spec.partition("=")
        if name.strip() == "":
            raise bad("the input name before '=' is empty")
        if name != name.strip():
            raise bad("the input name has leading or trailing spaces")
    if shape_text.strip() == "":
        raise bad("the shape is empty")
    parts = shape_text.split("x")
    dims: list[int] = []
    for position, part in enumerate(parts, start=1):
        problem = _dim_problem(part, position)
        if problem is not None:
            raise bad(problem)
        dims.append(int(part))
    return name, tuple(dims)


def _shown(spec: str) -> str:
    """``spec`` for a message, cut when it is long (a dim of 5,000 digits)."""
    return repr(spec) if len(spec) <= 120 else repr(spec[:100]) + f"... ({len(spec):,} characters)"


def parse_dim(spec: str) -> tuple[str, int]:
    """``'batch=8'`` -> ``('batch', 8)``; a dim may be 0 (an empty past sequence) up to 2**62-1."""
    name, sep, value = spec.partition("=")
    if not sep:
        raise UsageError(f"--dim {_shown(spec)}: expected NAME=N, e.g. batch=8")
    if name.strip() == "" or name != name.strip():
        raise UsageError(f"--dim {_shown(spec)}: the dim name before '=' is empty or has spaces (expected NAME=N)")
    if not _DIGITS.fullmatch(value):
        what = "is empty" if value == "" else "is negative" if value.startswith("-") else "is not an integer"
        raise UsageError(f"--dim {_shown(spec)}: the size {what} (expected NAME=N with N a non-negative integer)")
    size = int(value) if len(value.lstrip("0")) <= 19 else MAX_DIM + 1  # int() of over 4,300 digits raises
    if not dim_in_range(size, MIN_NAMED_DIM):
        raise UsageError(f"--dim {_shown(spec)}: the size is larger than 2**62-1")
    return name, size


def parse_value(spec: str) -> tuple[str, tuple[float, ...]]:
    """``'sample_rate=16000'`` -> ``('sample_rate', (16000.0,))``; ``'scales=1,1,2,2'`` -> 4 values."""
    name, sep, text = spec.partition("=")
    if not sep:
        raise UsageError(f"--value {spec!r}: expected NAME=V or NAME=V,V,... e.g. use_cache=1")
    if name.strip() == "" or name != name.strip():
        raise UsageError(f"--value {spec!r}: the input name before '=' is empty or has spaces (expected NAME=V)")
    if text == "":
        raise UsageError(f"--value {spec!r}: no value after '=' (expected NAME=V or NAME=V,V,...)")
    values: list[float] = []
    for position, item in enumerate(text.split(","), start=1):
        try:
            if item.strip() != item or item == "":
                raise ValueError
            number = float(item)
        except ValueError:
            raise UsageError(f"--value {spec!r}: value {position} ({item!r}) is not a number") from None
        if not math.isfinite(number):
            raise UsageError(f"--value {spec!r}: value {position} ({item}) is not a finite number")
        values.append(number)
    return name, tuple(values)


def _non_negative_int(text: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a non-negative integer")
    if len(text.lstrip("0")) > 19:  # int() of over 4,300 digits raises; no count flag needs 10**19
        raise argparse.ArgumentTypeError(f"a number of {len(text):,} digits is too large")
    return int(text)


def _positive_int(text: str) -> int:
    if not _DIGITS.fullmatch(text) or not text.strip("0"):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a positive integer")
    return _non_negative_int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _unique(pairs: Sequence[tuple[str, Any]], flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise UsageError(f"{flag} {name!r} is given twice")
        out[name] = value
    return out


# ---- the parser ---------------------------------------------------------------------------


def _version() -> str:
    from edgeprof import __version__

    return __version__


def build_parser() -> _Parser:
    parser = _Parser(
        prog="edgeprof",
        description="How light and fast is a deep-learning model on an edge device: exact FLOPs and MACs, "
        "parameters and bytes, per layer, per op category and in total.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"edgeprof {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    prof = sub.add_parser(
        "profile",
        help="count FLOPs, MACs, parameters and bytes of a model",
        description="Count FLOPs (a dot product of n = 2n-1), MACs, parameters and bytes of MODEL at the "
        "given input shapes, per layer, per op category and in total.",
        allow_abbrev=False,
    )
    prof.add_argument(
        "model", metavar="MODEL",
        help="the model: an .onnx or .tflite file (also what edgeprof.profile accepts: a torch.export .pt2 file, a "
        "Hugging Face config.json, a 'package.module:callable' that builds a torch model)",
    )
    prof.add_argument(
        "--input", dest="inputs", action="append", default=[], metavar="[NAME=]DxDxD",
        help="an input shape, e.g. 1x3x224x224 (the next input in order) or images=1x3x320x320; repeatable",
    )
    prof.add_argument(
        "--dim", dest="dims", action="append", default=[], metavar="NAME=N",
        help="the size of a named symbolic dim, e.g. batch=8 or sequence=128; repeatable",
    )
    prof.add_argument(
        "--value", dest="values", action="append", default=[], metavar="NAME=V[,V...]",
        help="the value of a small input that drives shapes or an If, e.g. use_cache=1; repeatable",
    )
    prof.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    prof.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    prof.add_argument(
        "--top", type=_non_negative_int, default=None, metavar="N",
        help="layers shown by table/md: the N costliest (default 25 when there are more; 0 = all); "
        "html: the layers in the FLOPs chart (default 30; 0 = all)",
    )
    prof.add_argument(
        "--by-module", type=_positive_int, default=None, metavar="DEPTH",
        help="table/md: add a per-module table, module paths cut at DEPTH (layer1.0 is depth 2)",
    )
    prof.add_argument("--by-operator", action="store_true", help="table/md: add a per-operator table")
    _add_view_flags(prof)
    prof.add_argument("--strict", action="store_true", help="exit 1 when some ops were not counted")
    _add_custom_op_flags(prof)
    prof.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    prof.add_argument(
        "--seq-len", type=_positive_int, default=None, metavar="N",
        help="Hugging Face config.json models: the sequence length of the text input (default: the config's)",
    )
    prof.add_argument(
        "--measure", action="store_true",
        help="also run the model for real (ONNX Runtime, LiteRT for .tflite, PyTorch eager for a module:callable; in a fresh subprocess) and report its peak memory "
        "beside the prediction; the static report comes out even when the run fails",
    )
    prof.add_argument("--measure-runs", type=_positive_int, default=5, metavar="N", help="runs for --measure (default 5)")
    prof.add_argument(
        "--measure-timeout", type=_positive_int, default=300, metavar="S",
        help="seconds before a --measure run is stopped (default 300)",
    )
    prof.add_argument("--no-memory", action="store_true", help="skip the memory analysis (weights, activation peak)")
    prof.add_argument(
        "--device", dest="devices", action="append", default=[], metavar="ID",
        help="predict the latency and estimate the energy per inference on this catalogue device ('edgeprof devices' "
        "lists them; 'host' after "
        "'edgeprof calibrate'); repeatable",
    )
    prof.add_argument(
        "--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
        help="a device TOML file (e.g. from 'edgeprof calibrate') added to the catalogue; repeatable",
    )
    prof.add_argument(
        "--runtime", default=None, metavar="ID",
        help="with --device: the runtime to partition the graph for (e.g. edgetpu, qnn, tensorrt, xnnpack); default: "
        "the device's own ('edgetpu' on coral, 'qnn' on Snapdragon NPUs, 'xnnpack' on Raspberry Pis), stated in the output",
    )
    prof.add_argument(
        "--precision", default=None, choices=("fp32", "fp16", "int8", "w8a8", "w4a16"),
        help="with --device: a what-if: the network re-typed as deployed at this precision, for latency and energy",
    )
    prof.add_argument(
        "--fps", type=_positive_float, default=None, metavar="N",
        help="with --device: the frame rate for the energy-per-hour and battery figures (default 30)",
    )
    prof.add_argument(
        "--battery-wh", type=_positive_float, default=None, metavar="WH",
        help="with --device: the battery for the battery-share figure, in Wh (default 15, an assumed phone battery)",
    )
    prof.add_argument(
        "--sysfs-root", default="/sys", metavar="DIR",
        help="with --measure: where the power sensors (powercap RAPL, Jetson INA3221) are looked for (default /sys)",
    )
    prof.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    ops = sub.add_parser(
        "ops",
        help="list the ops edgeprof can cost, with their formulas",
        description="List every registered op: its state (counted, zero, not_countable, subgraph), its "
        "category and its formula (or the reason it costs zero or cannot be counted).",
        allow_abbrev=False,
    )
    ops.add_argument("op", metavar="OP", nargs="?", default=None,
                     help="show this op only (its canonical name, e.g. Conv or com.microsoft::QLinearConv)")
    ops.add_argument("--format", choices=OPS_FORMATS, default="table", help="output format (default: table)")
    ops.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    ops.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    _add_compare_and_check(sub)
    _add_latency_commands(sub)
    _add_sweep_and_db(sub)
    return parser


def _add_view_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--details", action="store_true",
                   help="table: every device's latency breakdown, runtime partitions, energy ranges, top layers and "
                   "categories (default: one row per device)")
    _add_all_columns(p)


def _add_all_columns(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all-columns", action="store_true",
                   help="table: every column, even when the table is wider than the terminal (default: the least "
                   "useful columns are left out to fit, and the output says which)")


def _add_shape_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", dest="inputs", action="append", default=[], metavar="[NAME=]DxDxD",
                   help="an input shape, as for 'profile'; repeatable")
    p.add_argument("--dim", dest="dims", action="append", default=[], metavar="NAME=N",
                   help="the size of a named symbolic dim, as for 'profile'; repeatable")


def _add_models_file(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-file", dest="models_file", metavar="FILE",
                   help="a TOML file of [[model]] tables (path, input, dim, value, label), added after the MODELs")


def _add_custom_op_flags(p: argparse.ArgumentParser, *, waive: bool = True) -> None:
    """``--ops-file`` (formulas for custom ops) and ``--allow-not-counted`` (ops waived by --strict and check)."""
    p.add_argument("--ops-file", dest="ops_files", action="append", default=[], metavar="FILE",
                   help="a TOML file of formulas for custom ops ([ops.\"domain::Op\"] flops = \"2 * numel(in0)\"; "
                   "docs/ops.md); repeatable")
    if waive:
        p.add_argument("--allow-not-counted", dest="allow_not_counted", action="append", default=[], metavar="OP",
                       help="an op that may stay not counted (for --strict and check; as named in the report's "
                       "'Not counted' list); repeatable")


def _load_ops_files(args: argparse.Namespace) -> None:
    """Register the formulas of every ``--ops-file`` (an ``-o`` naming one is refused first)."""
    from edgeprof import api

    for path in args.ops_files:
        if getattr(args, "output", None) is not None:
            from edgeprof.render.output import check_output_path

            check_output_path(args.output, path, what="an --ops-file")
        api.load_ops_file(path)


def _add_compare_and_check(sub: Any) -> None:
    cmp = sub.add_parser(
        "compare",
        help="compare models side by side (FLOPs, MACs, params, size, peak memory; latency and energy with --device)",
        description="Profile every MODEL and print one row per model with the best value of each column "
        "marked; a model that fails keeps its row with the reason, and the exit code is then 2.",
        allow_abbrev=False,
    )
    cmp.add_argument("models", metavar="MODEL", nargs="*",
                     help="the models to compare (as for 'profile'); MODEL::--input=NAME=DxD gives one model its own "
                     "shapes (also ::--dim=NAME=N, ::--value=NAME=V, ::--label=TEXT; repeatable); a model may appear "
                     "several times")
    _add_models_file(cmp)
    cmp.add_argument("--format", choices=COMPARE_FORMATS, default="table", help="output format (default: table)")
    cmp.add_argument("-o", "--output", metavar="FILE", help="write the comparison to FILE (atomically) instead of stdout")
    cmp.add_argument("--device", dest="devices", action="append", default=[], metavar="ID",
                     help="add the predicted latency, FPS and estimated energy on this catalogue device; repeatable")
    cmp.add_argument("--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
                     help="a device TOML file added to the catalogue; repeatable")
    cmp.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    _add_all_columns(cmp)
    _add_shape_flags(cmp)
    _add_custom_op_flags(cmp, waive=False)
    cmp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    chk = sub.add_parser(
        "check",
        help="check a model against budgets (exit 0: all hold, 1: some do not)",
        description="Check MODEL against budgets given as flags or in a TOML file ([budget] max_flops = \"2G\" ...; "
        "flags override the file). K/M/G/T are decimal. Exit 0 when every budget holds, 1 when one does not "
        "(or cannot be proven: a lower bound), 2 on bad input.",
        allow_abbrev=False,
    )
    chk.add_argument("model", metavar="MODEL", help="the model (as for 'profile')")
    chk.add_argument("--max-flops", metavar="N", help="most FLOPs allowed, e.g. 2G")
    chk.add_argument("--max-macs", metavar="N", help="most MACs allowed, e.g. 1G")
    chk.add_argument("--max-params", metavar="N", help="most parameters allowed, e.g. 5M")
    chk.add_argument("--max-size-mb", metavar="MB", help="largest weight size allowed, in MB (10**6 bytes)")
    chk.add_argument("--max-peak-mb", metavar="MB", help="largest predicted peak memory allowed, in MB (10**6 bytes)")
    chk.add_argument("--max-latency-ms", metavar="MS",
                     help="longest predicted latency allowed on each --device, in milliseconds")
    chk.add_argument("--max-energy-mj", metavar="MJ",
                     help="most estimated energy per inference allowed on each --device, in millijoules")
    chk.add_argument("--device", dest="devices", action="append", default=[], metavar="ID",
                     help="the catalogue device the latency and energy budgets are checked on; repeatable")
    chk.add_argument("--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
                     help="a device TOML file added to the catalogue; repeatable")
    chk.add_argument("--budget", metavar="FILE", help="a TOML file with a [budget] table (flags override it)")
    chk.add_argument("--format", choices=CHECK_FORMATS, default="table", help="output format (default: table)")
    chk.add_argument("-o", "--output", metavar="FILE", help="write the result to FILE (atomically) instead of stdout")
    chk.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    _add_shape_flags(chk)
    _add_custom_op_flags(chk)
    chk.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _add_latency_commands(sub: Any) -> None:
    bench = sub.add_parser(
        "bench", help="time a model on ONNX Runtime, LiteRT or PyTorch eager (CPU) in a fresh subprocess",
        description="Run MODEL (an .onnx file on ONNX Runtime's CPU provider, a .tflite file on the LiteRT interpreter, "
        "a module:callable's torch model on PyTorch eager) in a fresh subprocess: load time, first "
        "inference, warm-up, then timed runs until the 95 %% CI of the mean is within 2 %% or a limit is reached; "
        "p50/p90/p99/min/mean/std, CPU time per run and the environment go into latency.measured.",
        allow_abbrev=False,
    )
    bench.add_argument("model", metavar="MODEL",
                       help="the model (an .onnx or .tflite file, or a module:callable that builds a torch model)")
    bench.add_argument("--runs", type=_positive_int, default=1000, metavar="N", help="most timed runs (default 1000)")
    bench.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                       help="ONNX Runtime intra-op threads (default 1)")
    bench.add_argument("--max-time", type=_positive_int, default=10, metavar="S",
                       help="most seconds of timed runs (default 10)")
    bench.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    bench.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    bench.add_argument("--device", dest="devices", action="append", default=[], metavar="ID",
                       help="also predict the latency on this device; repeatable")
    bench.add_argument("--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
                       help="a device TOML file added to the catalogue; repeatable")
    bench.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    _add_view_flags(bench)
    _add_shape_flags(bench)
    bench.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    dev = sub.add_parser("devices", help="list the device catalogue with every figure's tag",
                         description="List the catalogue devices: peak rates, bandwidth, memories and power, each "
                         "with its tag (vendor, measured, derived, secondary, assumed); JSON adds every source.",
                         allow_abbrev=False)
    dev.add_argument("--format", choices=OPS_FORMATS, default="table", help="output format (default: table)")
    dev.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    _add_all_columns(dev)
    dev.add_argument("--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
                     help="a device TOML file added to the catalogue; repeatable")
    dev.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    cal = sub.add_parser("calibrate", help="measure this machine as device 'host' (about a minute)",
                         description="Micro-benchmarks of single-op ONNX models (Gemm, Conv, Add, Sigmoid, int8 "
                         "MatMulInteger/QLinearConv, chains of tiny ops) on ONNX Runtime; writes a device TOML file "
                         "(id 'host', tag 'measured') for --devices-file.", allow_abbrev=False)
    cal.add_argument("-o", "--output", metavar="FILE", default=None,
                     help="the device file (default: host.toml in edgeprof's config folder, where --device host finds "
                     "it; EDGEPROF_CONFIG_DIR sets the folder)")
    cal.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                     help="ONNX Runtime intra-op threads (default 1; use the same for bench and validate)")
    cal.add_argument("--seconds", type=_positive_int, default=3, metavar="S",
                     help="seconds of timed runs per micro-benchmark (default 3; 15 benchmarks)")
    cal.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    val = sub.add_parser("validate", help="predicted vs measured latency per model, with the relative error",
                         description="For each MODEL (.onnx or .tflite): predict its latency on --device (default host, from "
                         "--devices-file) and time it on ONNX Runtime (LiteRT for .tflite); print both and (predicted - measured) / "
                         "measured.", allow_abbrev=False)
    val.add_argument("models", metavar="MODEL", nargs="*",
                     help="the models (.onnx or .tflite files); MODEL::--input=NAME=DxD gives one its own shapes, "
                     "as for 'compare'")
    _add_models_file(val)
    val.add_argument("--device", default="host", metavar="ID", help="the device to predict on (default host)")
    val.add_argument("--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
                     help="a device TOML file added to the catalogue (the 'host' from 'edgeprof calibrate'); repeatable")
    val.add_argument("--threads", type=_positive_int, default=1, metavar="N", help="ONNX Runtime intra-op threads (default 1)")
    val.add_argument("--max-time", type=_positive_int, default=10, metavar="S",
                     help="most seconds of timed runs per model (default 10)")
    val.add_argument("--format", choices=OPS_FORMATS, default="table", help="output format (default: table)")
    val.add_argument("-o", "--output", metavar="FILE", help="write the result to FILE (atomically) instead of stdout")
    val.add_argument("--no-color", action="store_true", help="no colour, even on a terminal")
    _add_shape_flags(val)
    val.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


# ---- output -------------------------------------------------------------------------------


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width(stream: TextIO, to_tty: bool) -> int:
    columns = os.environ.get("COLUMNS", "")
    if _DIGITS.fullmatch(columns) and int(columns) > 0:
        return int(columns)
    if to_tty:
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            pass
    return DEFAULT_WIDTH


def _terminal(args: argparse.Namespace, stdout: TextIO) -> dict[str, Any]:
    """The width, colour and encoding of a table: the terminal's when it is written to stdout,
    else (``-o FILE``) plain UTF-8 at :data:`DEFAULT_WIDTH` or ``COLUMNS``."""
    output = getattr(args, "output", None)
    to_tty = output is None and _is_tty(stdout)
    return {"width": _width(stdout, to_tty),
            "color": output is None and _use_color(stdout, getattr(args, "no_color", False)),
            "encoding": "utf-8" if output is not None else (getattr(stdout, "encoding", None) or "utf-8")}


def _use_color(stream: TextIO, no_color: bool) -> bool:
    return not no_color and os.environ.get("NO_COLOR", "") == "" and _is_tty(stream)


def _write_stdout(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding))
    stream.flush()


def _emit(text: str | Iterable[str], output: str | None, stream: TextIO) -> None:
    """Write a report, one string or the chunks a renderer yields (each written as it comes)."""
    chunks = (text,) if isinstance(text, str) else text
    if output is None:
        for chunk in chunks:
            _write_stdout(stream, chunk)
    else:
        from edgeprof.render.output import write_chunks_atomic

        write_chunks_atomic(output, chunks)


# ---- commands -----------------------------------------------------------------------------


def _run_profile(args: argparse.Namespace, stdout: TextIO) -> int:
    pairs = [parse_input_spec(s) for s in args.inputs]
    dims = _unique([parse_dim(s) for s in args.dims], "--dim")
    values = _unique([parse_value(s) for s in args.values], "--value")
    named = [(n, s) for n, s in pairs if n is not None]
    _unique(named, "--input")
    _check_output(args, [args.model])
    _load_ops_files(args)

    options: dict[str, Any] = {"memory": not args.no_memory}
    if args.seq_len is not None:
        if not args.model.lower().endswith(".json") and not os.path.isfile(os.path.join(args.model, "config.json")):
            raise UsageError("--seq-len applies to Hugging Face config.json models only; for other models give "
                             "the input shape with --input (or a named dim with --dim)")
        options["seq_len"] = args.seq_len
    if not args.devices and (args.fps is not None or args.battery_wh is not None):
        raise UsageError("--fps and --battery-wh need --device ID: the energy estimate is per device")
    if not args.devices and (args.runtime is not None or args.precision is not None):
        raise UsageError("--runtime and --precision need --device ID: they shape the prediction on a device")
    from edgeprof.cli_progress import TerminalProgress

    with TerminalProgress(sys.stderr) as progress:  # a spinner on a terminal once a step takes over 2 s
        profile = _profile(args.model, pairs, dims, values, {**options, "progress": progress})
        _check_output_data(args, [profile])
        if args.devices:
            progress("predicting latency and energy on " + ", ".join(args.devices))
            profile = _on_devices(profile, args, fps=args.fps, battery_wh=args.battery_wh)
    measure_error = ""
    if args.measure:
        from edgeprof import api

        with TerminalProgress(sys.stderr) as progress:
            profile = api.measured(profile, runs=args.measure_runs, timeout_s=float(args.measure_timeout),
                                   sysfs_root=args.sysfs_root, progress=progress)
        reports = (profile.memory, profile.latency, profile.energy)
        measure_error = "; ".join(r.measurement_error for r in reports if r is not None and r.measurement_error)

    view = ViewOptions(top=args.top, by_module=args.by_module, by_operator=args.by_operator, details=args.details,
                       all_columns=args.all_columns)
    text = _render(profile, args.format, view, args.output, args.no_color, stdout)
    _emit(text, args.output, stdout)
    if measure_error:
        raise MeasurementError(f"--measure: {measure_error} (the static report above is complete)")
    not_counted = [nc for nc in profile.not_counted if nc.op not in args.allow_not_counted]
    if args.strict and not_counted:
        listed = ", ".join(f"{nc.op} ({nc.count})" for nc in not_counted)
        nodes = sum(nc.count for nc in not_counted)
        raise StrictModeError(f"--strict: {nodes} node(s) of {len(not_counted)} op type(s) not counted: {listed}"
                              + (" (not waived by --allow-not-counted)" if args.allow_not_counted else ""))
    return 0


def _profile(
    model: str,
    pairs: list[tuple[str | None, tuple[int, ...]]],
    dims: dict[str, int],
    values: dict[str, tuple[float, ...]],
    options: dict[str, Any],
) -> Profile:
    from edgeprof import api

    value_arg = {k: list(v) for k, v in values.items()}
    return api.profile(model, input_shapes=_input_shapes(pairs), dims=dims, values=value_arg, **options)


def _on_devices(profile: Profile, args: argparse.Namespace, *, fps: float | None = None,
                battery_wh: float | None = None) -> Profile:
    """``profile`` with the latency predicted and the energy estimated on every ``--device``."""
    from edgeprof import api

    runtime, precision = getattr(args, "runtime", None), getattr(args, "precision", None)
    profile = api.predict_latency(profile, args.devices, devices_files=args.devices_files, runtime=runtime,
                                  precision=precision)
    return api.estimate_energy(profile, args.devices, devices_files=args.devices_files, fps=fps, battery_wh=battery_wh,
                               runtime=runtime, precision=precision)


def _render(profile: Profile, fmt: str, view: ViewOptions, output: str | None, no_color: bool,
            stdout: TextIO) -> str | Iterator[str]:
    if fmt == "json":  # in chunks: a big report is written as it is rendered, never held whole
        from edgeprof.render.json import json_chunks

        return json_chunks(profile)
    if fmt == "csv":
        from edgeprof.render.csv import render_csv

        return render_csv(profile)
    if fmt == "md":
        from edgeprof.render.markdown import render_markdown

        return render_markdown(profile, view)
    if fmt == "html":
        from edgeprof.render.html import render_html

        return render_html(profile, top=view.top)
    from edgeprof.render.terminal import render_terminal

    to_tty = output is None and _is_tty(stdout)
    color = output is None and _use_color(stdout, no_color)
    encoding = "utf-8" if output is not None else (getattr(stdout, "encoding", None) or "utf-8")
    return render_terminal(profile, view, width=_width(stdout, to_tty), color=color, encoding=encoding)


def _run_ops(args: argparse.Namespace, stdout: TextIO) -> int:
    from edgeprof.ops.registry import Category, registered_ops

    order = {c.value: i for i, c in enumerate(Category)}
    entries = sorted(registered_ops().values(), key=lambda e: (order.get(e.category.value, len(order)), e.op))
    if args.op is not None:
        wanted = [e for e in entries if e.op == args.op] or [e for e in entries if e.op.lower() == args.op.lower()]
        if not wanted:
            raise UsageError(f"unknown op {args.op!r}{did_you_mean(args.op, [e.op for e in entries])} "
                             "('edgeprof ops' lists every op)")
        entries = wanted
    if args.format == "json":
        from edgeprof.render.json import render_ops_json

        text = render_ops_json(entries)
    elif args.format == "md":
        from edgeprof.render.markdown import render_ops_markdown

        text = render_ops_markdown(entries)
    else:
        from edgeprof.render.terminal import render_ops_terminal

        to_tty = _is_tty(stdout)
        text = render_ops_terminal(
            entries,
            width=_width(stdout, to_tty),
            color=_use_color(stdout, args.no_color),
            encoding=getattr(stdout, "encoding", None) or "utf-8",
        )
    _write_stdout(stdout, text)
    return 0


def _shapes(args: argparse.Namespace) -> tuple[list[tuple[str | None, tuple[int, ...]]], dict[str, int]]:
    pairs = [parse_input_spec(s) for s in args.inputs]
    _unique([(n, s) for n, s in pairs if n is not None], "--input")
    return pairs, _unique([parse_dim(s) for s in args.dims], "--dim")


def _check_output(args: argparse.Namespace, models: Sequence[str]) -> None:
    """Refuse, before any work, an ``-o`` that is a folder, in a missing folder, or one of the
    command's input files: a model, a ``--devices-file`` or the ``--budget`` file."""
    if getattr(args, "output", None) is None:
        return
    from edgeprof.render.output import check_output_path

    for model in models:
        check_output_path(args.output, model)
    for path in getattr(args, "devices_files", []):
        check_output_path(args.output, path, what="a --devices-file")
    if getattr(args, "budget", None) is not None:
        check_output_path(args.output, args.budget, what="the --budget file")
    if getattr(args, "models_file", None) is not None:
        check_output_path(args.output, args.models_file, what="the --models-file")


def _model_runs(args: argparse.Namespace) -> list[Any]:
    """Every MODEL argument and ``--models-file`` model with its shapes (its own flags, else the global
    ``--input``/``--dim``) and its row label, as :class:`edgeprof.compare.ModelRun`."""
    from edgeprof.compare import ModelRun, labels, load_models_file, parse_model_arg

    models = [parse_model_arg(a) for a in args.models]
    if args.models_file is not None:
        models += load_models_file(args.models_file)
    if not models:
        raise UsageError(f"{args.command}: no model given (MODEL arguments or --models-file FILE)")
    pairs, dims = _shapes(args)
    runs: list[Any] = []
    by_label: dict[str, Any] = {}
    for m, label in zip(models, labels(models), strict=True):
        try:
            own_pairs = [parse_input_spec(x) for x in m.inputs]
            _unique([(n, sh) for n, sh in own_pairs if n is not None], "--input")
            own_dims = _unique([parse_dim(x) for x in m.dims], "--dim")
            own_values = _unique([parse_value(x) for x in m.values], "--value")
        except UsageError as exc:
            raise UsageError(f"{m.path}::{exc.message}") from None
        run = ModelRun(m.path, label, _input_shapes(own_pairs or pairs), own_dims if m.dims else dims,
                       {k: list(v) for k, v in own_values.items()} or None)
        if by_label.get(label, run) != run:
            raise UsageError(f"{args.command}: two different models are labelled {label!r}")
        by_label[label] = run
        runs.append(run)
    return runs


def _input_shapes(pairs: list[tuple[str | None, tuple[int, ...]]]) -> Any:
    if all(n is None for n, _ in pairs):
        return [s for _, s in pairs] or None
    if all(n is not None for n, _ in pairs):
        return {str(n): s for n, s in pairs}
    return list(pairs)  # named and positional together: ordered (name or None, shape) pairs


_GLOBAL_HINT = ("(--input/--dim apply to every model without its own: give this one its own with "
                "MODEL::--input=NAME=DxD or a --models-file)")


def _check_output_data(args: argparse.Namespace, profiles: Sequence[Profile | None]) -> None:
    """Refuse, once the models are read and before anything is written, an ``-o`` that names a
    file a model read besides itself (an ONNX model's external data)."""
    if getattr(args, "output", None) is None:
        return
    from edgeprof.render.output import check_output_path

    for profile in profiles:
        for path in profile.model.data_files if profile is not None else ():
            check_output_path(args.output, path, what="an external-data file of the model")


def _run_compare(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from edgeprof import api
    from edgeprof.compare import compare_models
    from edgeprof.errors import ShapeError
    from edgeprof.render.compare import render_compare

    runs = _model_runs(args)
    _check_output(args, [r.model for r in runs])
    _load_ops_files(args)
    progress = stderr if _is_tty(stderr) and len(runs) > 1 else None
    if args.devices:
        api.load_devices(args.devices, devices_files=args.devices_files)  # an unknown device: bad input, before any work
    by_label = {r.label: r for r in runs}
    global_flags = bool(args.inputs or args.dims)

    def one(label: str) -> Profile:
        run = by_label[label]
        try:
            profile = api.profile(run.model, input_shapes=run.input_shapes, dims=run.dims, values=run.values)
        except ShapeError as exc:
            if global_flags and ("--input" in exc.message or "--dim" in exc.message):
                raise ShapeError(f"{exc.message} {_GLOBAL_HINT}") from None
            raise
        return _on_devices(profile, args) if args.devices else profile

    entries = compare_models([r.label for r in runs], one, progress=progress)
    _check_output_data(args, [e.profile for e in entries])
    _emit(render_compare(entries, args.format, all_columns=args.all_columns, **_terminal(args, stdout)), args.output,
          stdout)
    failed = [e for e in entries if e.profile is None]
    if failed:
        raise UsageError(f"{len(failed)} of {len(entries)} model(s) could not be profiled: "
                         + "; ".join(e.error if e.error.startswith(e.path) else f"{e.path}: {e.error}" for e in failed))
    return 0


def _run_check(args: argparse.Namespace, stdout: TextIO) -> int:
    from edgeprof.budget import Budget, check_budget, load_budget_file, merge_budgets
    from edgeprof.render.budget import render_check

    flags = Budget.from_values({"max_flops": args.max_flops, "max_macs": args.max_macs, "max_params": args.max_params,
                                "max_size_mb": args.max_size_mb, "max_peak_mb": args.max_peak_mb,
                                "max_latency_ms": args.max_latency_ms, "max_energy_mj": args.max_energy_mj,
                                "allow_not_counted": args.allow_not_counted or None}, "flags")
    budget = merge_budgets(load_budget_file(args.budget), flags) if args.budget is not None else flags
    if not budget.items():
        raise UsageError("no budget given: pass --max-flops, --max-macs, --max-params, --max-size-mb, --max-peak-mb, "
                         "--max-latency-ms, --max-energy-mj or --budget FILE")
    if budget.needs_device() and not args.devices:
        raise UsageError("a latency or energy budget (max_latency_ms, max_energy_mj) needs --device ID: the figures "
                         "are predicted on a catalogue device ('edgeprof devices' lists them)")
    pairs, dims = _shapes(args)
    _check_output(args, [args.model])
    _load_ops_files(args)
    profile = _profile(args.model, pairs, dims, {}, {})
    _check_output_data(args, [profile])
    if args.devices:
        profile = _on_devices(profile, args)
    result = check_budget(profile, budget)
    _emit(render_check(result, args.format, **_terminal(args, stdout)), args.output, stdout)
    return 0 if result.ok else 1


def _run_latency_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from edgeprof import api
    from edgeprof.cli_progress import TerminalProgress

    if args.command == "devices":
        from edgeprof.render.devices import render_devices

        _write_stdout(stdout, render_devices(api.load_devices(devices_files=args.devices_files), args.format,
                                             all_columns=args.all_columns, **_terminal(args, stdout)))
        return 0
    if args.command == "calibrate":
        from edgeprof.render.output import write_text_atomic

        def say(label: str) -> None:
            if _is_tty(stderr):
                _say(stderr, f"calibrate: {label}")

        from edgeprof.measure.calibrate import stored_calibration

        target = args.output
        if target is None:
            target = str(stored_calibration())
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create the config folder {os.path.dirname(target)!r}: {exc.strerror}; "
                                 "give -o FILE or set EDGEPROF_CONFIG_DIR") from None
        cal = api.calibrate(threads=args.threads, seconds_per_model=float(args.seconds), progress=say,
                            command=f"edgeprof calibrate --threads {args.threads} --seconds {args.seconds}")
        write_text_atomic(target, cal.to_toml())
        if args.output is None:
            how = ("'--device host' (and 'edgeprof validate') now use it; --devices-file FILE takes its place")
        else:
            how = f"use --devices-file {args.output} --device host"
        _write_stdout(stdout, f"wrote {target}: device 'host' ({cal.cpu_model}); {how}\n")
        return 0
    if args.command == "validate":
        from edgeprof.render.latency import render_validation

        runs = _model_runs(args)
        _check_output(args, [r.model for r in runs])
        with TerminalProgress(stderr) as progress:
            entries = api.validate(runs, args.device, devices_files=args.devices_files, threads=args.threads,
                                   max_time_s=float(args.max_time), progress=progress)
        _emit(render_validation(entries, args.format, **_terminal(args, stdout)), args.output, stdout)
        failed = [e for e in entries if e.error is None]
        if failed:
            raise MeasurementError(f"{len(failed)} model(s) not measured: " + "; ".join(e.problem for e in failed))
        return 0
    pairs, dims = _shapes(args)
    shapes: api.InputShapes = list(pairs) or None
    _check_output(args, [args.model])
    profile = api.profile(args.model, input_shapes=shapes, dims=dims, memory=False)
    _check_output_data(args, [profile])
    if args.devices:
        profile = api.predict_latency(profile, args.devices, devices_files=args.devices_files)
    with TerminalProgress(stderr) as progress:
        profile = api.measure_latency(profile, threads=args.threads, max_runs=args.runs,
                                      max_time_s=float(args.max_time), progress=progress)
    text = _render(profile, args.format, ViewOptions(details=args.details, all_columns=args.all_columns), args.output,
                   args.no_color, stdout)
    _emit(text, args.output, stdout)
    error = profile.latency.measurement_error if profile.latency is not None else ""
    if error:
        raise MeasurementError(f"bench: {error} (the static report above is complete)")
    return 0


# ---- sweep and db (docs/sweep.md): many models into an SQLite results database -----------------------


def _add_sweep_and_db(sub: Any) -> None:
    from edgeprof.render.sweep import SWEEP_FORMATS

    sw = sub.add_parser(
        "sweep",
        help="profile many models and search spaces into an SQLite database, with a Pareto chart",
        description="Profile every MODEL (files, folders, globs, Hugging Face config.json files, "
        "'module:callable' specs) and every point of the --set search space, each with its own shapes, on every "
        "--device; rows go to the --db SQLite file as they finish, and a sweep run again skips the rows already "
        "there. A model that fails keeps its row with the reason. See docs/sweep.md.",
        allow_abbrev=False,
    )
    sw.add_argument("models", nargs="*", metavar="MODEL",
                    help="a model file, a folder (its .onnx, .tflite, .pt2 files), a glob, a config.json or a "
                    "'module:callable'; own shapes as for compare: PATH::--input=x=1x3x320x320::--dim=batch=2")
    _add_models_file(sw)
    sw.add_argument("--set", dest="space", action="append", default=[], metavar="NAME=V[,V...]",
                    help="a search-space axis over every config.json (a field; a.b for a sub-config's) and "
                    "'module:callable' (a keyword argument): the cross product of all --set is swept; repeatable")
    _add_shape_flags(sw)
    sw.add_argument("--seq-len", type=_positive_int, default=None, metavar="N",
                    help="Hugging Face configs: the sequence length of the text input")
    sw.add_argument("--device", dest="devices", action="append", default=[], metavar="ID",
                    help="predict latency and energy on this catalogue device: one row per device; repeatable")
    sw.add_argument("--devices-file", dest="devices_files", action="append", default=[], metavar="FILE",
                    help="a device TOML file added to the catalogue; repeatable")
    sw.add_argument("--precision", dest="precisions", action="append", default=[],
                    choices=("fp32", "fp16", "int8", "w8a8", "w4a16"),
                    help="with --device: a what-if precision, one row per precision; repeatable")
    sw.add_argument("--runtime", default=None, metavar="ID", help="with --device: the runtime to partition for")
    sw.add_argument("--no-memory", action="store_true", help="skip the memory analysis")
    sw.add_argument("--measure", action="store_true",
                    help="also run each model for real (as profile --measure); with --ray and --device, on the "
                    "machines whose Ray node offers a resource named after the device")
    sw.add_argument("--measure-runs", type=_positive_int, default=5, metavar="N", help="runs for --measure (default 5)")
    sw.add_argument("--measure-timeout", type=_positive_int, default=300, metavar="S",
                    help="seconds before a --measure run is stopped (default 300)")
    sw.add_argument("--db", default="results.sqlite", metavar="FILE",
                    help="the SQLite results database (default results.sqlite; created if missing)")
    sw.add_argument("--no-db", action="store_true", help="write no database (and resume from none)")
    sw.add_argument("--retry-failed", action="store_true", help="run again the rows of the database that failed")
    sw.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                    help="worker processes (default: the number of cores; 1 runs in this process)")
    sw.add_argument("--ray", dest="ray_address", default=None, metavar="ADDRESS",
                    help="run the jobs as Ray tasks on the Ray cluster at ADDRESS ('auto': this machine's); "
                    "needs pip install 'edgeprof[ray]'")
    sw.add_argument("--format", choices=SWEEP_FORMATS, default="table", help="output format (default: table)")
    sw.add_argument("-o", "--output", metavar="FILE", help="write the results to FILE (atomically) instead of stdout")
    sw.add_argument("--x", dest="x_axis", choices=("params", "macs", "peak"), default="params",
                    help="the Pareto chart's x axis against latency (default params)")
    sw.add_argument("--pareto-device", default=None, metavar="ID",
                    help="the device whose latency the Pareto front is of (default: the first --device)")
    sw.add_argument("--budget", default=None, metavar="FILE", help="a TOML [budget] table: rows that break it are marked")
    for key in ("max_flops", "max_macs", "max_params", "max_size_mb", "max_peak_mb", "max_latency_ms",
                "max_energy_mj"):
        sw.add_argument(f"--{key.replace('_', '-')}", dest=key, default=None, metavar="N",
                        help=f"a {key} budget: rows that break it are marked (as for check)")
    sw.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    db = sub.add_parser("db", help="read a sweep's results database",
                        description="Read the SQLite results database of 'edgeprof sweep'.", allow_abbrev=False)
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    q = db_sub.add_parser("query", help="run a read-only SQL query on the database",
                          description="Run SQL on the database, opened read-only (default: the headline columns of "
                          "every row). The table 'results' is documented in docs/sweep.md.", allow_abbrev=False)
    q.add_argument("db_file", metavar="DB", help="the results database (e.g. results.sqlite)")
    q.add_argument("sql", nargs="?", default=None, metavar="SQL", help="the query (default: the headline columns)")
    q.add_argument("--format", choices=("table", "md", "csv", "json"), default="table",
                   help="output format (default: table)")
    q.add_argument("-o", "--output", metavar="FILE", help="write the result to FILE (atomically) instead of stdout")
    q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _sweep_budget(args: argparse.Namespace) -> Any:
    from edgeprof.budget import BUDGET_KEYS, Budget, load_budget_file, merge_budgets

    flags = Budget.from_values({k: getattr(args, k) for k in BUDGET_KEYS}, "flags")
    budget = merge_budgets(load_budget_file(args.budget), flags) if args.budget is not None else flags
    return budget if budget.items() else None


def _run_sweep(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from edgeprof.render.sweep import render_sweep
    from edgeprof.sweeps import SweepModel, sweep
    from edgeprof.sweeps.pareto import mark_rows
    from edgeprof.sweeps.spec import parse_set

    runs = _model_runs(args)
    _check_output(args, [r.model for r in runs])
    if args.output is not None and not args.no_db:
        from edgeprof.render.output import check_output_path

        check_output_path(args.output, args.db, what="the --db file")
    budget = _sweep_budget(args)
    space = _unique([parse_set(s) for s in args.space], "--set")
    if args.seq_len is not None and not any(r.model.lower().endswith(".json") or os.path.isdir(r.model) for r in runs):
        raise UsageError("--seq-len applies to Hugging Face config.json models only")
    if args.pareto_device is not None and args.pareto_device not in args.devices:
        raise UsageError(f"--pareto-device {args.pareto_device}: not one of the --device given")
    models = [SweepModel(r.model, "" if r.label == r.model else r.label, r.input_shapes, r.dims, r.values)
              for r in runs]
    bar: Any = None
    task: Any = None
    if _is_tty(stderr):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=Console(file=stderr), transient=True)

    def progress(row: Any, done: int, total: int) -> None:
        nonlocal task
        if bar is None:
            return
        if task is None:
            task = bar.add_task("sweep", total=total)
        bar.update(task, completed=done, description=f"sweep: {row.label[:60]}")

    def stop(signum: int, frame: Any) -> None:  # SIGTERM: end the workers, keep every finished row
        raise KeyboardInterrupt

    import signal
    import threading

    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if on_main else None
    if bar is not None:
        bar.start()
    try:
        rows = sweep(models, space=space or None, seq_len=args.seq_len, devices=args.devices,
                     precisions=args.precisions, devices_files=args.devices_files, runtime=args.runtime,
                     memory=not args.no_memory, measure=args.measure, measure_runs=args.measure_runs,
                     measure_timeout_s=float(args.measure_timeout), db=None if args.no_db else args.db,
                     retry_failed=args.retry_failed, jobs=args.jobs, ray_address=args.ray_address, progress=progress)
    finally:
        if bar is not None:
            bar.stop()
        if on_main:
            signal.signal(signal.SIGTERM, previous)
    y_axis, marks = mark_rows(rows, x=args.x_axis, device=args.pareto_device, budget=budget)
    _emit(render_sweep(rows, args.format, marks=marks, y_axis=y_axis, x_axis=args.x_axis), args.output, stdout)
    failed = [r for r in rows if not r.ok]
    if failed:
        _say(stderr, f"sweep: {len(failed)} of {len(rows)} row(s) failed (the reasons are in the output"
             f"{'' if args.no_db else ' and in ' + args.db}); first: {failed[0].label}: {failed[0].error}")
    return 0


def _run_db(args: argparse.Namespace, stdout: TextIO) -> int:
    from edgeprof.render.sweep import render_query
    from edgeprof.sweeps.db import DEFAULT_QUERY, query

    if args.output is not None:
        from edgeprof.render.output import check_output_path

        check_output_path(args.output, args.db_file, what="the database")
    columns, rows = query(args.db_file, args.sql or DEFAULT_QUERY)
    _emit(render_query(columns, rows, args.format), args.output, stdout)
    return 0


# ---- entry point --------------------------------------------------------------------------


def _say(stream: TextIO, message: str) -> None:
    """One line on stderr: every error message passes here, with the model's strings in it
    (an input name, a node name): control and bidi characters show as visible escapes."""
    from edgeprof.report.text import printable

    try:
        print(f"edgeprof: {printable(' '.join(message.split()))}", file=stream, flush=True)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """After a broken pipe: point the real stdout at /dev/null so that the interpreter's final
    flush does not complain (only when stdout is the process's own, never a test's capture)."""
    if sys.stdout is not sys.__stdout__ or sys.__stdout__ is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _stored_devices(args: argparse.Namespace) -> None:
    """Without ``--devices-file``, a command that reads devices also reads the device file
    ``edgeprof calibrate`` stored (``host``), when there is one."""
    if getattr(args, "devices_files", None) != [] or args.command == "calibrate":
        return
    from edgeprof.measure.calibrate import stored_calibration

    stored = stored_calibration()
    if stored.is_file():
        args.devices_files = [str(stored)]


def _wants_debug(argv: Sequence[str]) -> bool:
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--debug":
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = _wants_debug(args_list)
    stdout, stderr = sys.stdout, sys.stderr
    try:
        try:
            args = build_parser().parse_args(args_list)
        except SystemExit as done:  # --help, --version
            stdout.flush()
            return done.code if isinstance(done.code, int) else 0
        _stored_devices(args)
        if args.command == "ops":
            return _run_ops(args, stdout)
        if args.command == "compare":
            return _run_compare(args, stdout, stderr)
        if args.command == "check":
            return _run_check(args, stdout)
        if args.command in ("bench", "devices", "calibrate", "validate"):
            return _run_latency_command(args, stdout, stderr)
        if args.command in ("sweep", "db"):
            return _run_sweep(args, stdout, stderr) if args.command == "sweep" else _run_db(args, stdout)
        return _run_profile(args, stdout)
    except _ArgumentError as exc:
        _say(stderr, str(exc))
        return 2
    except EdgeprofError as exc:
        if debug:
            traceback.print_exc(file=stderr)
        _say(stderr, exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _say(stderr, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except Exception as exc:  # a bug: one line, the traceback on request
        if debug:
            traceback.print_exc(file=stderr)
        _say(stderr, f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
