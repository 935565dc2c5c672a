"""aten -> ONNX rows: convolution, pooling, normalisation, resize and attention (the dispatch-level
spellings; ``F.scaled_dot_product_attention`` itself is caught before dispatch by the tracer)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from edgeprof.frontends.pytorch._graph import AtenCall, Builder, TranslateError, TRef
from edgeprof.frontends.pytorch._rows import (
    Put,
    Row,
    first_tensor,
    spatial,
)

# ---- convolution, pooling, normalisation, resize ----------------------------------------


def _convolution(c: AtenCall, b: Builder) -> None:
    x, w, bias = c.args.get("input"), c.tensor("weight"), c.opt_tensor("bias")
    if not isinstance(x, TRef):
        x = first_tensor(c)
    n = w.rank - 2
    stride = spatial(c.ints("stride"), n, 1)
    pad = spatial(c.ints("padding"), n, 0)
    dilation = spatial(c.ints("dilation"), n, 1)
    groups = int(c.args.get("groups", 1))
    ins = [b.use(x), b.use(w)] + ([b.use(bias)] if bias is not None else [])
    kernel = tuple(int(d) for d in w.shape[2:])
    if c.args.get("transposed"):
        out_pad = spatial(c.ints("output_padding"), n, 0)
        b.node("ConvTranspose", ins, c.outs[:1], strides=stride, pads=pad + pad, dilations=dilation, group=groups,
               output_padding=out_pad, kernel_shape=kernel)
    else:
        b.node("Conv", ins, c.outs[:1], strides=stride, pads=pad + pad, dilations=dilation, group=groups,
               kernel_shape=kernel)


def _pool_attrs(c: AtenCall, n: int) -> dict[str, Any]:
    kernel = spatial(c.ints("kernel_size"), n, 1)
    stride = spatial(c.ints("stride"), n, 0)
    if not c.ints("stride"):
        stride = kernel
    pad = spatial(c.ints("padding"), n, 0)
    return {"kernel_shape": kernel, "strides": stride, "pads": pad + pad, "ceil_mode": int(bool(c.args.get("ceil_mode")))}


def _max_pool(n: int) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        attrs = _pool_attrs(c, n)
        dil = spatial(c.ints("dilation"), n, 1)
        b.node("MaxPool", [b.use(c.tensor("self"))], c.outs, dilations=dil, **attrs)

    return Row(("MaxPool",), build)


def _avg_pool(n: int) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        attrs = _pool_attrs(c, n)
        b.node("AveragePool", [b.use(c.tensor("self"))], c.outs[:1],
               count_include_pad=int(bool(c.args.get("count_include_pad", True))), **attrs)

    return Row(("AveragePool",), build)


def _adaptive_pool(global_op: str, op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = c.tensor("self")
        out = c.out()
        in_sp = x.dims()[2:] if x.rank >= 3 else x.dims()[1:]
        out_sp = out.dims()[-len(in_sp):]
        if all(o == 1 for o in out_sp):
            b.node(global_op, [b.use(x)], c.outs)
            return
        if any(o == 0 or i % o for i, o in zip(in_sp, out_sp, strict=True)):
            raise TranslateError(
                f"adaptive pooling {tuple(in_sp)} -> {tuple(out_sp)} has windows of unequal size (no ONNX form)"
            )
        kernel = tuple(i // o for i, o in zip(in_sp, out_sp, strict=True))
        attrs: dict[str, Any] = {"kernel_shape": kernel, "strides": kernel, "pads": (0,) * (2 * len(kernel))}
        b.node(op, [b.use(x)], c.outs, **attrs)

    return Row((global_op, op), build)


def _layer_norm(c: AtenCall, b: Builder) -> None:
    x = c.tensor("input")
    axis = x.rank - len(c.ints("normalized_shape"))
    ins = [b.use(x), b.operand(c.opt_tensor("weight")), b.operand(c.opt_tensor("bias"))]
    b.node("LayerNormalization", ins, c.outs, axis=axis, epsilon=float(c.args.get("eps", 1e-5)))


def _rms_norm(c: AtenCall, b: Builder) -> None:
    x = c.tensor("input")
    axis = x.rank - len(c.ints("normalized_shape"))
    eps = c.args.get("eps")
    ins = [b.use(x), b.operand(c.opt_tensor("weight"))]
    b.node("RMSNormalization", ins, c.outs, axis=axis, epsilon=None if eps is None else float(eps))


def _group_norm(c: AtenCall, b: Builder) -> None:
    ins = [b.use(c.tensor("input")), b.operand(c.opt_tensor("weight")), b.operand(c.opt_tensor("bias"))]
    groups = c.args["group"] if "group" in c.args else c.args["num_groups"]
    b.node("GroupNormalization", ins, c.outs, num_groups=int(groups), epsilon=float(c.args.get("eps", 1e-5)))


def _batch_norm(c: AtenCall, b: Builder) -> None:
    x = c.tensor("input")
    training = bool(c.args.get("training", False)) if c.packet != "_native_batch_norm_legit_no_training" else False
    mean, var = c.opt_tensor("running_mean"), c.opt_tensor("running_var")
    ins = [b.use(x), b.operand(c.opt_tensor("weight")), b.operand(c.opt_tensor("bias")), b.operand(mean),
           b.operand(var)]
    b.node("BatchNormalization", ins, c.outs, epsilon=float(c.args.get("eps", 1e-5)),
           momentum=float(c.args.get("momentum", 0.1)), training_mode=int(training or mean is None))


def _resize(mode: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x = first_tensor(c)
        attrs: dict[str, Any] = {"mode": "nearest" if mode.startswith("nearest") else mode}
        if mode == "nearest":
            attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        elif mode == "nearest_exact":
            attrs.update(coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
        else:
            align = bool(c.args.get("align_corners"))
            attrs["coordinate_transformation_mode"] = "align_corners" if align else "pytorch_half_pixel"
            if mode == "cubic":
                attrs["cubic_coeff_a"] = -0.75
            if c.packet.endswith("_aa"):
                attrs["antialias"] = 1
        sizes = b.const_ints(c.out().dims())
        b.node("Resize", [b.use(x), "", "", sizes], c.outs[:1], **attrs)

    return Row(("Resize",), build)


_GRID_MODES = {0: "linear", 1: "nearest", 2: "cubic"}
_GRID_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def _grid_sampler(c: AtenCall, b: Builder) -> None:
    """``F.grid_sample``: ONNX GridSample (opset 20 names; 3-D inputs are the 5-D GridSample)."""
    mode, padding = int(c.args.get("interpolation_mode", 0)), int(c.args.get("padding_mode", 0))
    if mode not in _GRID_MODES or padding not in _GRID_PADDING:
        raise TranslateError(f"grid_sampler: unknown interpolation mode {mode} or padding mode {padding}")
    b.node("GridSample", [b.use(c.tensor("input")), b.use(c.tensor("grid"))], c.outs[:1], mode=_GRID_MODES[mode],
           padding_mode=_GRID_PADDING[padding], align_corners=int(bool(c.args.get("align_corners"))))


# ---- attention (dispatch-level spellings; F.scaled_dot_product_attention is intercepted
# before dispatch by the tracer, so these rows only see graphs replayed at aten level) -------


def attention_node(
    b: Builder,
    q: TRef,
    k: TRef,
    v: TRef,
    mask: TRef | None,
    is_causal: bool,
    scale: float | None,
    outs: Sequence[TRef],
) -> None:
    """One ONNX ``Attention`` node (opset 23) for torch's SDPA on (..., L, E) inputs."""
    attrs: dict[str, Any] = {"is_causal": int(bool(is_causal))}
    if scale is not None:
        attrs["scale"] = float(scale)
    ins = [b.use(q), b.use(k), b.use(v)] + ([b.use(mask)] if mask is not None else [])
    out = outs[0]
    if q.rank == 4:
        attrs.update(q_num_heads=int(q.shape[1]), kv_num_heads=int(k.shape[1]))
        b.node("Attention", ins, list(outs), **attrs)
        return
    if q.rank == 3:  # (N, L, E): one head per batch entry
        attrs.update(q_num_heads=1, kv_num_heads=1)
        b.node("Attention", ins, list(outs), **attrs)
        return
    # Other ranks: flatten the leading dims into one batch dim, one head each.
    def to3(t: TRef) -> str:
        dims = t.dims()
        flat = (math.prod(dims[:-2]), dims[-2], dims[-1])
        r = b.tmp(flat, t.dtype)
        b.node("Reshape", [b.use(t), b.const_ints(flat)], [r])
        return r.name

    ins3 = [to3(q), to3(k), to3(v)]
    if mask is not None:
        mdims = mask.dims()
        if len(mdims) == len(q.shape):
            ins3.append(to3(mask))
        else:
            ins3.append(b.use(mask))
    odims = out.dims()
    y3 = b.tmp((math.prod(odims[:-2]), odims[-2], odims[-1]), out.dtype)
    attrs.update(q_num_heads=1, kv_num_heads=1)
    b.node("Attention", ins3, [y3], **attrs)
    b.node("Reshape", [y3.name, b.const_ints(odims)], [out])
    for extra in outs[1:]:
        b.node("Identity", [y3.name], [extra])


