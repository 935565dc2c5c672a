"""aten -> ONNX rows: elementwise arithmetic, comparisons, activations, linear algebra and reductions."""

from __future__ import annotations

import math
from typing import Any

from edgeprof.frontends.pytorch._graph import AtenCall, Builder, TranslateError, TRef
from edgeprof.frontends.pytorch._rows import (
    BOOL,
    I64,
    Put,
    Row,
    binary,
    first_tensor,
    like_of,
    norm_axis,
    positional,
    scaled_operand,
    two_step,
    unary,
)

# ---- elementwise arithmetic ------------------------------------------------------------


def _add_sub(op: str, reverse: bool = False) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x, y = positional(c, 0), positional(c, 1)
        like = like_of(x, y)
        alpha = c.args.get("alpha", 1)
        if reverse:  # rsub(self, other, alpha) = other - alpha * self
            b.node(op, [b.operand(y, like), scaled_operand(c, b, x, like, alpha)], c.outs[:1])
        else:
            b.node(op, [b.operand(x, like), scaled_operand(c, b, y, like, alpha)], c.outs[:1])

    return Row(("Mul", op), build)


def _div(c: AtenCall, b: Builder) -> None:
    x, y = positional(c, 0), positional(c, 1)
    like = like_of(x, y)
    mode = c.args.get("rounding_mode")
    if mode is None:
        b.node("Div", [b.operand(x, like), b.operand(y, like)], c.outs[:1])
        return
    mid = b.tmp(c.out().shape, c.out().dtype)
    b.node("Div", [b.operand(x, like), b.operand(y, like)], [mid])
    b.node("Floor", [mid.name], c.outs[:1], rounding_mode=str(mode))


def _floor_divide(c: AtenCall, b: Builder) -> None:
    x, y = positional(c, 0), positional(c, 1)
    like = like_of(x, y)
    mid = b.tmp(c.out().shape, c.out().dtype)
    b.node("Div", [b.operand(x, like), b.operand(y, like)], [mid])
    b.node("Floor", [mid.name], c.outs[:1])


def _pow(c: AtenCall, b: Builder) -> None:
    x, y = positional(c, 0), positional(c, 1)
    like = like_of(x, y)
    b.node("Pow", [b.operand(x, like), b.operand(y, like)], c.outs[:1])


def _ne(c: AtenCall, b: Builder) -> None:
    x, y = positional(c, 0), positional(c, 1)
    like = like_of(x, y)
    mid = b.tmp(c.out().shape, BOOL)
    b.node("Equal", [b.operand(x, like), b.operand(y, like)], [mid])
    b.node("Not", [mid.name], c.outs[:1])


