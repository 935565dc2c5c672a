"""Costs of custom ops given by the user: a Python function (``edgeprof.register_op``) or
expressions of input and output shapes in a TOML file (``--ops-file``).

The TOML file holds one table per op, named as edgeprof names the op (the "Not counted" list
of a report shows it: ``domain::Op`` for an ONNX op outside the default domain,
``CUSTOM:<code>`` for a TFLite custom op)::

    [ops."com.example::FancyNorm"]
    category = "normalisation"          # optional, default "other" (``edgeprof ops`` lists them)
    flops = "5 * numel(in0)"            # scalar ops: FLOPs (integer OPs for an integer-typed op)
    macs = "0"                          # optional, default 0
    bytes_read = "4 * numel(in0)"       # optional, default: the sizes of the inputs
    bytes_written = "4 * numel(out0)"   # optional, default: the sizes of the outputs
    defaults = { axis = -1 }            # optional: attribute values when the node has none

An expression is arithmetic over integers (never run as code: a small evaluator walks its syntax
tree): numbers, ``+ - * / // % **`` and parentheses; ``in0``, ``in1``, ... the input shapes and
``out0``, ... the output shapes (tuples; ``in0[1]`` is a dim, ``in0[-1]`` the last one); the
node's attributes by name (a number or a tuple of numbers); ``numel(s)`` (= ``prod(s)``), ``len(s)``
(the rank), ``sum``, ``min`` and ``max``. ``/`` is exact; a result must be a non-negative integer
(use ``//`` to divide as integers), else the node is listed as not counted with the reason, as it
is when a shape is not static or a name is not bound for a node.
"""

from __future__ import annotations

import ast
import math
import sys
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from edgeprof.errors import UsageError
from edgeprof.ops.registry import Arith, Category, OpCall, Uncountable, check_user_op, register_user
from edgeprof.safe_files import MAX_TEXT_BYTES, UnreadableFile, read_regular_file

__all__ = ["EXPRESSION_KEYS", "Expression", "expression_formula", "load_ops_file", "register_expressions"]

MAX_EXPRESSION_CHARS = 1000
MAX_EXPRESSION_NODES = 200
MAX_BITS = 256  # no intermediate value may exceed 2**256 (a count is far below 2**128)
MAX_EXPONENT = 64
MAX_OPS_IN_FILE = 10_000

EXPRESSION_KEYS = ("flops", "macs", "bytes_read", "bytes_written")
_TABLE_KEYS = (*EXPRESSION_KEYS, "category", "defaults")

Number = Fraction
Shape = tuple[Number, ...]
Bound = Number | Shape

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: Fraction(a // b),
    ast.Mod: lambda a, b: a % b,
}


def _numbers(args: list[Bound], fn: str) -> list[Number]:
    """The arguments of ``min``/``max``/``sum``/``prod``: one shape, or several numbers."""
    if len(args) == 1 and isinstance(args[0], tuple):
        return list(args[0])
    if any(isinstance(a, tuple) for a in args):
        raise Uncountable(f"{fn}() takes one shape or numbers, not both")
    return [a for a in args if isinstance(a, Fraction)]


def _prod(args: list[Bound]) -> Number:
    return Fraction(math.prod(_numbers(args, "prod")))


def _len(args: list[Bound]) -> Number:
    if len(args) != 1 or not isinstance(args[0], tuple):
        raise Uncountable("len() takes one shape")
    return Fraction(len(args[0]))


def _pick(fn: Callable[[list[Number]], Number], name: str) -> Callable[[list[Bound]], Number]:
    def call(args: list[Bound]) -> Number:
        values = _numbers(args, name)
        if not values:
            raise Uncountable(f"{name}() of nothing")
        return fn(values)

    return call


_FUNCTIONS: dict[str, Callable[[list[Bound]], Number]] = {
    "numel": _prod,
    "prod": _prod,
    "len": _len,
    "sum": lambda args: Fraction(sum(_numbers(args, "sum"))),
    "min": _pick(min, "min"),
    "max": _pick(max, "max"),
}


