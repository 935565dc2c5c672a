"""Profile a 13B-parameter GPT-style (Llama) config without allocating it: time and peak memory.

A child process builds LlamaForCausalLM (hidden 5120, 40 layers, 40 heads, intermediate 13824,
vocab 32000, fp16) from a config.json on the meta device and profiles it at 1024 tokens, then
computes the LLM figures (prefill at 1024 tokens, one decode step against a 1024-token KV
cache). The parent records the child's wall time and peak RSS (``ru_maxrss`` from ``os.wait4``;
the parent imports neither torch nor edgeprof) and writes the table into docs/pytorch.md.

    .venv/bin/python benchmarks/torch_13b.py            # -> docs/pytorch.md
    .venv/bin/python benchmarks/torch_13b.py --no-doc   # print only
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "pytorch.md"
BEGIN, END = "<!-- torch-13b:begin -->", "<!-- torch-13b:end -->"
CONFIG = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 5120, "num_hidden_layers": 40,
    "num_attention_heads": 40, "num_key_value_heads": 40, "intermediate_size": 13824, "vocab_size": 32000,
    "max_position_embeddings": 4096, "dtype": "float16",
}
SEQ_LEN = 1024


def child(config: str, out: str) -> None:
    t0 = time.perf_counter()
    import edgeprof
    from edgeprof.api import llm_figures_for

    t1 = time.perf_counter()
    p = edgeprof.profile(config, seq_len=SEQ_LEN)
    t2 = time.perf_counter()
    f = llm_figures_for(config, SEQ_LEN)
    t3 = time.perf_counter()
    Path(out).write_text(json.dumps({
        "import_s": t1 - t0, "profile_s": t2 - t1, "llm_s": t3 - t2, "params": p.totals.params,
        "flops": p.totals.flops, "macs": p.totals.macs, "not_counted": len(p.not_counted),
        "prefill_flops": f.prefill_flops, "decode_flops": f.decode_flops_per_token,
        "kv_per_token": f.kv_cache_bytes_per_token, "kv_bytes": f.kv_cache_bytes, "fp16": f.weight_bytes.fp16,
    }))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    with tempfile.TemporaryDirectory() as tmp:
        config, out = Path(tmp) / "config.json", Path(tmp) / "out.json"
        config.write_text(json.dumps(CONFIG))
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(config), str(out)], env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"the child failed with status {status}")
        r = json.loads(out.read_text())
    rss_mb = usage.ru_maxrss / 1024
    text = "\n".join([
        f"Measured on {platform.machine()} ({os.cpu_count()} CPUs), Python {platform.python_version()}, with "
        f"`.venv/bin/python benchmarks/torch_13b.py`:",
        "",
        "| what | value |",
        "| --- | ---: |",
        f"| parameters | {r['params']:,} |",
        f"| forward at {SEQ_LEN} tokens (logits for every position) | {r['flops']:,} FLOPs, {r['macs']:,} MACs |",
        f"| ops not counted | {r['not_counted']} |",
        f"| prefill at {SEQ_LEN} tokens (last logits only) | {r['prefill_flops']:,} FLOPs |",
        f"| decode, per token at a {SEQ_LEN}-token context | {r['decode_flops']:,} FLOPs |",
        f"| KV cache (fp16) | {r['kv_per_token']:,} B per token, {r['kv_bytes']:,} B at {SEQ_LEN} tokens |",
        f"| weights at fp16 | {r['fp16']:,} B |",
        f"| `import edgeprof` and its torch + transformers frontend | {r['import_s']:.2f} s |",
        f"| `edgeprof.profile(config.json, seq_len={SEQ_LEN})` (build on meta + trace + count) | {r['profile_s']:.2f} s |",
        f"| `llm_figures_for(config.json, {SEQ_LEN})` (two more builds and traces) | {r['llm_s']:.2f} s |",
        f"| whole child process, wall | {wall:.2f} s |",
        f"| whole child process, peak RSS | {rss_mb:.0f} MB |",
    ])
    if "--no-doc" in sys.argv:
        print(text)
        return
    body = DOC.read_text()
    head, rest = body.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    print(text)


if __name__ == "__main__":
    main()
