"""Benchmark edgeprof's PyTorch frontend against fvcore, ptflops, thop, torchinfo, torchprofile and
torch's own FlopCounterMode on the same models.

For every model and tool a fresh Python subprocess builds the model (random init, on the CPU:
the other tools need real tensors), runs the tool once and writes its figures to a JSON file;
the parent records the tool's own time (measured in the child, model construction excluded)
and the child's peak RSS (``ru_maxrss`` from ``os.wait4``; the parent never imports torch).
The reference MACs come from forward hooks on every Conv2d/Linear plus the attention matmuls
and recurrent gate matmuls in closed form.

    .venv/bin/python benchmarks/torch_compare.py                 # all models -> docs/pytorch.md
    .venv/bin/python benchmarks/torch_compare.py resnet50 lstm   # some of them
    .venv/bin/python benchmarks/torch_compare.py --no-doc        # print the table only

The benchmark needs ``pip install fvcore ptflops thop torchinfo torchprofile`` (benchmark-only
dependencies).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "pytorch.md"
BEGIN, END = "<!-- torch-compare:begin -->", "<!-- torch-compare:end -->"
MODELS = ("resnet50", "mobilenet_v2", "vit_b16", "bert_base", "gpt2_small", "lstm")
TOOLS = ("edgeprof", "FlopCounterMode", "fvcore", "ptflops", "thop", "torchinfo", "torchprofile")
# What each tool's headline number is, as the tool names it, and how it relates to MACs.
UNIT = {
    "edgeprof": ("macs", 1), "FlopCounterMode": ("FLOPs = 2 x MACs (matmul/conv only)", 2),
    "fvcore": ('"flops" (= MACs)', 1), "ptflops": ('"MACs"', 1), "thop": ('"MACs"', 1),
    "torchinfo": ('"mult-adds"', 1), "torchprofile": ('"MACs"', 1),
}


# ---------------------------------------------------------------------------------------------
# child side


def build(name: str) -> tuple[Any, tuple[Any, ...], int]:
    """The model, its example inputs and the reference MACs."""
    import torch
    import torch.nn as nn
    import transformers as tf

    torch.manual_seed(0)
    if name == "resnet50":
        cfg = tf.ResNetConfig(num_labels=1000, layer_type="bottleneck", depths=[3, 4, 6, 3],
                              hidden_sizes=[256, 512, 1024, 2048], embedding_size=64)
        model, x, extra = tf.ResNetForImageClassification(cfg), (torch.randn(1, 3, 224, 224),), 0
    elif name == "mobilenet_v2":
        model = tf.MobileNetV2ForImageClassification(tf.MobileNetV2Config(num_labels=1000, tf_padding=True))
        x, extra = (torch.randn(1, 3, 224, 224),), 0
    elif name == "vit_b16":
        model = tf.ViTForImageClassification(tf.ViTConfig(num_labels=1000, attn_implementation="sdpa"))
        x, extra = (torch.randn(1, 3, 224, 224),), 12 * 2 * 197 * 197 * 768
    elif name == "bert_base":
        model = tf.BertModel(tf.BertConfig(attn_implementation="sdpa"))
        x, extra = (torch.zeros(1, 128, dtype=torch.long),), 12 * 2 * 128 * 128 * 768
    elif name == "gpt2_small":
        model = tf.GPT2LMHeadModel(tf.GPT2Config(attn_implementation="sdpa"))
        x, extra = (torch.zeros(1, 1024, dtype=torch.long),), 12 * 2 * 1024 * 1024 * 768
        # GPT-2's Conv1D layers are matmuls with a (in, out) weight: hooks below cover Linear only
        extra += 12 * 1024 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072)
    elif name == "lstm":
        class Tagger(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn = nn.LSTM(256, 512, num_layers=2, bidirectional=True, batch_first=True)
                self.out = nn.Linear(1024, 64)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.out(self.rnn(x)[0])

        model, x = Tagger(), (torch.randn(1, 100, 256),)
        extra = 100 * 2 * 4 * 512 * ((256 + 512) + (1024 + 512))  # gate matmuls of both layers
    else:
        raise SystemExit(f"unknown model {name}")
    model.eval()
    return model, x, _hook_macs(model, x) + extra


def _hook_macs(model: Any, x: tuple[Any, ...]) -> int:
    import torch
    import torch.nn as nn

    total = 0

    def hook(m: Any, _i: Any, out: Any) -> None:
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            total += out.numel() * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(*x)
    finally:
        for h in handles:
            h.remove()
    return total


def run_tool(tool: str, model: Any, x: tuple[Any, ...]) -> dict[str, Any]:
    import torch

    if tool == "edgeprof":
        import edgeprof

        p = edgeprof.profile(model, example_inputs=x)
        return {"number": p.totals.macs, "params": p.totals.params, "flops": p.totals.flops,
                "skipped": sum(n.count for n in p.not_counted)}
    if tool == "FlopCounterMode":
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(*x)
        return {"number": counter.get_total_flops(), "params": None}
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        a = FlopCountAnalysis(model, x)
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        return {"number": int(a.total()), "params": None, "skipped": sum(a.unsupported_ops().values())}
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        macs, params = get_model_complexity_info(model, tuple(x[0].shape), as_strings=False,
                                                 print_per_layer_stat=False, verbose=False,
                                                 input_constructor=lambda _s: {_first_arg(model): x[0]})
        return {"number": int(macs or 0), "params": int(params or 0)}
    if tool == "thop":
        from thop import profile

        macs, params = profile(model, inputs=x, verbose=False)
        return {"number": int(macs), "params": int(params)}
    if tool == "torchinfo":
        from torchinfo import summary

        s = summary(model, input_data=list(x), verbose=0)
        return {"number": int(s.total_mult_adds), "params": int(s.total_params)}
    if tool == "torchprofile":
        from torchprofile import profile_macs

        return {"number": int(profile_macs(model, x)), "params": None}
    raise SystemExit(f"unknown tool {tool}")


def _first_arg(model: Any) -> str:
    import inspect

    return next(iter(inspect.signature(model.forward).parameters))


def child(tool: str, name: str, out: str) -> None:
    import warnings

    warnings.simplefilter("ignore")
    model, x, reference = build(name)
    t0 = time.perf_counter()
    try:
        result = run_tool(tool, model, x)
        result["error"] = ""
    except Exception as exc:  # a tool that cannot handle the model: report it, do not crash
        result = {"number": None, "params": None, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"}
    result["tool_s"] = time.perf_counter() - t0
    result["reference_macs"] = reference
    Path(out).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# parent side


def measure(tool: str, name: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        proc = subprocess.Popen([sys.executable, __file__, "--child", tool, name, str(out)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0 or not out.exists():
            return {"number": None, "error": f"exit status {status}", "rss_mb": usage.ru_maxrss / 1024}
        result: dict[str, Any] = json.loads(out.read_text())
        result["rss_mb"] = usage.ru_maxrss / 1024
        return result


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = []
    for name, by_tool in results.items():
        ref = next((r["reference_macs"] for r in by_tool.values() if r.get("reference_macs")), None)
        lines.append(f"\n**{name}** (reference: {ref:,} MACs)\n" if ref else f"\n**{name}**\n")
        lines.append("| tool | reports | as MACs vs reference | tool time | peak RSS |")
        lines.append("| --- | ---: | ---: | ---: | ---: |")
        for tool, r in by_tool.items():
            unit, factor = UNIT[tool]
            if r.get("number") is None:
                lines.append(f"| {tool} | failed: {r.get('error', '')} | | | {r.get('rss_mb', 0):.0f} MB |")
                continue
            ratio = r["number"] / factor / ref if ref else 0.0
            note = f" ({r['skipped']} op calls skipped)" if r.get("skipped") else ""
            lines.append(f"| {tool} | {r['number']:,} {unit}{note} | {ratio:.4f} | {r['tool_s']:.2f} s "
                         f"| {r['rss_mb']:.0f} MB |")
    return "\n".join(lines)


def write_doc(text: str, doc: Path) -> None:
    body = doc.read_text()
    if BEGIN not in body or END not in body:
        raise SystemExit(f"{doc} has no {BEGIN} ... {END} markers")
    head, rest = body.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--tools", nargs="*", default=list(TOOLS))
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in args.models:
        results[name] = {}
        for tool in args.tools:
            results[name][tool] = measure(tool, name)
            print(name, tool, results[name][tool], file=sys.stderr)
    header = (f"Measured on {platform.machine()} ({os.cpu_count()} CPUs), Python {platform.python_version()}, "
              f"with `{' '.join(['.venv/bin/python', 'benchmarks/torch_compare.py', *sys.argv[1:]])}`.")
    text = header + "\n" + table(results)
    if args.no_doc:
        print(text)
    else:
        write_doc(text, DOC)
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