class Expression:
    """One formula expression, checked when it is made (syntax, allowed constructs, size) and
    evaluated over a node's shapes and attributes by :meth:`value`."""

    def __init__(self, text: str, what: str) -> None:
        if not isinstance(text, (str, int)) or isinstance(text, bool):
            raise UsageError(f"{what}: expected an expression as a string (e.g. \"2 * numel(in0)\"), got {text!r}")
        self.text = str(text)
        self.what = what
        if len(self.text) > MAX_EXPRESSION_CHARS:
            raise UsageError(f"{what}: the expression has {len(self.text):,} characters, more than the "
                             f"{MAX_EXPRESSION_CHARS} edgeprof reads")
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            raise UsageError(f"{what}: {self.text!r} is not an expression ({exc.msg})") from None
        except (RecursionError, MemoryError, ValueError):
            raise UsageError(f"{what}: {self.text[:80]!r} is not an expression edgeprof reads") from None
        nodes = list(ast.walk(tree))
        if len(nodes) > MAX_EXPRESSION_NODES:
            raise UsageError(f"{what}: the expression has {len(nodes)} parts, more than the {MAX_EXPRESSION_NODES} "
                             "edgeprof reads")
        for node in nodes:
            problem = _disallowed(node)
            if problem:
                raise UsageError(f"{what}: {problem} in {self.text!r} (allowed: numbers, + - * / // % **, "
                                 "in0/out0... shapes, in0[i], attributes, numel len sum min max)")
        self.tree = tree.body

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def value(self, names: Mapping[str, Bound]) -> int:
        """The expression's value for a node: a non-negative integer, or :class:`Uncountable`."""
        result = _eval(self.tree, names)
        if isinstance(result, tuple):
            raise Uncountable(f"{self.text!r} is a shape, not a number (use numel(...) or [i])")
        if result.denominator != 1:
            raise Uncountable(f"{self.text!r} is {float(result):g}, not an integer (use // to divide as integers)")
        if result < 0:
            raise Uncountable(f"{self.text!r} is negative ({result})")
        return int(result)


def _disallowed(node: ast.AST) -> str:
    """Why ``node`` may not appear in an expression ('' when it may)."""
    if isinstance(node, (ast.Expression, ast.Load, ast.Name, ast.Subscript, ast.Tuple, ast.USub, ast.UAdd)):
        return ""
    if isinstance(node, ast.operator):
        return "" if type(node) in _BINARY or isinstance(node, ast.Pow) else f"the operator {type(node).__name__}"
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return ""
    if isinstance(node, ast.Constant):
        value = node.value
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return "" if ok else f"the constant {value!r}"
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            return "a call of something other than " + ", ".join(_FUNCTIONS)
        return "keyword arguments" if node.keywords else ""
    return f"{type(node).__name__.lower()} syntax"


def _check(value: Number, text: str) -> Number:
    if abs(value.numerator).bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise Uncountable(f"{text!r}: a value beyond 2**{MAX_BITS}")
    return value


def _eval(node: ast.expr, names: Mapping[str, Bound]) -> Bound:
    """Evaluate the (already checked) tree: exact fractions and shapes only."""
    if isinstance(node, ast.Constant):
        value = Fraction(node.value) if isinstance(node.value, int) else Fraction(str(node.value))
        return _check(value, ast.unparse(node))
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise Uncountable(f"no value for {node.id!r} on this node")
        return names[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(_number(_eval(e, names), "a tuple item") for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        v = _number(_eval(node.operand, names), "a sign's operand")
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a = _number(_eval(node.left, names), "an operand")
        b = _number(_eval(node.right, names), "an operand")
        text = ast.unparse(node)
        if isinstance(node.op, ast.Pow):
            if b.denominator != 1 or not 0 <= b <= MAX_EXPONENT:
                raise Uncountable(f"{text!r}: the exponent must be an integer from 0 to {MAX_EXPONENT}")
            if a.numerator and abs(a.numerator).bit_length() * int(b) > MAX_BITS + 64:
                raise Uncountable(f"{text!r}: a value beyond 2**{MAX_BITS}")
            return _check(a ** int(b), text)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
            raise Uncountable(f"{text!r}: division by zero")
        return _check(_BINARY[type(node.op)](a, b), text)
    if isinstance(node, ast.Subscript):
        shape = _eval(node.value, names)
        index = _number(_eval(node.slice, names), "an index")
        if not isinstance(shape, tuple):
            raise Uncountable(f"{ast.unparse(node)!r}: only a shape can be indexed")
        if index.denominator != 1 or not -len(shape) <= index < len(shape):
            raise Uncountable(f"{ast.unparse(node)!r}: index {index} out of range for rank {len(shape)}")
        return shape[int(index)]
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_eval(a, names) for a in node.args]
        return _check(_FUNCTIONS[node.func.id](args), ast.unparse(node))
    raise Uncountable(f"{type(node).__name__} is not evaluated")  # not reached: checked at parse time


def _number(v: Bound, what: str) -> Number:
    if isinstance(v, tuple):
        raise Uncountable(f"{what} is a shape, not a number")
    return v


def _attr(value: Any) -> Bound | None:
    """An attribute as a number or a tuple of numbers (other attributes are not bound)."""
    if isinstance(value, bool):
        return Fraction(int(value))
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value) if math.isfinite(value) else None
    if isinstance(value, (tuple, list)):
        items = [_attr(x) for x in value]
        if all(isinstance(x, Fraction) for x in items):
            return tuple(x for x in items if isinstance(x, Fraction))
    return None


