"""Number and label formatting shared by the renderers (terminal, Markdown).

Every figure is shown twice: exact, as an integer with thousands separators
(``4,089,184,256``), and in a human form with an SI prefix and three significant digits
(``4.09 G``). The human form is computed with exact integer arithmetic (round half up), so
the same count always prints the same text on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from edgeprof.report.deploy import Deployment
from edgeprof.report.llm import LLMFigures
from edgeprof.report.memory import MemoryReport
from edgeprof.report.model import InputSpec, LayerCost, Profile, Totals

__all__ = [
    "INPUT_SOURCE_LABELS",
    "LayerSelection",
    "ViewOptions",
    "activation_share",
    "exact",
    "human",
    "if_range",
    "input_source_label",
    "joules",
    "percent",
    "seconds",
    "select_layers",
    "shape_text",
]

_PREFIXES = ("", "k", "M", "G", "T", "P", "E", "Z", "Y", "R", "Q")

INPUT_SOURCE_LABELS: dict[str, str] = {
    "model": "from the model",
    "flag": "from --input/--dim",
    "seq-len": "from --seq-len",
    "config": "from the config",
    "default-batch": "batch assumed 1",
    "example": "from the example input",
}


def exact(n: int) -> str:
    """``4089184256`` -> ``'4,089,184,256'``."""
    return f"{n:,}"


def _round_half_up(value: Fraction, decimals: int) -> int:
    """``value`` * 10**decimals rounded half up, for ``value`` >= 0."""
    factor: int = 10**decimals
    scaled = value * factor
    return (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)


def human(n: int, unit: str = "") -> str:
    """Three significant digits and an SI prefix: ``human(4089184256, "MACs") == '4.09 GMACs'``.

    Below 1000 the number is printed as is (``'15 FLOPs'``); the unit is appended to the
    prefix (``'2.25 MB'``, ``'549 k'``)."""
    sign = "-" if n < 0 else ""
    magnitude = abs(n)
    if magnitude < 1000:
        return f"{sign}{magnitude} {unit}".rstrip()
    k = 0
    while k + 1 < len(_PREFIXES) and magnitude >= 1000 ** (k + 1):
        k += 1
    while True:
        value = Fraction(magnitude, 1000**k)
        decimals = 2 if value < 10 else 1 if value < 100 else 0
        rounded = _round_half_up(value, decimals)
        if rounded >= 1000 and decimals > 0:
            # 9.996 rounds to 10.00: three significant digits are 10.0.
            decimals -= 1
            rounded = _round_half_up(value, decimals)
        if rounded >= 1000 and decimals == 0 and k + 1 < len(_PREFIXES):
            k += 1  # 999.6 k rounds to 1000 k: that is 1.00 M
            continue
        break
    text = str(rounded)
    if decimals:
        text = text.rjust(decimals + 1, "0")
        text = f"{text[:-decimals]}.{text[-decimals:]}"
    return f"{sign}{text} {_PREFIXES[k]}{unit}".rstrip()


def seconds(value: float) -> str:
    """A time with a readable unit: ``1.23 ms``, ``45.6 us``, ``2.00 s``."""
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"


def joules(value: float) -> str:
    """An energy with a readable unit: ``2.36 mJ``, ``45.6 uJ``, ``1.20 J``, ``3.1 kJ``."""
    magnitude = abs(value)
    for scale, unit in ((1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ")):
        if magnitude >= scale:
            return f"{value / scale:.3g} {unit}"
    return "0 J" if value == 0 else f"{value * 1e12:.3g} pJ"


def if_range(totals: Totals) -> str:
    """``'FLOPs 15 .. 30, MACs 8 .. 16'``: the range control flow not known statically gives (an
    If's branches, a Loop that may exit early); the totals are its top. A figure whose minimum and
    maximum agree is left out."""
    parts = []
    if totals.flops_min is not None and totals.flops_min != totals.flops:
        parts.append(f"FLOPs {exact(totals.flops_min)} .. {exact(totals.flops)}")
    if totals.macs_min is not None and totals.macs_min != totals.macs:
        parts.append(f"MACs {exact(totals.macs_min)} .. {exact(totals.macs)}")
    return ", ".join(parts)


def layer_label(name: str, layer: LayerCost) -> str:
    """A layer's name with where it sits when control flow is not known statically: a branch the
    totals follow, or the other branch, listed but not in the totals (its share is ``-``)."""
    if not layer.range_group:
        return name
    if not layer.in_totals:
        return f"{name} (other branch of {layer.range_group}: not in the totals)"
    return f"{name} (branch of {layer.range_group})"


def layer_share(layer: LayerCost, total: int) -> str:
    """A layer's share of the total ops; ``-`` for a branch left out of the totals."""
    return percent(layer.flops + layer.int_ops, total) if layer.in_totals else "-"


def percent(part: int, whole: int) -> str:
    """``part`` as a share of ``whole`` with one decimal: ``'12.3%'``; ``'<0.1%'`` for a
    non-zero share that rounds to zero; ``'0%'`` for nothing; ``'-'`` when ``whole`` is 0."""
    if whole <= 0:
        return "-"
    if part == 0:
        return "0%"
    tenths = _round_half_up(Fraction(abs(part) * 100, whole), 1)
    if tenths == 0:
        return "<0.1%"
    sign = "-" if part < 0 else ""
    return f"{sign}{tenths // 10}.{tenths % 10}%"


def shape_text(shape: tuple[int | str, ...]) -> str:
    """``(1, 3, 224, 224)`` -> ``'1x3x224x224'`` (the ``--input`` spelling); symbolic dims by
    name (``'batchx3'``); an empty shape (a scalar, or a shape that is not known) as ``'()'``."""
    if not shape:
        return "()"
    return "x".join(str(d) for d in shape)


def input_source_label(spec: InputSpec) -> str:
    return INPUT_SOURCE_LABELS.get(spec.source, spec.source)


def activation_share(profile: Profile) -> tuple[int, int]:
    """(ops of the ``activation`` category, all counted ops); ops = FLOPs + integer OPs."""
    total = profile.totals.flops + profile.totals.int_ops
    act = sum(c.flops + c.int_ops for c in profile.categories if c.category == "activation")
    return act, total


@dataclass(frozen=True)
class LayerSelection:
    """The layers a table shows: the ``top`` costliest (costliest first) when there are more
    layers than ``top``, else all of them in graph order. ``hidden`` layers are left out."""

    layers: tuple[LayerCost, ...]
    hidden: int
    truncated: bool
    total: int


DEFAULT_TOP = 25


def select_layers(profile: Profile, top: int | None) -> LayerSelection:
    """``top`` None means the default (25); 0 means all layers."""
    n = DEFAULT_TOP if top is None else top
    if n < 0:
        raise ValueError("top must be >= 0")
    total = len(profile.layers)
    if n == 0 or total <= n:
        return LayerSelection(profile.layers, 0, False, total)
    return LayerSelection(tuple(profile.top_layers(n)), total - n, True, total)


@dataclass(frozen=True)
class ViewOptions:
    """What the human-readable renderers (terminal, Markdown) show besides the fixed sections:
    how many layers (``top``: None = the default 25, 0 = all), a per-module table cut at
    ``by_module`` (None = none) and a per-operator table; ``details``: every device's latency
    and energy breakdown (else one row per device, terminal only); ``all_columns``: no column
    left out to fit the terminal's width (terminal only)."""

    top: int | None = None
    by_module: int | None = None
    by_operator: bool = False
    details: bool = False
    all_columns: bool = False


def memory_rows(mem: MemoryReport) -> list[tuple[str, int, str]]:
    """The memory summary as (figure, bytes, how obtained) rows, shared by the renderers."""
    p = mem.predicted
    counted = "counted from shapes" + (" (lower bound: some tensors unsized)" if p.is_lower_bound else "")
    rows = [("weights", p.weight_bytes, "counted from stored tensors")]
    if p.size.file_bytes is not None:
        rows.append(("model file", p.size.file_bytes, "size on disk"))
    rows += [
        ("peak activations", p.peak_activation_bytes, f"{counted}; at {p.peak_at or 'the inputs'}"),
        ("peak memory", p.peak_bytes, "predicted: weights + peak activations"),
    ]
    s = p.schedule
    if s is not None:
        if s.best_peak_activation_bytes < s.default_peak_activation_bytes:
            how = f"searched ({s.method}): {exact(s.default_peak_activation_bytes)} B in the default order"
        else:
            how = "the default order is the best found" + (" (proven)" if s.method == "exact" else " (heuristic search)")
        rows.append(("best-order peak", s.best_peak_activation_bytes, how))
    est = p.runtime_estimate
    if est is not None and est.scratch_at_peak_bytes:
        rows.append((f"peak on {est.runtime.split(' ')[0]}", est.peak_bytes,
                     f"estimated: + {human(est.scratch_at_peak_bytes, 'B')} of kernel temporaries at {est.peak_at} "
                     "(rules measured in docs/memory.md)"))
    if est is not None and est.process_peak_bytes is not None:
        rows.append(("process peak", est.process_peak_bytes,
                     f"estimated: {est.runtime.split(' ')[0]} with default session options, resident increase from "
                     "its import to the end of the runs (load peak, arena, fixed costs; rules fitted in docs/memory.md)"))
    measured = mem.measured
    if measured is not None and measured.rss is not None:
        m = measured.rss
        rows.append(("measured peak RSS", m.peak_rss_increase_bytes,
                     f"measured: increase over baseline, {m.runtime}, {m.runs} runs"))
        if measured.measured_minus_predicted_bytes is not None:
            diff = measured.measured_minus_predicted_bytes
            rows.append(("measured - predicted", diff,
                         f"{'+' if diff >= 0 else '-'}{percent(abs(diff), p.peak_bytes)} of the predicted peak"))
    if measured is not None and measured.tensor_peak is not None:
        t = measured.tensor_peak
        rows.append(("measured tensor peak", t.peak_activation_bytes, f"measured: live tensor storage, {t.runtime}"))
    return rows


DEVICE_FIT_HEADERS = ("device", "precision", "weights in flash", "activation peak in SRAM", "fits")


def device_fit_rows(mem: MemoryReport) -> list[tuple[str, str, str, str, str]]:
    """The microcontroller view, one row per (device, precision): weights vs flash, the best
    order's activation peak vs SRAM (``>=`` when some tensors could not be sized), and a verdict."""
    rows = []
    for f in mem.predicted.device_fits:
        bound = ">= " if f.is_lower_bound else ""
        flash = f"{human(f.weight_bytes, 'B')} of {human(f.flash_bytes, 'B')}"
        sram = f"{bound}{human(f.best_peak_activation_bytes, 'B')} of {human(f.sram_bytes, 'B')}"
        if f.default_peak_activation_bytes != f.best_peak_activation_bytes:
            sram += f" (best order; default {human(f.default_peak_activation_bytes, 'B')})"
        missing = [what for what, ok in (("flash", f.weights_fit_flash), ("SRAM", f.best_fits_sram)) if not ok]
        verdict = "yes" if not missing else "no: " + " and ".join(missing) + " too small"
        if not missing and f.is_lower_bound:
            verdict = "not known: some tensors unsized"
        rows.append((f.device_id, f.precision, flash, sram, verdict))
    return rows


def fit_notes(memory: MemoryReport, devices: set[str]) -> list[str]:
    """One line per device in ``devices`` the model does not fit: its RAM, or a microcontroller's
    flash or SRAM (at the stored precision)."""
    notes = [f"{f.device_id}: {f.verdict()} of RAM; the prediction assumes it runs"
             for f in memory.predicted.ram_fits if f.device_id in devices and not f.fits]
    for m in memory.predicted.device_fits:
        if m.device_id in devices and m.precision == "stored" and not m.fits:
            short = [what for what, ok in (("flash", m.weights_fit_flash), ("SRAM", m.best_fits_sram)) if not ok]
            notes.append(f"{m.device_id}: does not fit as stored ({' and '.join(short)} too small); "
                         "the prediction assumes it runs")
    return notes


DEPLOYMENT_TITLE = "As given and as deployed (the graph a runtime executes: constants folded, epilogues fused, QDQ as integer kernels)"
DEPLOYMENT_HEADERS = ("figure", "as given", "as deployed", "change")


def deployment_rows(dep: Deployment) -> list[tuple[str, str, str, str]]:
    """Kernels, FLOPs, integer OPs and bytes moved of the graph as given and as deployed."""
    def change(a: int, b: int) -> str:
        return "-" if a == 0 else f"{(b - a) / a:+.0%}"

    rows = [("nodes / kernels", exact(dep.given_nodes), exact(dep.deployed_kernels),
             change(dep.given_nodes, dep.deployed_kernels)),
            ("FLOPs", exact(dep.given_flops), exact(dep.deployed_flops), change(dep.given_flops, dep.deployed_flops))]
    if dep.given_int_ops or dep.deployed_int_ops:
        rows.append(("integer OPs", exact(dep.given_int_ops), exact(dep.deployed_int_ops),
                     change(dep.given_int_ops, dep.deployed_int_ops)))
    rows.append(("bytes moved", human(dep.given_bytes, "B"), human(dep.deployed_bytes, "B"),
                 change(dep.given_bytes, dep.deployed_bytes)))
    return rows


def deployment_note(dep: Deployment) -> str:
    """What the deployment folded, by kind, most nodes first."""
    kinds = sorted(dep.folded, key=lambda f: (-f.nodes, f.kind))
    if not kinds:
        return "Deployed as given: nothing to fold or fuse."
    return "Folded: " + ", ".join(f"{f.count} x {f.kind}" for f in kinds) + "."


RAM_FIT_TITLE = "Does it fit in RAM? (weights + activation peak + KV cache + what the system and runtime hold)"
RAM_FIT_HEADERS = ("device", "needs", "weights", "activations", "KV cache", "system + runtime", "RAM", "fits")


def ram_fit_rows(mem: MemoryReport) -> list[tuple[str, str, str, str, str, str, str, str]]:
    """One row per device with a RAM size: what the model needs, its parts, the RAM and a verdict."""
    rows = []
    for f in mem.predicted.ram_fits:
        bound = ">= " if f.is_lower_bound else ""
        verdict = "yes" if f.fits else f"no: short by {human(-f.margin_bytes, 'B')}"
        if f.fits and f.is_lower_bound:
            verdict = "not known: some tensors unsized"
        device = f.device_id if f.precision == "stored" else f"{f.device_id} ({f.precision}, what-if)"
        rows.append((device, bound + human(f.needs_bytes, "B"), human(f.weight_bytes, "B"),
                     human(f.peak_activation_bytes, "B"), human(f.kv_cache_bytes, "B") if f.kv_cache_bytes else "-",
                     f"{human(f.system_bytes, 'B')} ({f.system_source.split(':')[0]})", human(f.ram_bytes, "B"),
                     verdict))
    return rows


def precision_rows(mem: MemoryReport) -> list[tuple[str, str, int, int, int]]:
    """(precision, weight/activation dtypes, weight bytes, peak activation bytes, peak bytes) rows."""
    return [
        (p.precision, f"{p.weight_dtype} / {p.activation_dtype}", p.weight_bytes, p.peak_activation_bytes, p.peak_bytes)
        for p in mem.predicted.by_precision
    ]


def llm_rows(llm: LLMFigures) -> list[tuple[str, int, str]]:
    """A decoder LLM's figures as (figure, value, unit) rows, shared by the renderers."""
    return [
        (f"prefill, {llm.context_len} tokens (logits: {llm.prefill_logits})", llm.prefill_flops, "FLOPs"),
        ("prefill", llm.prefill_macs, "MACs"),
        (f"decode, per token at context {llm.context_len}", llm.decode_flops_per_token, "FLOPs"),
        ("decode, per token", llm.decode_macs_per_token, "MACs"),
        (f"KV cache per token ({llm.kv_dtype}, {llm.num_layers} layers x {llm.num_kv_heads} KV heads x "
         f"{llm.head_dim})", llm.kv_cache_bytes_per_token, "B"),
        (f"KV cache at {llm.context_len} tokens, batch {llm.batch}", llm.kv_cache_bytes, "B"),
        ("weights at fp32", llm.weight_bytes.fp32, "B"),
        ("weights at fp16", llm.weight_bytes.fp16, "B"),
        ("weights at int8", llm.weight_bytes.int8, "B"),
        ("weights at int4", llm.weight_bytes.int4, "B"),
    ]