def _sdpa_aten(mask_key: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        q, k, v = c.tensor("query"), c.tensor("key"), c.tensor("value")
        mask = c.opt_tensor(mask_key)
        scale = c.args.get("scale")
        attention_node(b, q, k, v, mask, bool(c.args.get("is_causal")), scale, c.outs)

    return Row(("Attention",), build)


def _native_mha(c: AtenCall, b: Builder) -> None:
    """nn.MultiheadAttention's fast path: packed in-projection, Attention, out-projection."""
    q, k, v = c.tensor("query"), c.tensor("key"), c.tensor("value")
    heads = int(c.args["num_head"])
    e = int(c.args["embed_dim"])
    w, bias = c.tensor("qkv_weight"), c.opt_tensor("qkv_bias")
    pw, pb = c.tensor("proj_weight"), c.opt_tensor("proj_bias")
    mask = c.opt_tensor("mask")
    d = e // heads
    batched = q.rank == 3
    out = c.out()

    def proj(x: TRef, weight: str, bias_name: str, width: int) -> TRef:
        dims = x.dims()
        rows = math.prod(dims[:-1])
        flat = b.tmp((rows, dims[-1]), x.dtype)
        b.node("Reshape", [b.use(x), b.const_ints((rows, dims[-1]))], [flat])
        y = b.tmp((rows, width), x.dtype)
        b.node("Gemm", [flat.name, weight] + ([bias_name] if bias_name else []), [y], transB=1)
        return y

    def heads_of(y: TRef, x: TRef) -> TRef:
        dims = x.dims()
        nb, length = (dims[0], dims[1]) if batched else (1, dims[0])
        r = b.tmp((nb, length, heads, d), y.dtype)
        b.node("Reshape", [y.name, b.const_ints((nb, length, heads, d))], [r])
        t = b.tmp((nb, heads, length, d), y.dtype)
        b.node("Transpose", [r.name], [t], perm=(0, 2, 1, 3))
        return t

    if q.name == k.name == v.name:
        qkv = proj(q, b.use(w), b.operand(bias), 3 * e)
        rows = qkv.dims()[0]
        parts = [b.tmp((rows, e), q.dtype) for _ in range(3)]
        b.node("Split", [qkv.name, b.const_ints([e, e, e])], parts, axis=1)
        qh, kh, vh = (heads_of(p, x) for p, x in zip(parts, (q, k, v), strict=True))
    else:
        ws = [b.tmp((e, e), w.dtype) for _ in range(3)]
        b.node("Split", [b.use(w), b.const_ints([e, e, e])], ws, axis=0)
        bs: list[str] = ["", "", ""]
        if bias is not None:
            bts = [b.tmp((e,), bias.dtype) for _ in range(3)]
            b.node("Split", [b.use(bias), b.const_ints([e, e, e])], bts, axis=0)
            bs = [t.name for t in bts]
        qh, kh, vh = (heads_of(proj(x, wi.name, bi, e), x) for x, wi, bi in zip((q, k, v), ws, bs, strict=True))
    nb, length = qh.dims()[0], qh.dims()[2]
    att = b.tmp((nb, heads, length, d), q.dtype)
    extra: list[TRef] = []
    if c.args.get("need_weights", True) and len(c.outs) > 1:
        probs = b.tmp((nb, heads, length, kh.dims()[2]), q.dtype)
        extra = [b.tmp((nb, heads, 0, d), q.dtype), b.tmp((nb, heads, 0, d), q.dtype), probs]
    attrs: dict[str, Any] = {"q_num_heads": heads, "kv_num_heads": heads, "is_causal": 0}
    if extra:
        attrs["qk_matmul_output_mode"] = 3
    b.node("Attention", [qh.name, kh.name, vh.name] + ([b.use(mask)] if mask is not None else []), [att, *extra],
           **attrs)
    back = b.tmp((nb, length, heads, d), q.dtype)
    b.node("Transpose", [att.name], [back], perm=(0, 2, 1, 3))
    flat = b.tmp((nb * length, e), q.dtype)
    b.node("Reshape", [back.name, b.const_ints((nb * length, e))], [flat])
    projected = b.tmp((nb * length, e), q.dtype)
    b.node("Gemm", [flat.name, b.use(pw)] + ([b.use(pb)] if pb is not None else []), [projected], transB=1)
    b.node("Reshape", [projected.name, b.const_ints(out.dims())], [out])
    if len(c.outs) > 1:
        weights_out = c.outs[1]
        if extra:
            probs = extra[2]
            if c.args.get("average_attn_weights", True):
                b.node("ReduceMean", [probs.name, b.const_ints([1])], [weights_out], keepdims=0)
            else:
                b.node("Reshape", [probs.name, b.const_ints(weights_out.dims())], [weights_out])
        else:
            b.node("ConstantOfShape", [b.const_ints(weights_out.dims())], [weights_out])


_MHA_EMITS = ("Reshape", "Gemm", "Split", "Transpose", "Attention", "ReduceMean", "ConstantOfShape")


def register(put: Put) -> None:
    """Add this family's rows to the table."""
    # convolution, pooling, normalisation, resize
    put("convolution _convolution conv2d conv1d conv3d", Row(("Conv", "ConvTranspose"), _convolution))
    put("max_pool1d_with_indices max_pool1d", _max_pool(1))
    put("max_pool2d_with_indices max_pool2d", _max_pool(2))
    put("max_pool3d_with_indices max_pool3d", _max_pool(3))
    put("avg_pool1d", _avg_pool(1))
    put("avg_pool2d", _avg_pool(2))
    put("avg_pool3d", _avg_pool(3))
    put("_adaptive_avg_pool2d _adaptive_avg_pool3d adaptive_avg_pool1d",
        _adaptive_pool("GlobalAveragePool", "AveragePool"))
    put("adaptive_max_pool2d adaptive_max_pool3d adaptive_max_pool1d", _adaptive_pool("GlobalMaxPool", "MaxPool"))
    put("native_layer_norm layer_norm", Row(("LayerNormalization",), _layer_norm))
    put("_fused_rms_norm rms_norm", Row(("RMSNormalization",), _rms_norm))
    put("native_group_norm group_norm", Row(("GroupNormalization",), _group_norm))
    put("native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training "
        "_native_batch_norm_legit_functional batch_norm", Row(("BatchNormalization",), _batch_norm))
    put("upsample_nearest1d upsample_nearest2d upsample_nearest3d", _resize("nearest"))
    put("_upsample_nearest_exact1d _upsample_nearest_exact2d _upsample_nearest_exact3d", _resize("nearest_exact"))
    put("upsample_linear1d upsample_bilinear2d upsample_trilinear3d _upsample_bilinear2d_aa", _resize("linear"))
    put("upsample_bicubic2d _upsample_bicubic2d_aa", _resize("cubic"))
    put("grid_sampler_2d grid_sampler_3d grid_sampler", Row(("GridSample",), _grid_sampler))
    # attention
    put("_scaled_dot_product_flash_attention_for_cpu _scaled_dot_product_flash_attention "
        "_scaled_dot_product_attention_math _scaled_dot_product_fused_attention_overrideable",
        _sdpa_aten("attn_mask"))
    put("scaled_dot_product_attention", _sdpa_aten("attn_mask"))
    put("_scaled_dot_product_efficient_attention _scaled_dot_product_cudnn_attention", _sdpa_aten("attn_bias"))
    put("_native_multi_head_attention", Row(_MHA_EMITS, _native_mha))
