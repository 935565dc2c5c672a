"""aten -> ONNX rows: data movement (views, copies, concatenation, indexing, padding, factories)
and the metadata queries that compute no tensor."""

from __future__ import annotations

import math
from typing import Any

from edgeprof.frontends.pytorch._graph import AtenCall, Builder, TranslateError, TRef
from edgeprof.frontends.pytorch._rows import (
    BOOL,
    I64,
    Put,
    Row,
    data,
    first_tensor,
    ignore,
    norm_axis,
    same_meta,
)
from edgeprof.ir import TensorConst
from edgeprof.ir.shape import Shape

# ---- data movement ----------------------------------------------------------------------


def _reshape(c: AtenCall, b: Builder) -> None:
    b.node("Reshape", [b.use(first_tensor(c)), b.const_ints(c.out().dims())], c.outs[:1])


def _is_2d_weight(b: Builder, x: TRef) -> bool:
    return x.rank == 2 and b.is_weight(x)


def _transpose(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    rank = x.rank
    if c.packet == "t":
        perm = tuple(reversed(range(rank)))
    elif c.packet in ("transpose", "transpose_"):
        d0, d1 = norm_axis(int(c.args["dim0"]), rank), norm_axis(int(c.args["dim1"]), rank)
        p = list(range(rank))
        p[d0], p[d1] = p[d1], p[d0]
        perm = tuple(p)
    else:
        perm = tuple(norm_axis(int(d), rank) for d in c.args["dims"])
    if rank < 2 or perm == tuple(range(rank)):
        b.node("Identity", [b.use(x)], c.outs[:1])
        return
    if _is_2d_weight(b, x) and not c.inplace:
        b.defer_transpose(x, c.out())
        return
    b.node("Transpose", [b.use(x)], c.outs[:1], perm=perm)


def _expand(c: AtenCall, b: Builder) -> None:
    b.node("Expand", [b.use(first_tensor(c)), b.const_ints(c.out().dims())], c.outs[:1])


def _squeeze(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    d = c.args.get("dim")
    if d is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    elif isinstance(d, int):
        axes = (norm_axis(d, x.rank),)
    else:
        axes = tuple(norm_axis(int(v), x.rank) for v in d)
    axes = tuple(a for a in axes if x.shape[a] == 1)
    if not axes:
        b.node("Identity", [b.use(x)], c.outs[:1])
        return
    b.node("Squeeze", [b.use(x), b.const_ints(axes)], c.outs[:1])


def _unsqueeze(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    axis = norm_axis(int(c.args["dim"]), x.rank + 1)
    b.node("Unsqueeze", [b.use(x), b.const_ints([axis])], c.outs[:1])


def _cat(c: AtenCall, b: Builder) -> None:
    tensors = [t for t in c.args["tensors"] if isinstance(t, TRef)]
    rank = c.out().rank
    b.node("Concat", [b.use(t) for t in tensors], c.outs[:1], axis=norm_axis(int(c.args.get("dim", 0)), rank))


def _stack(c: AtenCall, b: Builder) -> None:
    tensors = [t for t in c.args["tensors"] if isinstance(t, TRef)]
    axis = norm_axis(int(c.args.get("dim", 0)), c.out().rank)
    parts = []
    for t in tensors:
        shape = list(t.shape)
        shape.insert(axis, 1)
        u = b.tmp(shape, t.dtype)
        b.node("Unsqueeze", [b.use(t), b.const_ints([axis])], [u])
        parts.append(u.name)
    b.node("Concat", parts, c.outs[:1], axis=axis)


def _slice(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    dim = norm_axis(int(c.args.get("dim", 0)), x.rank)
    start = c.args.get("start")
    end = c.args.get("end")
    step = int(c.args.get("step", 1))
    size = x.shape[dim]
    start_i = 0 if start is None else int(start)
    end_i = (size if isinstance(size, int) else 2**63 - 1) if end is None else int(end)
    if same_meta(x, c.out()) and start_i == 0 and step == 1:
        b.node("Identity", [b.use(x)], c.outs[:1])
        return
    ins = [b.use(x), b.const_ints([start_i]), b.const_ints([end_i]), b.const_ints([dim]), b.const_ints([step])]
    b.node("Slice", ins, c.outs[:1])


def _select(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    dim = norm_axis(int(c.args["dim"]), x.rank)
    b.node("Gather", [b.use(x), b.const(int(c.args["index"]), I64)], c.outs[:1], axis=dim)


def _index(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    idx = list(c.args["indices"])
    present = [(i, t) for i, t in enumerate(idx) if isinstance(t, TRef)]
    if len(present) == 1:
        axis, t = present[0]
        b.node("Gather", [b.use(x), b.use(t)], c.outs[:1], axis=axis)
        return
    b.node("GatherND", [b.use(x)] + [b.use(t) for _, t in present], c.outs[:1],
           axes=tuple(i for i, _ in present))


def _index_select(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    b.node("Gather", [b.use(x), b.use(c.tensor("index"))], c.outs[:1], axis=norm_axis(int(c.args["dim"]), x.rank))


def _gather(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    b.node("GatherElements", [b.use(x), b.use(c.tensor("index"))], c.outs[:1],
           axis=norm_axis(int(c.args["dim"]), x.rank))


def _embedding(c: AtenCall, b: Builder) -> None:
    b.node("Gather", [b.use(c.tensor("weight")), b.use(c.tensor("indices"))], c.outs[:1], axis=0)


def _split(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axis = norm_axis(int(c.args.get("dim", 0)), x.rank)
    sizes = [int(o.shape[axis]) for o in c.outs]
    b.node("Split", [b.use(x), b.const_ints(sizes)], c.outs, axis=axis)


def _unbind(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axis = norm_axis(int(c.args.get("dim", 0)), x.rank)
    parts = []
    for o in c.outs:
        shape = list(o.shape)
        shape.insert(axis, 1)
        parts.append(b.tmp(shape, o.dtype))
    b.node("Split", [b.use(x), b.const_ints([1] * len(parts))], parts, axis=axis)
    for p, o in zip(parts, c.outs, strict=True):
        b.node("Squeeze", [p.name, b.const_ints([axis])], [o])


def _to_copy(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    out = c.out()
    if out.dtype != x.dtype:
        b.node("Cast", [b.use(x)], c.outs[:1], to=out.dtype.name)
    else:
        b.node("Identity", [b.use(x)], c.outs[:1])


def _copy(c: AtenCall, b: Builder) -> None:
    dst, src = c.tensor("self"), c.args.get("src")
    out = c.out()
    src_name = b.operand(src, dst)
    src_ref = src if isinstance(src, TRef) else None
    if src_ref is not None and src_ref.dtype != out.dtype:
        if src_ref.shape != out.shape:
            mid = b.tmp(src_ref.shape, out.dtype)
            b.node("Cast", [src_name], [mid], to=out.dtype.name)
            b.node("Expand", [mid.name, b.const_ints(out.dims())], c.outs[:1])
        else:
            b.node("Cast", [src_name], c.outs[:1], to=out.dtype.name)
    elif src_ref is not None and src_ref.shape != out.shape:
        b.node("Expand", [src_name, b.const_ints(out.dims())], c.outs[:1])
    else:
        b.node("Identity", [src_name], c.outs[:1])


def _identity(c: AtenCall, b: Builder) -> None:
    b.node("Identity", [b.use(first_tensor(c))], c.outs[:1])


def _fill_like(c: AtenCall, b: Builder) -> None:
    out = c.out()
    value: float | int = 0
    for key in ("fill_value", "value", "s"):
        v = c.args.get(key)
        if isinstance(v, (int, float, bool)):
            value = v
    if c.packet in ("ones", "ones_like", "new_ones"):
        value = 1
    const = TensorConst(out.dtype, Shape((1,)), (value,))
    b.node("ConstantOfShape", [b.const_ints(out.dims())], c.outs[:1], value=const)


def _fill_tensor(c: AtenCall, b: Builder) -> None:
    out = c.out()
    b.node("Expand", [b.use(c.tensor("value")), b.const_ints(out.dims())], c.outs[:1])


def _arange(c: AtenCall, b: Builder) -> None:
    out = c.out()
    start = c.args.get("start", 0)
    end = c.args["end"]
    step = c.args.get("step", 1)
    like = TRef("", (), out.dtype)
    b.node("Range", [b.operand(start, like), b.operand(end, like), b.operand(step, like)], c.outs[:1])


def _random(op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        out = c.out()
        if op.endswith("Like"):
            b.node(op, [b.use(first_tensor(c))], c.outs[:1], dtype=out.dtype.name)
        else:
            b.node(op, [], c.outs[:1], shape=tuple(out.dims()), dtype=out.dtype.name)

    return Row((op,), build)


def _bernoulli(c: AtenCall, b: Builder) -> None:
    b.node("Bernoulli", [b.use(first_tensor(c))], c.outs[:1])


def _pad(mode: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        pad = list(c.ints("pad") or c.ints("padding"))
        begins = [0] * x.rank
        ends = [0] * x.rank
        for i in range(len(pad) // 2):
            d = x.rank - 1 - i
            begins[d], ends[d] = pad[2 * i], pad[2 * i + 1]
        ins = [b.use(x), b.const_ints(begins + ends)]
        if mode == "constant":
            ins.append(b.operand(float(c.args.get("value", 0) or 0), x))
        b.node("Pad", ins, c.outs[:1], mode=mode)

    return Row(("Pad",), build)


def _tile(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    reps = list(c.ints("repeats"))
    src = b.use(x)
    if len(reps) > x.rank:
        shape = (1,) * (len(reps) - x.rank) + tuple(x.shape)
        mid = b.tmp(shape, x.dtype)
        b.node("Reshape", [src, b.const_ints(shape)], [mid])  # type: ignore[arg-type]
        src = mid.name
    b.node("Tile", [src, b.const_ints(reps)], c.outs[:1])


def _trilu(c: AtenCall, b: Builder) -> None:
    b.node("Trilu", [b.use(c.tensor("self")), b.const(int(c.args.get("diagonal", 0)), I64)], c.outs[:1],
           upper=int(c.packet.startswith("triu")))


def _flip(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axes = [norm_axis(int(d), x.rank) for d in c.args["dims"]]
    n = len(axes)
    big = -(2**63) + 1
    ins = [b.use(x), b.const_ints([-1] * n), b.const_ints([big] * n), b.const_ints(axes), b.const_ints([-1] * n)]
    b.node("Slice", ins, c.outs[:1])


def _roll(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    shifts = list(c.ints("shifts"))
    dims = list(c.ints("dims"))
    src = b.use(x)
    cur_shape = x.shape
    if not dims:  # roll over the flattened tensor
        flat = b.tmp((math.prod(x.dims()),), x.dtype)
        b.node("Reshape", [src, b.const_ints([-1])], [flat])
        src, cur_shape, dims = flat.name, flat.shape, [0]
    for i, (shift, dim) in enumerate(zip(shifts, dims, strict=False)):
        axis = norm_axis(dim, len(cur_shape))
        size = int(cur_shape[axis])
        k = shift % size if size else 0
        tail_shape = list(cur_shape)
        tail_shape[axis] = k
        head_shape = list(cur_shape)
        head_shape[axis] = size - k
        tail, head = b.tmp(tail_shape, x.dtype), b.tmp(head_shape, x.dtype)
        b.node("Slice", [src, b.const_ints([size - k]), b.const_ints([size]), b.const_ints([axis])], [tail])
        b.node("Slice", [src, b.const_ints([0]), b.const_ints([size - k]), b.const_ints([axis])], [head])
        last = i == len(dims) - 1 and len(cur_shape) == x.rank
        out = c.outs[0] if last else b.tmp(cur_shape, x.dtype)
        b.node("Concat", [tail.name, head.name], [out], axis=axis)
        src = out.name
    if len(cur_shape) != x.rank:
        b.node("Reshape", [src, b.const_ints(c.out().dims())], c.outs[:1])


def _pixel_shuffle(op: str, key: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        attrs: dict[str, Any] = {"blocksize": int(c.args[key])}
        if op == "DepthToSpace":
            attrs["mode"] = "CRD"
        b.node(op, [b.use(c.tensor("self"))], c.outs[:1], **attrs)

    return Row((op,), build)


def _channel_shuffle(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    groups = int(c.args["groups"])
    dims = x.dims()
    n, ch = dims[0], dims[1]
    rest = dims[2:]
    grouped = (n, groups, ch // groups, *rest)
    g = b.tmp(grouped, x.dtype)
    b.node("Reshape", [b.use(x), b.const_ints(grouped)], [g])
    swapped = (n, ch // groups, groups, *rest)
    s = b.tmp(swapped, x.dtype)
    b.node("Transpose", [g.name], [s], perm=(0, 2, 1, *range(3, len(grouped))))
    b.node("Reshape", [s.name, b.const_ints(dims)], c.outs[:1])


def _index_put(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    idx = [t for t in c.args["indices"] if isinstance(t, TRef)]
    ins = [b.use(x)] + [b.use(t) for t in idx] + [b.operand(c.args.get("values"), x)]
    b.node("ScatterND", ins, c.outs[:1], reduction="add" if c.args.get("accumulate") else "none")


def _scatter(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    src = c.args.get("src", c.args.get("value"))
    reduction = "none"
    if c.packet == "scatter_add":
        reduction = "add"
    elif c.packet == "scatter_reduce":
        reduction = {"sum": "add", "prod": "mul", "amax": "max", "amin": "min"}.get(str(c.args.get("reduce")), "none")
        if reduction == "none":
            raise TranslateError(f"scatter_reduce with reduce={c.args.get('reduce')!r} has no ONNX form")
    ins = [b.use(x), b.use(c.tensor("index")), b.operand(src, x)]
    b.node("ScatterElements", ins, c.outs[:1], axis=norm_axis(int(c.args["dim"]), x.rank), reduction=reduction)


def _slice_scatter(c: AtenCall, b: Builder) -> None:
    x, src = c.tensor("self"), c.tensor("src")
    b.node("ScatterND", [b.use(x), b.use(src)], c.outs[:1])


def _dropout(c: AtenCall, b: Builder) -> None:
    x = c.tensor("input")
    p = float(c.args.get("p", 0.5))
    train = bool(c.args.get("train", True))
    ins = [b.use(x), b.const(p, x.dtype), b.const(train, BOOL)]
    b.node("Dropout", ins, c.outs)


def _nonzero(c: AtenCall, b: Builder) -> None:
    b.node("NonZero", [b.use(c.tensor("self"))], c.outs[:1])


def register(put: Put) -> None:
    """Add this family's rows to the table."""
    # metadata queries: no tensor is computed
    put("prim.device prim.layout prim.dtype sym_size sym_stride sym_numel sym_storage_offset is_contiguous "
        "is_same_size is_nonzero equal _assert_async _assert_tensor_metadata _functional_assert_async "
        "_assert_scalar _has_compatible_shallow_copy_type record_stream",
        ignore("metadata query or assertion: computes no tensor"))
    put("profiler._record_function_enter profiler._record_function_enter_new profiler._record_function_exit",
        ignore("profiler marker (record_function, nn.DataParallel): no arithmetic, no tensor"))
    put("_local_scalar_dense", ignore("reads one tensor element into Python: no tensor computed"))
    # data movement
    put("view _unsafe_view reshape _reshape_alias view_as flatten unflatten _reshape_copy view_copy",
        data("Reshape", _reshape))
    put("t transpose transpose_ permute t_", Row(("Transpose", "Identity"), _transpose))
    put("expand expand_copy", data("Expand", _expand))
    put("squeeze squeeze_", Row(("Squeeze", "Identity"), _squeeze))
    put("unsqueeze unsqueeze_", data("Unsqueeze", _unsqueeze))
    put("cat concat concatenate", data("Concat", _cat))
    put("stack", Row(("Unsqueeze", "Concat"), _stack))
    put("slice", Row(("Slice", "Identity"), _slice))
    put("select", data("Gather", _select))
    put("index _unsafe_index", Row(("Gather", "GatherND"), _index))
    put("index_select", data("Gather", _index_select))
    put("gather", data("GatherElements", _gather))
    put("embedding", data("Gather", _embedding))
    put("split split_with_sizes unsafe_split unsafe_split_with_sizes tensor_split", data("Split", _split))
    put("unbind", Row(("Split", "Squeeze"), _unbind))
    put("_to_copy", Row(("Cast", "Identity"), _to_copy))
    put("copy copy_", Row(("Cast", "Expand", "Identity"), _copy))
    put("clone detach alias lift_fresh lift_fresh_copy contiguous _conj resolve_conj resolve_neg "
        "positive dropout feature_dropout alpha_dropout _to_dense", data("Identity", _identity))
    put("zeros ones full empty empty_strided zeros_like ones_like full_like empty_like new_zeros new_ones "
        "new_full new_empty new_empty_strided scalar_tensor fill fill_ zero zero_",
        Row(("ConstantOfShape", "Expand"),
            lambda c, b: _fill_tensor(c, b) if isinstance(c.args.get("value"), TRef) else _fill_like(c, b)))
    put("arange", data("Range", _arange))
    put("rand", _random("RandomUniform"))
    put("randn", _random("RandomNormal"))
    put("rand_like", _random("RandomUniformLike"))
    put("randn_like", _random("RandomNormalLike"))
    put("bernoulli bernoulli_", Row(("Bernoulli",), _bernoulli))
    put("constant_pad_nd", _pad("constant"))
    put("reflection_pad1d reflection_pad2d reflection_pad3d", _pad("reflect"))
    put("replication_pad1d replication_pad2d replication_pad3d", _pad("edge"))
    put("repeat", data("Tile", _tile))
    put("tril tril_ triu triu_", data("Trilu", _trilu))
    put("flip", data("Slice", _flip))
    put("roll", Row(("Reshape", "Slice", "Concat"), _roll))
    put("pixel_shuffle", _pixel_shuffle("DepthToSpace", "upscale_factor"))
    put("pixel_unshuffle", _pixel_shuffle("SpaceToDepth", "downscale_factor"))
    put("native_channel_shuffle channel_shuffle", Row(("Reshape", "Transpose"), _channel_shuffle))
    put("index_put index_put_ _index_put_impl_", data("ScatterND", _index_put))
    put("scatter scatter_ scatter_add scatter_add_ scatter_reduce scatter_reduce_",
        data("ScatterElements", _scatter))
    put("slice_scatter select_scatter", data("ScatterND", _slice_scatter))
    put("native_dropout", Row(("Dropout",), _dropout))
    put("nonzero", Row(("NonZero",), _nonzero))
