"""What the tracer needs to know about an aten op, worked out once per overload, and the meta-device
run of an op with its outputs remembered by input metadata.

:func:`op_info` reads an overload's schema once (argument names and defaults, which arguments it
writes, whether it returns a view, its table row) instead of on every call.

:func:`meta_call` runs an aten op on meta tensors. A meta kernel's output sizes, strides and dtypes
are a function of its inputs' sizes, strides, storage offsets and dtypes, its other arguments and
the default dtype, so within one trace an op that allocates fresh outputs (no argument written, no
view returned) is run once per such key and later calls (the next identical block of the model)
make empty meta tensors of the same layout. The remembered layouts belong to the trace: nothing is
kept from one profile to the next. Any call a
fake-tensor run would treat differently (a tensor off the meta device or of a subclass, a tensor
made off the meta device, an op that raises, an op that changes a tensor's sizes or strides in
place, which on a meta run would change the model's own parameter) raises :class:`LeaveMeta`, a
``BaseException`` so that a model's ``except Exception`` cannot swallow it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import torch
from torch._ops import OpOverload

from edgeprof.frontends.pytorch._map import row_for
from edgeprof.frontends.pytorch._rows import Row

_META = torch.device("meta")
_PLAIN = (torch.Tensor, torch.nn.Parameter)
_SCALARS = (int, bool, str, type(None), torch.dtype, torch.device, torch.layout, torch.memory_format)


class LeaveMeta(BaseException):
    """A meta-tensor trace met something only a fake-tensor trace handles: redo it on fake tensors."""


@dataclass(frozen=True)
class OpInfo:
    """An op's schema facts, read once: table row, arguments (name, kwarg-only, default), the
    arguments it writes, whether it returns a view, and whether its outputs may be remembered."""

    namespace: str
    packet: str
    overload: str
    name: str
    row: Row | None
    params: tuple[tuple[str, bool, bool, Any], ...] | None
    writes: tuple[str, ...]
    view: bool
    fresh_outputs: bool
    restrides: bool


_INFOS: dict[Any, OpInfo] = {}
_RESTRIDE = frozenset({"resize_", "resize_as_", "set_", "_resize_output_", "resize_as_sparse_", "sparse_resize_",
                       "sparse_resize_and_clear_"})


def op_info(func: Any) -> OpInfo:
    """The :class:`OpInfo` of ``func`` (an ``OpOverload``; anything else is described each time)."""
    try:
        return _INFOS[func]
    except KeyError:
        pass
    except TypeError:  # unhashable
        return _describe(func)
    info = _describe(func)
    if isinstance(func, OpOverload):
        _INFOS[func] = info
    return info


def _describe(func: Any) -> OpInfo:
    namespace = getattr(func, "namespace", "aten")
    packet = func.overloadpacket.__name__ if hasattr(func, "overloadpacket") else str(func)
    schema = getattr(func, "_schema", None)
    params: tuple[tuple[str, bool, bool, Any], ...] | None = None
    writes: tuple[str, ...] = ()
    view = False
    fresh = False
    restrides = packet in _RESTRIDE
    if schema is not None:
        params = tuple((a.name, bool(a.kwarg_only), bool(a.has_default_value()),
                        a.default_value if a.has_default_value() else None) for a in schema.arguments)
        writes = tuple(a.name for a in schema.arguments if a.alias_info is not None and a.alias_info.is_write)
        view = any(r.alias_info is not None and not r.alias_info.is_write for r in schema.returns)
        fresh = (isinstance(func, OpOverload) and namespace == "aten" and bool(schema.returns)
                 and all(a.alias_info is None for a in schema.arguments)
                 and all(r.alias_info is None and _tensor_type(r.type) for r in schema.returns)
                 and not any(t in func.tags for t in (torch.Tag.dynamic_output_shape, torch.Tag.data_dependent_output,
                                                       torch.Tag.inplace_view)))
        restrides = restrides or torch.Tag.inplace_view in getattr(func, "tags", ())
    return OpInfo(namespace, packet, getattr(func, "_overloadname", "default"), str(func), row_for(namespace, packet),
                  params, writes, view, fresh, restrides)


def _tensor_type(t: Any) -> bool:
    """Whether a schema return type is ``Tensor``, ``Tensor?`` or ``Tensor[]``."""
    if isinstance(t, torch.TensorType):
        return True
    if isinstance(t, (torch.OptionalType, torch.ListType)):
        return isinstance(t.getElementType(), torch.TensorType)
    return False


def bind(info: OpInfo, args: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments by schema name, defaults filled in."""
    if info.params is None:
        out = {f"arg{i}": a for i, a in enumerate(args)}
        out.update(kwargs)
        return out
    bound: dict[str, Any] = {}
    pos = 0
    n = len(args)
    for name, kwarg_only, has_default, default in info.params:
        if not kwarg_only and pos < n:
            bound[name] = args[pos]
            pos += 1
        elif name in kwargs:
            bound[name] = kwargs[name]
        else:
            bound[name] = default if has_default else None
    return bound


