"""The cost primitives every op family builds on, defined once: per-element activation costs,
the dot product, the softmax row and the requantise step.

This is a leaf module: it imports no op family (only the registry's :class:`Arith`), so any
family may import it without an import cycle. A family that needs a cost another family also uses takes it from here.

Activations are counted per element from their defining formula, each op stated below; a select
(the branch of a piecewise function) is not arithmetic, its comparison is. docs/counting.md fixes ReLU
at n and Sigmoid at 4n.
"""

from __future__ import annotations

from edgeprof.ops.registry import Arith

__all__ = [
    "AFFINE_OPS", "CELU_OPS", "CLIP_OPS", "ELU_OPS", "GELU_OPS", "GELU_TANH_OPS", "HARD_SIGMOID_OPS",
    "HARD_SWISH_OPS", "LEAKY_RELU_OPS", "MISH_OPS", "RELU_OPS", "REQUANT_OPS", "SCALED_TANH_OPS", "SELU_OPS",
    "SHRINK_OPS", "SIGMOID_OPS", "SOFTPLUS_OPS", "SOFTSIGN_OPS", "TANH_OPS", "THRESHOLDED_RELU_OPS",
    "dot_products", "softmax_ops", "swish_ops",
]

# --- per-element activation costs -------------------------------------------------------------

RELU_OPS = 1
"""max(0, x): one comparison (n over n elements: docs/counting.md)."""
SIGMOID_OPS = 4
"""1 / (1 + exp(-x)): negate, exp, add, divide (4n over n elements: docs/counting.md)."""
TANH_OPS = 5
"""(e - 1) / (e + 1) with e = exp(2x): multiply, exp, subtract, add, divide."""
SCALED_TANH_OPS = TANH_OPS + 2
"""alpha·tanh(beta·x): multiply, tanh (5), multiply."""
AFFINE_OPS = 2
"""alpha·x + beta: multiply, add."""
LEAKY_RELU_OPS = 2
"""max(x, alpha·x): multiply, comparison."""
THRESHOLDED_RELU_OPS = 1
"""x > alpha ? x : 0: one comparison."""
HARD_SIGMOID_OPS = 4
"""max(0, min(1, alpha·x + beta)): multiply, add, min, max."""
HARD_SWISH_OPS = HARD_SIGMOID_OPS + 1
"""x · HardSigmoid(x) with alpha = 1/6, beta = 0.5 (= x·relu6(x + 3)/6): 4 + multiply."""
ELU_OPS = 4
"""x < 0 ? alpha·(exp(x) - 1) : x: comparison, exp, subtract, multiply."""
SELU_OPS = 5
"""gamma·(x > 0 ? x : alpha·(exp(x) - 1)): comparison, exp, subtract, multiply by alpha, multiply by gamma."""
CELU_OPS = 7
"""max(0, x) + min(0, alpha·(exp(x/alpha) - 1)): max, divide, exp, subtract, multiply, min, add."""
SOFTPLUS_OPS = 3
"""log(exp(x) + 1): exp, add, log."""
SOFTSIGN_OPS = 3
"""x / (1 + |x|): abs, add, divide."""
MISH_OPS = SOFTPLUS_OPS + TANH_OPS + 1
"""x · tanh(softplus(x)): 3 + 5 + multiply."""
GELU_OPS = 5
"""0.5·x·(1 + erf(x/√2)): divide, erf, add, multiply by x, multiply by 0.5."""
GELU_TANH_OPS = 8 + TANH_OPS
"""0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): x² and x³ (2 multiplies), ·0.044715, + x,
·√(2/π), tanh (5), + 1, ·x, ·0.5."""
SHRINK_OPS = 3
"""x < -lambd ? x + bias : (x > lambd ? x - bias : 0): two comparisons, one add or subtract."""
CLIP_OPS = 2
"""min(max(x, lo), hi): a min and a max per clipped element."""


def swish_ops(alpha: float = 1.0) -> int:
    """x · sigmoid(alpha·x): the multiply by alpha (when alpha ≠ 1), sigmoid 4, multiply by x."""
    return (0 if alpha == 1.0 else 1) + SIGMOID_OPS + 1


# --- dot products, softmax, requantisation ----------------------------------------------------


def dot_products(count: int, length: int) -> Arith:
    """``count`` dot products of length ``length``: (2·length-1)·count FLOPs, length·count MACs."""
    if length == 0:
        return Arith(ops=0, macs=0)
    return Arith(ops=(2 * length - 1) * count, macs=length * count)


def softmax_ops(rows: int, length: int) -> int:
    """Ops of ``rows`` softmaxes over rows of ``length``: rows·(5·length-2)
    (max: length-1 comparisons, subtract length, exp length, sum length-1, divide length)."""
    if length <= 0:
        return 0
    return rows * (5 * length - 2)


REQUANT_OPS = 4
"""Integer ops per output element to requantise an int32 accumulator to the output type:
multiply by the combined scale (x_scale·w_scale/y_scale), round, add the output zero point,
saturate to the output range."""