def _names(call: OpCall, defaults: Mapping[str, Any]) -> dict[str, Bound]:
    names: dict[str, Bound] = {}
    for key, raw in {**defaults, **call.attrs}.items():
        bound = _attr(raw)
        if bound is not None:
            names[key] = bound
    for i in range(len(call.inputs)):
        if call.has_input(i):
            names[f"in{i}"] = tuple(Fraction(d) for d in call.in_shape(i))
    for i in range(len(call.outputs)):
        names[f"out{i}"] = tuple(Fraction(d) for d in call.out_shape(i))
    return names


def expression_formula(op: str, expressions: Mapping[str, Expression],
                       defaults: Mapping[str, Any] | None = None) -> Callable[[OpCall], Arith]:
    """The formula of ``op`` from its expressions (keys of :data:`EXPRESSION_KEYS`; ``flops``
    needed): shapes are read only when the formula runs, so an unknown shape makes the node not
    counted with the reason."""
    if "flops" not in expressions:
        raise UsageError(f"{op}: a formula needs at least flops = \"...\"")
    fixed = dict(defaults or {})

    def fn(call: OpCall) -> Arith:
        names = _names(call, fixed)
        values = {k: e.value(names) for k, e in expressions.items()}
        return Arith(ops=values["flops"], macs=values.get("macs", 0), bytes_read=values.get("bytes_read"),
                     bytes_written=values.get("bytes_written"))

    return fn


def _category(value: Any, what: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise UsageError(f"{what}: unknown category {value!r} (known: {known})") from None


def register_expressions(op: str, table: Mapping[str, Any], what: str, *, origin: str) -> None:
    """Register ``op`` with the expressions of ``table`` (a TOML table, or the mapping given to
    ``edgeprof.register_op``): ``flops``, optional ``macs``, ``bytes_read``, ``bytes_written``,
    ``category``, ``defaults``."""
    register_user(op, *_formula_of(op, table, what), origin=origin)


def _formula_of(op: str, table: Mapping[str, Any], what: str) -> tuple[Callable[[OpCall], Arith], Category, str]:
    """The formula, category and docs line of ``op`` from its table (checked, not registered)."""
    unknown = sorted(set(table) - set(_TABLE_KEYS))
    if unknown:
        raise UsageError(f"{what}: unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(_TABLE_KEYS)})")
    expressions = {k: Expression(table[k], f"{what} {k}") for k in EXPRESSION_KEYS if k in table}
    defaults = table.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise UsageError(f"{what} defaults: expected a table of attribute values, e.g. defaults = {{ axis = -1 }}")
    category = _category(table.get("category", "other"), what)
    fn = expression_formula(op, expressions, defaults)
    return fn, category, "; ".join(f"{k} = {e.text}" for k, e in expressions.items())


def load_ops_file(path: str) -> list[str]:
    """Register every op of the TOML file at ``path`` (``[ops."NAME"]`` tables, see the module's
    docstring) and return their names. Raises :class:`UsageError` for a missing or bad file, an
    expression edgeprof does not read, or an op edgeprof already costs."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as the tomli package
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UsageError(f"--ops-file {path}: reading TOML needs Python 3.11+ or the tomli package") from None
    try:
        data = tomllib.loads(read_regular_file(path, MAX_TEXT_BYTES).decode("utf-8"))
    except UnreadableFile as exc:
        raise UsageError(f"--ops-file {path}: {'No such file or directory' if exc.missing else exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--ops-file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--ops-file {path}: not valid TOML: {exc}") from None
    except (ValueError, RecursionError):
        raise UsageError(f"--ops-file {path}: not valid TOML (a number too long or tables nested too deeply)") from None
    ops = data.get("ops")
    if not isinstance(ops, dict) or not ops:
        raise UsageError(f"--ops-file {path}: no [ops.\"NAME\"] table (expected e.g. [ops.\"com.example::MyOp\"] "
                         "flops = \"2 * numel(in0)\")")
    if len(ops) > MAX_OPS_IN_FILE:
        raise UsageError(f"--ops-file {path}: {len(ops):,} ops, more than the {MAX_OPS_IN_FILE:,} edgeprof reads")
    built = []
    for op, table in ops.items():  # every op checked before any is registered
        if not isinstance(table, dict):
            raise UsageError(f"--ops-file {path}: ops.{op!r} is not a table")
        check_user_op(op, f"--ops-file {path}")
        built.append((op, _formula_of(op, table, f"--ops-file {path}: {op}")))
    for op, (fn, category, doc) in built:
        register_user(op, fn, category, doc, origin=f"--ops-file {path}")
    return list(ops)