# ---- meta runs -----------------------------------------------------------------------------------

class _NoKey(Exception):
    pass


_Spec = tuple[tuple[int, ...], tuple[int, ...], torch.dtype] | None
_Entry = tuple[type, tuple[_Spec, ...]] | None  # None: this call's outputs are not remembered
MetaCache = dict[Hashable, _Entry]


def _key(v: Any) -> Hashable:
    """``v``'s part of a call's key; raises LeaveMeta for a tensor off the meta device, _NoKey for
    an argument the key cannot describe."""
    if isinstance(v, torch.Tensor):
        if type(v) not in _PLAIN or v.device.type != "meta":
            raise LeaveMeta
        if v.layout is not torch.strided:
            raise _NoKey
        if v.dtype.is_complex:
            return (v.shape, v.stride(), v.storage_offset(), v.dtype, v.is_conj(), v.is_neg())
        return (v.shape, v.stride(), v.storage_offset(), v.dtype)
    t = type(v)
    if t is float:
        return (float, v.hex())
    if t in _SCALARS:
        return (t, v)
    if t is list or t is tuple:
        return (t, *[_key(x) for x in v])
    raise _NoKey


def _check(v: Any) -> bool:
    """Whether ``v`` holds a tensor; raises LeaveMeta for one off the meta device or of a subclass."""
    if isinstance(v, torch.Tensor):
        if type(v) not in _PLAIN or v.device.type != "meta":
            raise LeaveMeta
        return True
    if isinstance(v, (list, tuple)):
        return any([_check(x) for x in v])
    if isinstance(v, dict):
        return any([_check(x) for x in v.values()])
    return False


def meta_call(cache: MetaCache, info: OpInfo, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    """``func(*args, **kwargs)`` on meta tensors, its outputs' layout remembered in ``cache`` (see the
    module docstring)."""
    if info.restrides:
        raise LeaveMeta
    key: Hashable = None
    if info.fresh_outputs:
        try:
            key = (func, torch.get_default_dtype(), *[_key(a) for a in args],
                   *[(k, _key(v)) for k, v in kwargs.items()])
        except _NoKey:
            key = None
        if key is not None and key in cache:
            entry = cache[key]
            if entry is not None:
                return _make(entry)
            key = None
    if key is None:  # the key has not checked the arguments' devices
        _check(args)
        _check(kwargs)
    if "device" in kwargs:
        device = kwargs["device"]
        if device is None:
            if not (_check(args) | _check(kwargs)):
                raise LeaveMeta  # a factory op making a CPU tensor
        elif torch.device(device).type != "meta":
            raise LeaveMeta  # a tensor made off the meta device
    try:
        out = func(*args, **kwargs)
    except Exception as exc:
        raise LeaveMeta from exc
    entry = _entry(out, args, kwargs)
    if key is not None:
        cache[key] = entry
    return out


def _entry(out: Any, args: Any, kwargs: dict[str, Any]) -> _Entry:
    """How to remake ``out`` (None: not remade); raises LeaveMeta when it holds a tensor off the
    meta device."""
    seq = type(out)
    items = out if seq is tuple or seq is list else (out,)
    specs: list[_Spec] = []
    ok = seq is tuple or seq is list or isinstance(out, torch.Tensor)
    for t in items:
        if t is None:
            specs.append(None)
            continue
        if not isinstance(t, torch.Tensor):
            _check(t)  # a tensor nested deeper is not remade, but must be on the meta device too
            ok = False
            continue
        if t.device.type != "meta":
            raise LeaveMeta
        if (type(t) is not torch.Tensor or t.layout is not torch.strided or t.storage_offset() != 0
                or t.is_conj() or t.is_neg()):
            ok = False
            continue
        specs.append((tuple(t.shape), tuple(t.stride()), t.dtype))
    if not ok or _aliases(items, args, kwargs):
        return None
    return (torch.Tensor if seq is not tuple and seq is not list else seq, tuple(specs))


def _aliases(outs: Any, args: Any, kwargs: dict[str, Any]) -> bool:
    ins = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
    for a in (*args, *kwargs.values()):
        if isinstance(a, (list, tuple)):
            ins.extend(x for x in a if isinstance(x, torch.Tensor))
    return any(o is i for o in outs for i in ins)


def _make(entry: tuple[type, tuple[_Spec, ...]]) -> Any:
    kind, specs = entry
    outs = [None if s is None else torch.empty_strided(s[0], s[1], dtype=s[2], device=_META) for s in specs]
    if kind is torch.Tensor:
        return outs[0]
    return kind(outs)