def _bitwise(bool_op: str, int_op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        op = bool_op if c.out().dtype.kind == "bool" else int_op
        args = [v for v in list(c.args.values())[:2] if v is not None]
        like = like_of(*args)
        b.node(op, [b.operand(a, like) for a in args], c.outs[:1])

    return Row((bool_op, int_op), build)


def _where(c: AtenCall, b: Builder) -> None:
    cond, x, y = c.args["condition"], c.args["self"], c.args["other"]
    like = like_of(x, y)
    b.node("Where", [b.operand(cond), b.operand(x, like), b.operand(y, like)], c.outs[:1])


def _masked_fill(c: AtenCall, b: Builder) -> None:
    x, mask, value = c.tensor("self"), c.tensor("mask"), c.args["value"]
    b.node("Where", [b.use(mask), b.operand(value, x), b.use(x)], c.outs[:1])


def _clamp(c: AtenCall, b: Builder) -> None:
    x = first_tensor(c)
    lo = c.args.get("min", c.args.get("min_val"))
    hi = c.args.get("max", c.args.get("max_val"))
    if isinstance(lo, TRef) or isinstance(hi, TRef):
        cur = b.use(x)
        steps = [(op, v) for op, v in (("Max", lo), ("Min", hi)) if v is not None]
        for i, (op, v) in enumerate(steps):
            out = c.outs[0] if i == len(steps) - 1 else b.tmp(c.out().shape, c.out().dtype)
            b.node(op, [cur, b.operand(v, x)], [out])
            cur = out.name
        return
    b.node("Clip", [b.use(x), b.operand(lo, x), b.operand(hi, x)], c.outs[:1])


def _hardtanh(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    b.node("Clip", [b.use(x), b.operand(c.args.get("min_val", -1.0), x), b.operand(c.args.get("max_val", 1.0), x)],
           c.outs[:1])


def _addcop(op: str) -> Row:
    """addcmul/addcdiv: self + value * (t1 op t2)."""

    def build(c: AtenCall, b: Builder) -> None:
        x, t1, t2 = c.args["self"], c.tensor("tensor1"), c.tensor("tensor2")
        value = c.args.get("value", 1)
        prod = b.tmp(c.out().shape, c.out().dtype)
        b.node(op, [b.use(t1), b.use(t2)], [prod])
        scaled = scaled_operand(c, b, prod, prod, value) if value != 1 else prod.name
        b.node("Add", [b.operand(x, t1), scaled], c.outs[:1])

    return Row((op, "Mul", "Add"), build)


def _lerp(c: AtenCall, b: Builder) -> None:
    x, end, w = c.tensor("self"), c.tensor("end"), c.args["weight"]
    diff = b.tmp(c.out().shape, c.out().dtype)
    b.node("Sub", [b.use(end), b.use(x)], [diff])
    prod = b.tmp(c.out().shape, c.out().dtype)
    b.node("Mul", [diff.name, b.operand(w, x)], [prod])
    b.node("Add", [b.use(x), prod.name], c.outs[:1])


# ---- activations -----------------------------------------------------------------------


def _gelu(c: AtenCall, b: Builder) -> None:
    b.node("Gelu", [b.use(c.tensor("self"))], c.outs[:1], approximate=str(c.args.get("approximate") or "none"))


def _leaky_relu(c: AtenCall, b: Builder) -> None:
    b.node("LeakyRelu", [b.use(c.tensor("self"))], c.outs[:1], alpha=float(c.args.get("negative_slope", 0.01)))


def _elu(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    alpha = float(c.args.get("alpha", 1.0))
    scale = float(c.args.get("scale", 1.0))
    input_scale = float(c.args.get("input_scale", 1.0))
    selu_alpha, selu_gamma = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    if input_scale == 1.0 and scale == 1.0:
        b.node("Elu", [b.use(x)], c.outs[:1], alpha=alpha)
    elif input_scale == 1.0 and math.isclose(alpha, selu_alpha) and math.isclose(scale, selu_gamma):
        b.node("Selu", [b.use(x)], c.outs[:1], alpha=alpha, gamma=scale)
    elif scale == 1.0 and alpha != 0 and math.isclose(input_scale, 1.0 / alpha):
        b.node("Celu", [b.use(x)], c.outs[:1], alpha=alpha)
    else:
        raise TranslateError(f"elu with alpha={alpha}, scale={scale}, input_scale={input_scale} has no ONNX form")


def _softplus(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    beta = c.args.get("beta", 1)
    if beta == 1:
        b.node("Softplus", [b.use(x)], c.outs[:1])
        return
    scaled = b.tmp(x.shape, x.dtype)
    b.node("Mul", [b.use(x), b.operand(beta, x)], [scaled])
    sp = b.tmp(x.shape, x.dtype)
    b.node("Softplus", [scaled.name], [sp])
    b.node("Div", [sp.name, b.operand(beta, x)], c.outs[:1])


def _log_sigmoid(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    sig = b.tmp(x.shape, x.dtype)
    b.node("Sigmoid", [b.use(x)], [sig])
    b.node("Log", [sig.name], c.outs)


def _glu(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axis = norm_axis(int(c.args.get("dim", -1)), x.rank)
    half = list(x.shape)
    half[axis] = c.out().shape[axis]
    a, g = b.tmp(half, x.dtype), b.tmp(half, x.dtype)
    b.node("Split", [b.use(x)], [a, g], axis=axis, num_outputs=2)
    sig = b.tmp(half, x.dtype)
    b.node("Sigmoid", [g.name], [sig])
    b.node("Mul", [a.name, sig.name], c.outs[:1])


def _threshold(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    cond = b.tmp(x.shape, BOOL)
    b.node("Greater", [b.use(x), b.operand(c.args["threshold"], x)], [cond])
    b.node("Where", [cond.name, b.use(x), b.operand(c.args["value"], x)], c.outs[:1])


def _shrink(c: AtenCall, b: Builder) -> None:
    lambd = float(c.args.get("lambd", 0.5))
    bias = lambd if c.packet == "softshrink" else 0.0
    b.node("Shrink", [b.use(c.tensor("self"))], c.outs[:1], lambd=lambd, bias=bias)


def _softmax(op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        b.node(op, [b.use(x)], c.outs[:1], axis=norm_axis(int(c.args["dim"]), x.rank))

    return Row((op,), build)


def _prelu(c: AtenCall, b: Builder) -> None:
    b.node("PRelu", [b.use(c.tensor("self")), b.use(c.tensor("weight"))], c.outs[:1])


# ---- linear algebra --------------------------------------------------------------------


def _gemm_or_matmul(c: AtenCall, b: Builder, a: TRef, m2: TRef, bias: Any, alpha: Any, beta: Any,
                    out: TRef) -> None:
    w = b.transposed_weight(m2)
    alpha_attr = None if alpha in (None, 1) else float(alpha)
    beta_attr = None if beta in (None, 1) else float(beta)
    if bias is not None and beta == 0:
        bias = None  # torch ignores self when beta == 0
    c_in = b.operand(bias, a) if bias is not None else ""
    if w is not None:
        ins = [b.use(a), w] + ([c_in] if c_in else [])
        b.node("Gemm", ins, [out], transB=1, alpha=alpha_attr, beta=beta_attr if c_in else None)
    elif bias is None and alpha_attr is None:
        b.node("MatMul", [b.use(a), b.use(m2)], [out])
    else:
        ins = [b.use(a), b.use(m2)] + ([c_in] if c_in else [])
        b.node("Gemm", ins, [out], alpha=alpha_attr, beta=beta_attr if c_in else None)


def _addmm(c: AtenCall, b: Builder) -> None:
    _gemm_or_matmul(c, b, c.tensor("mat1"), c.tensor("mat2"), c.args.get("self"), c.args.get("alpha", 1),
                    c.args.get("beta", 1), c.out())


def _mm(c: AtenCall, b: Builder) -> None:
    _gemm_or_matmul(c, b, c.tensor("self"), c.tensor("mat2"), None, 1, 1, c.out())


def _matmul_row(names: tuple[str, str]) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        b.node("MatMul", [b.use(c.tensor(names[0])), b.use(c.tensor(names[1]))], c.outs[:1])

    return Row(("MatMul",), build)


def _scaled_mm(c: AtenCall, b: Builder) -> None:
    """``torch._scaled_mm`` (fp8 and other low-precision matmuls): a MatMul at the operands'
    precision (m·k·n MACs), then the output times scale_a and scale_b (+ bias, · scale_result)."""
    out = c.out()
    steps: list[tuple[str, TRef]] = [("Mul", c.tensor("scale_a")), ("Mul", c.tensor("scale_b"))]
    bias, scale_result = c.opt_tensor("bias"), c.opt_tensor("scale_result")
    if bias is not None:
        steps.append(("Add", bias))
    if scale_result is not None:
        steps.append(("Mul", scale_result))
    acc = b.tmp(out.shape, out.dtype)
    b.node("MatMul", [b.use(c.tensor("self")), b.use(c.tensor("mat2"))], [acc])
    for i, (op, operand) in enumerate(steps):
        nxt = out if i == len(steps) - 1 else b.tmp(out.shape, out.dtype)
        b.node(op, [acc.name, b.use(operand)], [nxt])
        acc = nxt


def _addmm_activation(c: AtenCall, b: Builder) -> None:
    mid = b.tmp(c.out().shape, c.out().dtype)
    _gemm_or_matmul(c, b, c.tensor("mat1"), c.tensor("mat2"), c.args.get("self"), c.args.get("alpha", 1),
                    c.args.get("beta", 1), mid)
    if c.args.get("use_gelu"):
        b.node("Gelu", [mid.name], c.outs[:1], approximate="tanh")
    else:
        b.node("Relu", [mid.name], c.outs[:1])


def _baddbmm(c: AtenCall, b: Builder) -> None:
    """beta * self + alpha * (batch1 @ batch2)"""
    b1, b2 = c.tensor("batch1"), c.tensor("batch2")
    alpha, beta = c.args.get("alpha", 1), c.args.get("beta", 1)
    x = c.args.get("self")
    out = c.out()
    prod_shape = out.shape if c.packet == "baddbmm" else (b1.shape[0], *out.shape)
    prod = b.tmp(prod_shape, out.dtype)
    b.node("MatMul", [b.use(b1), b.use(b2)], [prod])
    cur = prod.name
    if c.packet == "addbmm":
        summed = b.tmp(out.shape, out.dtype)
        b.node("ReduceSum", [cur, b.const_ints([0])], [summed], keepdims=0)
        cur = summed.name
    if alpha != 1:
        scaled = b.tmp(out.shape, out.dtype)
        b.node("Mul", [cur, b.operand(alpha, out)], [scaled])
        cur = scaled.name
    if beta == 0 or x is None:
        b.node("Identity", [cur], c.outs[:1])
        return
    b.node("Add", [cur, scaled_operand(c, b, x, out, beta)], c.outs[:1])


def _addmv(c: AtenCall, b: Builder) -> None:
    out = c.out()
    prod = b.tmp(out.shape, out.dtype)
    b.node("MatMul", [b.use(c.tensor("mat")), b.use(c.tensor("vec"))], [prod])
    alpha, beta = c.args.get("alpha", 1), c.args.get("beta", 1)
    cur = prod.name
    if alpha != 1:
        scaled = b.tmp(out.shape, out.dtype)
        b.node("Mul", [cur, b.operand(alpha, out)], [scaled])
        cur = scaled.name
    if beta == 0:
        b.node("Identity", [cur], c.outs[:1])
        return
    b.node("Add", [cur, scaled_operand(c, b, c.args["self"], out, beta)], c.outs[:1])


def _linear(c: AtenCall, b: Builder) -> None:
    x, w, bias = c.tensor("input"), c.tensor("weight"), c.opt_tensor("bias")
    if x.rank == 2:
        b.node("Gemm", [b.use(x), b.use(w)] + ([b.use(bias)] if bias else []), c.outs[:1], transB=1)
        return
    wt = b.tmp((w.shape[1], w.shape[0]), w.dtype)
    b.node("Transpose", [b.use(w)], [wt], perm=(1, 0))
    if bias is None:
        b.node("MatMul", [b.use(x), wt.name], c.outs[:1])
        return
    mid = b.tmp(c.out().shape, c.out().dtype)
    b.node("MatMul", [b.use(x), wt.name], [mid])
    b.node("Add", [mid.name, b.use(bias)], c.outs[:1])


def _einsum(c: AtenCall, b: Builder) -> None:
    tensors = [t for t in c.args["tensors"] if isinstance(t, TRef)]
    b.node("Einsum", [b.use(t) for t in tensors], c.outs[:1], equation=str(c.args["equation"]))


# ---- reductions ---------------------------------------------------------------------------


def _dims_arg(c: AtenCall, x: TRef) -> tuple[int, ...]:
    d = c.args.get("dim")
    if d is None or d == [] or d == ():
        return tuple(range(x.rank))
    if isinstance(d, int):
        return (norm_axis(d, x.rank),)
    return tuple(norm_axis(int(v), x.rank) for v in d)


def _reduce(op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        axes = _dims_arg(c, x)
        keep = int(bool(c.args.get("keepdim", False)))
        b.node(op, [b.use(x), b.const_ints(axes)], c.outs[:1], keepdims=keep)

    return Row((op,), build)


def _arg_reduce(op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        d = c.args.get("dim")
        keep = int(bool(c.args.get("keepdim", False)))
        if d is None:
            flat = b.tmp((math.prod(x.dims()),), x.dtype)
            b.node("Reshape", [b.use(x), b.const_ints([-1])], [flat])
            b.node(op, [flat.name], c.outs[:1], axis=0, keepdims=0)
            return
        b.node(op, [b.use(x)], c.outs[:1], axis=norm_axis(int(d), x.rank), keepdims=keep)

    return Row((op,), build)


def _max_min_dim(arg_op: str, reduce_op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        if "dim" not in c.args:  # max.default: the max of all elements
            b.node(reduce_op, [b.use(x), b.const_ints(range(x.rank))], c.outs[:1], keepdims=0)
            return
        if isinstance(c.args.get("other"), TRef):
            raise TranslateError("max/min with two tensors is maximum/minimum")
        axis = norm_axis(int(c.args["dim"]), x.rank)
        keep = int(bool(c.args.get("keepdim", False)))
        values, indices = c.outs[0], c.outs[1]
        idx_keep = b.tmp(tuple(1 if i == axis else d for i, d in enumerate(x.shape)), I64)
        b.node(arg_op, [b.use(x)], [idx_keep], axis=axis, keepdims=1)
        gathered = b.tmp(idx_keep.shape, x.dtype) if not keep else values
        b.node("GatherElements", [b.use(x), idx_keep.name], [gathered], axis=axis)
        if keep:
            b.node("Identity", [idx_keep.name], [indices])
        else:
            b.node("Squeeze", [gathered.name, b.const_ints([axis])], [values])
            b.node("Squeeze", [idx_keep.name, b.const_ints([axis])], [indices])

    return Row((arg_op, "GatherElements", "Squeeze", reduce_op), build)


def _max_min_binary_or_reduce(arg_op: str, reduce_op: str, binary_op: str) -> Row:
    inner = _max_min_dim(arg_op, reduce_op)

    def build(c: AtenCall, b: Builder) -> None:
        if isinstance(c.args.get("other"), TRef):
            b.node(binary_op, [b.use(c.tensor("self")), b.use(c.tensor("other"))], c.outs[:1])
            return
        assert inner.build is not None
        inner.build(c, b)

    return Row((*inner.emits, binary_op), build)


def _var_std(sqrt: bool, with_mean: bool) -> Row:
    """var = ReduceSum((x - mean)^2) / (N - correction); std adds a Sqrt."""

    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        axes = _dims_arg(c, x)
        keep = bool(c.args.get("keepdim", False))
        correction = c.args.get("correction")
        if correction is None:
            unbiased = c.args.get("unbiased", True)
            correction = 1 if unbiased in (None, True) else 0
        n = math.prod(x.dims()[a] for a in axes)
        kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        mean = b.tmp(kept, x.dtype)
        b.node("ReduceMean", [b.use(x), b.const_ints(axes)], [mean], keepdims=1)
        diff = b.tmp(x.shape, x.dtype)
        b.node("Sub", [b.use(x), mean.name], [diff])
        sq = b.tmp(x.shape, x.dtype)
        b.node("Mul", [diff.name, diff.name], [sq])
        var_out = c.outs[0]
        summed = b.tmp(var_out.shape, x.dtype)
        b.node("ReduceSum", [sq.name, b.const_ints(axes)], [summed], keepdims=int(keep))
        denom = max(n - int(correction), 0)
        if sqrt:
            var = b.tmp(var_out.shape, x.dtype)
            b.node("Div", [summed.name, b.const(float(denom), x.dtype)], [var])
            b.node("Sqrt", [var.name], [var_out])
        else:
            b.node("Div", [summed.name, b.const(float(denom), x.dtype)], [var_out])
        if with_mean:
            mean_out = c.outs[1]
            if keep:
                b.node("Identity", [mean.name], [mean_out])
            else:
                b.node("Squeeze", [mean.name, b.const_ints(axes)], [mean_out])

    return Row(("ReduceMean", "Sub", "Mul", "ReduceSum", "Div", "Sqrt", "Identity", "Squeeze"), build)


def _vector_norm(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    order = c.args.get("ord", 2)
    if order is None:
        order = 2
    axes = _dims_arg(c, x)
    keep = int(bool(c.args.get("keepdim", False)))
    if order == 2:
        b.node("ReduceL2", [b.use(x), b.const_ints(axes)], c.outs[:1], keepdims=keep)
    elif order == 1:
        b.node("ReduceL1", [b.use(x), b.const_ints(axes)], c.outs[:1], keepdims=keep)
    elif order == math.inf:
        absx = b.tmp(x.shape, x.dtype)
        b.node("Abs", [b.use(x)], [absx])
        b.node("ReduceMax", [absx.name, b.const_ints(axes)], c.outs[:1], keepdims=keep)
    else:
        raise TranslateError(f"vector norm of order {order} has no ONNX form")


def _cumsum(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axis = norm_axis(int(c.args["dim"]), x.rank)
    b.node("CumSum", [b.use(x), b.const(axis, I64)], c.outs[:1], axis=axis)


def _topk(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axis = norm_axis(int(c.args.get("dim", -1)), x.rank)
    b.node("TopK", [b.use(x), b.const_ints([int(c.args["k"])])], c.outs[:2], axis=axis,
           largest=int(bool(c.args.get("largest", True))), sorted=int(bool(c.args.get("sorted", True))))


def _sort(c: AtenCall, b: Builder) -> None:
    x = c.tensor("self")
    axis = norm_axis(int(c.args.get("dim", -1)), x.rank)
    k = x.dims()[axis] if x.rank else 1
    outs = list(c.outs)
    if c.packet == "argsort":
        outs = [b.tmp(x.shape, x.dtype), c.outs[0]]
    b.node("TopK", [b.use(x), b.const_ints([k])], outs, axis=axis, largest=int(bool(c.args.get("descending"))),
           sorted=1)


def register(put: Put) -> None:
    """Add this family's rows to the table."""
    # elementwise arithmetic
    put("add add_", _add_sub("Add"))
    put("sub sub_", _add_sub("Sub"))
    put("rsub", _add_sub("Sub", reverse=True))
    put("mul mul_", binary("Mul"))
    put("div div_", Row(("Div", "Floor"), _div))
    put("floor_divide floor_divide_", Row(("Div", "Floor"), _floor_divide))
    put("true_divide true_divide_", binary("Div"))
    put("pow pow_", Row(("Pow",), _pow))
    put("fmod fmod_", binary("Mod"))
    put("remainder remainder_", binary("Mod"))
    put("maximum fmax", binary("Max"))
    put("minimum fmin", binary("Min"))
    put("neg neg_", unary("Neg"))
    put("abs abs_", unary("Abs"))
    put("exp exp_", unary("Exp"))
    put("log log_", unary("Log"))
    put("sqrt sqrt_", unary("Sqrt"))
    put("reciprocal reciprocal_", unary("Reciprocal"))
    put("rsqrt rsqrt_", two_step("Sqrt", "Reciprocal"))
    put("log1p log1p_", two_step("Add", "Log", first_const=1.0))
    put("expm1 expm1_", two_step("Exp", "Sub", second_const=1.0))
    put("log2 log2_", two_step("Log", "Mul", second_const=1.0 / math.log(2.0)))
    put("log10 log10_", two_step("Log", "Mul", second_const=1.0 / math.log(10.0)))
    put("exp2 exp2_", Row(("Pow",), lambda c, b: b.node("Pow", [b.const(2.0, first_tensor(c).dtype), b.use(first_tensor(c))],
                                                            c.outs[:1])))
    put("erfc erfc_", two_step("Erf", "Sub", second_const=1.0, const_first=True))
    put("sin sin_", unary("Sin"))
    put("cos cos_", unary("Cos"))
    put("tan tan_", unary("Tan"))
    put("asin asin_", unary("Asin"))
    put("acos acos_", unary("Acos"))
    put("atan atan_", unary("Atan"))
    put("sinh sinh_", unary("Sinh"))
    put("cosh cosh_", unary("Cosh"))
    put("asinh asinh_", unary("Asinh"))
    put("acosh acosh_", unary("Acosh"))
    put("atanh atanh_", unary("Atanh"))
    put("erf erf_", unary("Erf"))
    put("floor floor_", unary("Floor"))
    put("ceil ceil_", unary("Ceil"))
    put("round round_", unary("Round"))
    put("sign sign_ sgn sgn_", unary("Sign"))
    put("isnan", unary("IsNaN"))
    put("isinf", unary("IsInf"))
    put("addcmul addcmul_", _addcop("Mul"))
    put("addcdiv addcdiv_", _addcop("Div"))
    put("lerp lerp_", Row(("Sub", "Mul", "Add"), _lerp))
    # comparison and logic
    put("eq eq_", binary("Equal"))
    put("ne ne_", Row(("Equal", "Not"), _ne))
    put("lt lt_ less", binary("Less"))
    put("le le_ less_equal", binary("LessOrEqual"))
    put("gt gt_ greater", binary("Greater"))
    put("ge ge_ greater_equal", binary("GreaterOrEqual"))
    put("logical_not logical_not_", unary("Not"))
    put("logical_and logical_and_", binary("And"))
    put("logical_or logical_or_", binary("Or"))
    put("logical_xor logical_xor_", binary("Xor"))
    put("bitwise_and bitwise_and_", _bitwise("And", "BitwiseAnd"))
    put("bitwise_or bitwise_or_", _bitwise("Or", "BitwiseOr"))
    put("bitwise_xor bitwise_xor_", _bitwise("Xor", "BitwiseXor"))
    put("bitwise_not bitwise_not_", _bitwise("Not", "BitwiseNot"))
    put("where", Row(("Where",), _where))
    put("masked_fill masked_fill_", Row(("Where",), _masked_fill))
    put("clamp clamp_ clamp_min clamp_min_ clamp_max clamp_max_ clip clip_", Row(("Clip", "Max", "Min"), _clamp))
    # activations
    put("relu relu_", unary("Relu"))
    put("hardtanh hardtanh_", Row(("Clip",), _hardtanh))
    put("gelu gelu_", Row(("Gelu",), _gelu))
    put("silu silu_", unary("Swish", alpha=1.0))
    put("sigmoid sigmoid_", unary("Sigmoid"))
    put("tanh tanh_", unary("Tanh"))
    put("hardsigmoid hardsigmoid_", unary("HardSigmoid", alpha=1.0 / 6.0, beta=0.5))
    put("hardswish hardswish_", unary("HardSwish"))
    put("mish mish_", unary("Mish"))
    put("leaky_relu leaky_relu_", Row(("LeakyRelu",), _leaky_relu))
    put("elu elu_", Row(("Elu", "Selu", "Celu"), _elu))
    put("softplus", Row(("Softplus", "Mul", "Div"), _softplus))
    put("log_sigmoid_forward", Row(("Sigmoid", "Log"), _log_sigmoid))
    put("glu", Row(("Split", "Sigmoid", "Mul"), _glu))
    put("threshold threshold_", Row(("Greater", "Where"), _threshold))
    put("hardshrink softshrink", Row(("Shrink",), _shrink))
    put("_prelu_kernel prelu", Row(("PRelu",), _prelu))
    put("_softmax softmax _safe_softmax", _softmax("Softmax"))
    put("_log_softmax log_softmax", _softmax("LogSoftmax"))
    # linear algebra
    put("addmm addmm_", Row(("Gemm", "MatMul"), _addmm))
    put("mm", Row(("Gemm", "MatMul"), _mm))
    put("bmm", _matmul_row(("self", "mat2")))
    put("matmul", _matmul_row(("self", "other")))
    put("mv", _matmul_row(("self", "vec")))
    put("dot vdot", _matmul_row(("self", "tensor")))
    put("baddbmm baddbmm_ addbmm addbmm_", Row(("MatMul", "ReduceSum", "Mul", "Add", "Identity"), _baddbmm))
    put("addmv addmv_", Row(("MatMul", "Mul", "Add", "Identity"), _addmv))
    put("_scaled_mm", Row(("MatMul", "Mul", "Add"), _scaled_mm))
    put("_addmm_activation", Row(("Gemm", "MatMul", "Relu", "Gelu"), _addmm_activation))
    put("linear", Row(("Gemm", "Transpose", "MatMul", "Add"), _linear))
    put("einsum", Row(("Einsum",), _einsum))
    # reductions
    put("sum", _reduce("ReduceSum"))
    put("mean", _reduce("ReduceMean"))
    put("amax", _reduce("ReduceMax"))
    put("amin", _reduce("ReduceMin"))
    put("prod", _reduce("ReduceProd"))
    put("logsumexp", _reduce("ReduceLogSumExp"))
    put("any", _reduce("ReduceMax"))
    put("all", _reduce("ReduceMin"))
    put("max", _max_min_binary_or_reduce("ArgMax", "ReduceMax", "Max"))
    put("min", _max_min_binary_or_reduce("ArgMin", "ReduceMin", "Min"))
    put("argmax", _arg_reduce("ArgMax"))
    put("argmin", _arg_reduce("ArgMin"))
    put("var", _var_std(sqrt=False, with_mean=False))
    put("std", _var_std(sqrt=True, with_mean=False))
    put("var_mean", _var_std(sqrt=False, with_mean=True))
    put("std_mean", _var_std(sqrt=True, with_mean=True))
    put("linalg_vector_norm", Row(("ReduceL2", "ReduceL1", "Abs", "ReduceMax"), _vector_norm))
    put("cumsum cumsum_", Row(("CumSum",), _cumsum))
    put("topk", Row(("TopK",), _topk))
    put("sort argsort", Row(("TopK",), _sort))
