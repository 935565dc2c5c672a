"""Predicted vs published on-device latency: the catalogue's roofline against
``benchmarks/data/published_latency.csv``, with the figures fitted on part of the rows.

Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/device_accuracy.py            # the table and the summary
    PYTHONPATH=src .venv/bin/python benchmarks/device_accuracy.py --fit      # also fit, print the fitted figures
    PYTHONPATH=src .venv/bin/python benchmarks/device_accuracy.py --verify   # re-profile, check vs predict_latency

1. Each row whose model can be built offline (``benchmarks/device_models.py``) is built at the row's
   input shape: ``fp32`` as built, ``int8``/``w8a8`` quantised to QDQ (int8 kernels in the deployed
   graph). ``fp16`` rows (and AI Hub ``mixed`` = w8a16 rows, whose 16-bit activations move like
   fp16) use the fp32 graph with every float kernel re-typed to fp16: the fp16 rate and half the
   bytes. ONNX's float16 converter (``onnxconverter_common``) is not installed here, so this is done
   on the kernel list (the same roofline formula as :mod:`edgeprof.passes.latency`).
2. The deployed kernels (``edgeprof.profile`` then the roofline with unit rates) are cached under
   ``benchmarks/.cache/device_kernels``; the prediction on a catalogue device is
   ``sum(max(ops / (peak x efficiency), bytes / (bandwidth x bandwidth efficiency)) + per-node x calls)
   + per-inference``. ``--verify`` re-profiles every model and checks, for the fp32 and int8 rows,
   that this equals ``edgeprof.predict_latency`` to 1e-6.
3. Split: a row is **held out** when ``sha256("<device>|<model>")`` is 0 mod 3 (whole device/model
   groups: every precision and runtime of that model on that device), else it is a **fit** row.
4. ``--fit``: per fitting group (devices sharing figures), the per-precision compute efficiency, the
   bandwidth efficiency, the per-node and the per-inference overhead minimise the sum of squared
   log errors over the group's fit rows (coordinate search on bounded log grids). Rates the catalogue
   already gives as effective (measured on a network) keep efficiency 1.0.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import math
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

DATA = ROOT / "benchmarks" / "data" / "published_latency.csv"
KERNELS = ROOT / "benchmarks" / ".cache" / "device_kernels"
PRECS = ("fp32", "fp16", "int8")
COMMAND = "benchmarks/device_accuracy.py --fit"

# csv device -> catalogue device (rows whose device is not here are skipped with the reason in SKIP_DEVICE)
DEVICE_MAP = {
    "rpi4": "rpi4", "rpi5": "rpi5", "jetson-nano": "jetson-nano", "orin-nano": "orin-nano",
    "sd8gen2-npu": "sd8gen2-npu", "sd8gen3": "sd8gen3", "coral": "coral",
    "coral-devboard": "coral",  # the same Edge TPU; the catalogue's coral entry covers USB, M.2 and PCIe
    "cortex-m4": "cortex-m4", "stm32h7a3": "stm32h7a3", "esp32-s3": "esp32-s3",
}
SKIP_DEVICE = {
    "esp32": "no catalogue device (ESP32 LX6 without vector MACs: its int8 rate would be a guess checked by 2 rows)",
    "esp32-c3": "no catalogue device (ESP32-C3 RISC-V: its int8 rate would be a guess checked by 2 rows)",
}
SKIP_ROW = {
    "ncnn-087": "the source's run is noisy (avg 33.88 ms, min 9.00, max 72.98); data/README.md: not for fitting",
}
SKIP_RUNTIME = {
    "tflm": "TFLite Micro reference kernels (no ESP-NN): 10-40x slower than the same chip's optimised row, "
            "a runtime property, not a device figure",
}
# (group, devices): the devices of a group share the fitted figures
GROUPS: dict[str, tuple[str, ...]] = {
    "sbc": ("rpi4", "rpi5"),
    "gpu-module": ("jetson-nano", "orin-nano"),
    "phone-npu": ("sd8gen2-npu", "sd8gen3"),
    "mcu": ("cortex-m4", "stm32h7a3", "esp32-s3"),
}
# devices whose figures are not fitted: every row of theirs is out of sample (held out)
NOT_FITTED = {
    "coral": "the roofline charges every kernel's bytes to the Edge TPU's host link (the catalogue's coral bandwidth), "
             "where the device keeps parameters (8 MB SRAM) and activations on chip: no efficiency or overhead can fit "
             "that; it needs the accelerator partition model (another change, #14)",
}
# rates the catalogue gives as effective (reached on a network in AI Hub): efficiency stays 1.0
EFFECTIVE = {("sd8gen2-npu", "fp16"), ("sd8gen2-npu", "int8"), ("sd8gen3", "fp16")}
BOUNDS = {"eff": (0.02, 1.0), "bw": (0.05, 1.0), "node": (0.1e-6, 300e-6), "inf": (1e-6, 5e-3)}


@dataclass
class Row:
    id: str
    device: str
    target: str
    model: str
    shape: tuple[int, ...]
    precision: str
    runtime: str
    published_ms: float
    source: str
    url: str
    graph: str = ""  # fp32 or int8: the ONNX graph built
    as_prec: str = ""  # the precision class the float kernels run at (fp16 for fp16 and mixed rows)
    split: str = ""
    skip: str = ""


@dataclass
class Kernels:
    """The deployed kernels of one graph: ops, boundary bytes, calls, precision class, category."""

    ops: np.ndarray
    bytes: np.ndarray
    calls: np.ndarray
    prec: list[str]
    category: list[str]
    float_kernel: np.ndarray  # float32-class kernels (re-typed for fp16 rows)
    lower_bound: bool  # the profile itself is a lower bound (uncounted layers, unknown branches)

    def as_precision(self, as_prec: str) -> Kernels:
        if as_prec != "fp16":
            return self
        prec = ["fp16" if f else p for p, f in zip(self.prec, self.float_kernel, strict=True)]
        scale = np.where(self.float_kernel, 0.5, 1.0)
        return dataclasses.replace(self, bytes=self.bytes * scale, prec=prec)


def split_of(device: str, model: str) -> str:
    h = int(hashlib.sha256(f"{device}|{model}".encode()).hexdigest(), 16)
    return "held-out" if h % 3 == 0 else "fit"


def read_rows() -> list[Row]:
    from device_models import can_build

    rows = []
    with DATA.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            prec = r["precision"]
            row = Row(r["id"], r["device"], DEVICE_MAP.get(r["device"], ""), r["model"],
                      tuple(int(x) for x in r["input_shape"].split("x")), prec, r["runtime"], float(r["latency_ms"]),
                      r["source_title"], r["source_url"],
                      graph="int8" if prec in ("int8", "w8a8") else "fp32",
                      as_prec="fp16" if prec in ("fp16", "mixed") else ("int8" if prec in ("int8", "w8a8") else "fp32"))
            row.split = "held-out" if row.target in NOT_FITTED else split_of(row.device, row.model)
            row.skip = (SKIP_ROW.get(row.id) or SKIP_DEVICE.get(row.device) or SKIP_RUNTIME.get(row.runtime)
                        or can_build(row.model))
            if not row.skip and row.device == "orin-nano" and r["accelerator"] == "cpu":
                row.skip = "ran on the Orin Nano's Cortex-A78AE CPU; the catalogue's orin-nano gives GPU rates only"
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# kernels


def _unit_device() -> Any:
    from edgeprof.devices.catalogue import Device, Figure

    one = Figure(1.0, "assumed", "unit")
    return Device("unit", "unit", "", "host", peak_fp32_flop_per_s=one, peak_fp16_flop_per_s=one,
                  peak_int8_op_per_s=one, memory_bandwidth_bytes_per_s=one, bandwidth_efficiency=one,
                  per_node_overhead_s=one, per_inference_overhead_s=Figure(1e-300, "assumed", "unit"))


def _profile(path: Path, shape_inputs: Mapping[str, tuple[int, ...]]) -> Any:
    import edgeprof

    return edgeprof.profile(str(path), input_shapes=dict(shape_inputs), memory=False)


def _input_shapes(model: str, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    if model in ("bert_base", "mobilebert"):
        return {"input_ids": shape, "attention_mask": shape}
    if model == "whisper_tiny_encoder":
        return {"input_features": shape}
    if model.startswith("mlperf_tiny"):
        return {"input": shape}
    return {"pixel_values": shape}


def kernels_of(profile: Any) -> Kernels:
    """The deployed kernels, read off edgeprof's own roofline on a device with unit rates."""
    from edgeprof.passes.latency import is_float32_class, precision_class, predict

    pred = predict(profile, _unit_device())
    ops, moved, calls, prec, cat, flt = [], [], [], [], [], []
    for lat in pred.layers:
        if lat.bound == "fused":
            continue
        ops.append(lat.compute_s or 0.0)
        moved.append(lat.memory_s or 0.0)
        calls.append(lat.overhead_s)
        prec.append(precision_class(lat.precision))
        cat.append(lat.category)
        flt.append(is_float32_class(lat.precision) and lat.precision.lower() not in ("",))
    return Kernels(np.array(ops), np.array(moved), np.array(calls), prec, cat, np.array(flt, dtype=bool),
                   bool(profile.totals.is_lower_bound or any("not counted" in m or "If branches" in m
                                                             for m in pred.missing)))


def load_kernels(row: Row, verify: bool) -> tuple[Kernels, Any]:
    """The row's graph's kernels (cached) and, with ``verify``, its fresh profile."""
    from device_models import build_onnx

    KERNELS.mkdir(parents=True, exist_ok=True)
    stem = f"{row.model}_{'x'.join(map(str, row.shape))}_{row.graph}"
    cache = KERNELS / f"{stem}.json"
    if cache.exists() and not verify:
        d = json.loads(cache.read_text())
        return Kernels(np.array(d["ops"]), np.array(d["bytes"]), np.array(d["calls"]), d["prec"], d["category"],
                       np.array(d["float"], dtype=bool), d["lower_bound"]), None
    path = build_onnx(row.model, row.shape, row.graph)
    prof = _profile(path, _input_shapes(row.model, row.shape))
    k = kernels_of(prof)
    cache.write_text(json.dumps({"ops": k.ops.tolist(), "bytes": k.bytes.tolist(), "calls": k.calls.tolist(),
                                 "prec": k.prec, "category": k.category, "float": k.float_kernel.tolist(),
                                 "lower_bound": k.lower_bound}))
    return k, prof


# ---------------------------------------------------------------------------------------------
# the roofline on the kernel list


@dataclass
class Params:
    """The latency figures of one device: peaks, efficiencies per precision (or per key), overheads."""

    peak: dict[str, float]
    eff: dict[str, float]
    bandwidth: float  # attainable: bandwidth x bandwidth efficiency (0: none)
    node: float
    inf: float
    eff_lookup: Any = None  # (prec, category) -> efficiency, when the device has category keys


def device_params(device: Any) -> Params:
    peak = {p: fig.value for p in PRECS if (fig := device.peak_rate(p)) is not None}
    eff = {p: (f.value if (f := device.efficiency_for(p, "default")) is not None else 1.0) for p in PRECS}
    bw = device.memory_bandwidth_bytes_per_s
    bwe = device.bandwidth_efficiency
    return Params(peak, eff, (bw.value * (bwe.value if bwe else 1.0)) if bw else 0.0,
                  device.per_node_overhead_s.value if device.per_node_overhead_s else 0.0,
                  device.per_inference_overhead_s.value if device.per_inference_overhead_s else 0.0,
                  eff_lookup=lambda p, c: (f.value if (f := device.efficiency_for(p, c)) is not None else 1.0))


def predict_s(k: Kernels, par: Params) -> tuple[float, bool]:
    """Predicted seconds and whether it is a lower bound (no rate for a precision, no bandwidth)."""
    rates = np.array([par.peak.get(p, 0.0) * (par.eff_lookup(p, c) if par.eff_lookup else par.eff.get(p, 1.0))
                      for p, c in zip(k.prec, k.category, strict=True)])
    no_rate = (rates <= 0) & (k.ops > 0)
    compute = np.where(rates > 0, k.ops / np.where(rates > 0, rates, 1.0), 0.0)
    memory = k.bytes / par.bandwidth if par.bandwidth > 0 else np.zeros_like(k.bytes)
    total = float(np.maximum(compute, memory).sum() + par.node * k.calls.sum() + par.inf)
    return total, bool(no_rate.any() or par.bandwidth <= 0 or k.lower_bound)


# ---------------------------------------------------------------------------------------------
# the fit


MIN_SHARE = 0.2  # a precision's efficiency is fitted only where it does at least this share of some fit row's ops


def _ops_share(k: Kernels, prec: str) -> float:
    total = float(k.ops.sum())
    return float(k.ops[[p == prec for p in k.prec]].sum()) / total if total > 0 else 0.0


def _grid(lo: float, hi: float, n: int = 48) -> np.ndarray:
    return np.exp(np.linspace(math.log(lo), math.log(hi), n))


def fit_group(rows: Sequence[Row], kernels: Mapping[str, Kernels], devices: Mapping[str, Any]) -> dict[str, Any]:
    """Least squares on log latency over ``rows`` (all of one group): shared efficiencies per precision,
    bandwidth efficiency, per-node and per-inference overhead. Returns the fitted values and the rows used."""
    base = {r.target: device_params(devices[r.target]) for r in rows}
    raw_bw = {d: (devices[d].memory_bandwidth_bytes_per_s.value if devices[d].memory_bandwidth_bytes_per_s else 0.0)
              for d in base}
    used = sorted({p for r in rows for p in PRECS if (r.target, p) not in EFFECTIVE and p in base[r.target].peak
                   and _ops_share(kernels[r.id], p) >= MIN_SHARE})
    theta: dict[str, float] = {f"eff.{p}": 0.3 for p in used}
    if any(raw_bw.values()):
        theta["bw"] = 0.5
    theta["node"] = 5e-6
    theta["inf"] = 50e-6

    def params(dev: str, th: Mapping[str, float]) -> Params:
        b = base[dev]
        eff = {p: (1.0 if (dev, p) in EFFECTIVE else th.get(f"eff.{p}", b.eff[p])) for p in PRECS}
        return Params(b.peak, eff, raw_bw[dev] * th.get("bw", 1.0), th["node"], th["inf"])

    def cost(th: Mapping[str, float]) -> float:
        err = [math.log(predict_s(kernels[r.id], params(r.target, th))[0] * 1e3 / r.published_ms) for r in rows]
        return float(sum(e * e for e in err))

    grids = {name: _grid(*BOUNDS[name.split(".")[0]]) for name in theta}
    best = cost(theta)
    for _ in range(6):
        changed = False
        for name, grid in grids.items():
            for v in grid:
                trial = {**theta, name: float(v)}
                c = cost(trial)
                if c < best - 1e-12:
                    best, theta, changed = c, trial, True
        if not changed:
            break
    return {"theta": theta, "cost": best, "rows": [r.id for r in rows], "params": {d: params(d, theta) for d in base}}


def _sig(v: float) -> str:
    return f"{float(f'{v:.2g}'):g}"


def toml_lines(group: str, res: Mapping[str, Any], devices: Mapping[str, Any], held_out: Sequence[str]) -> str:
    """The fitted figures of ``group`` as catalogue.toml lines, one block per device."""
    theta, ids = res["theta"], ", ".join(res["rows"])
    devs = GROUPS[group]
    why = (f"fitted ({COMMAND}): least squares on log latency over the fit rows of group {group} "
           f"({', '.join(devs)}) of benchmarks/data/published_latency.csv: {ids}; held out: {', '.join(held_out)}")
    out = []
    for d in devs:
        dev = devices[d]

        def was(fig: Any) -> str:
            return f"; was {fig.value:g} [{fig.tag}] {fig.source}" if fig is not None else ""

        eff = {}
        default = dev.efficiency_for("fp32", "default")
        for p in PRECS:
            if (d, p) in EFFECTIVE:
                eff[f"{p}:default"] = ("1.0", "derived", f"the {p} rate of this device is already effective (reached "
                                       "on a network in AI Hub): no efficiency on top of it (issue #14: no double "
                                       "discount)")
            elif f"eff.{p}" in theta and dev.peak_rate(p) is not None:
                v = theta[f"eff.{p}"]
                edge = " (at the search's upper bound 1: the peak itself)" if v >= BOUNDS["eff"][1] else ""
                eff[f"{p}:default"] = (_sig(v), "fitted", why + edge + was(dev.efficiency_for(p, "default")))
        if default is not None:
            eff["default"] = (f"{default.value:g}", default.tag, default.source + " (not fitted: no fit row runs "
                              "mostly at the other precisions)")
        items = ", ".join(f'"{k}" = {{ value = {v}, tag = "{tg}", source = {json.dumps(s)} }}'
                          for k, (v, tg, s) in eff.items())
        lines = [f"# {d}", f"efficiency = {{ {items} }}"]
        for key, field_name in (("bw", "bandwidth_efficiency"), ("node", "per_node_overhead_s"),
                                ("inf", "per_inference_overhead_s")):
            if key in theta:
                lo, hi = BOUNDS[key]
                edge = (f" (at the search's lower bound {lo:g}: the rows only say it is at most this)" if theta[key] <= lo
                        else f" (at the search's upper bound {hi:g})" if theta[key] >= hi else "")
                lines.append(f'{field_name} = {{ value = {_sig(theta[key])}, tag = "fitted", source = '
                             f"{json.dumps(why + edge + was(getattr(dev, field_name)))} }}")
        out.append("\n".join(lines))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# report


def factor_off(pred_ms: float, pub_ms: float) -> float:
    r = pred_ms / pub_ms
    return max(r, 1 / r)


def summary(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "no rows"
    off = [r["off"] for r in rows]
    within = sum(o <= 2 for o in off)
    lb_above = sum(1 for r in rows if r["lower_bound"] and r["pred_ms"] > r["published_ms"])
    return (f"{len(rows)} rows: median factor off {statistics.median(off):.2f}x, within 2x {within}/{len(rows)} "
            f"({100 * within / len(rows):.0f} %), lower bounds above the published figure: {lb_above}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="fit the figures on the fit rows and print them")
    parser.add_argument("--verify", action="store_true", help="re-profile and check against edgeprof.predict_latency")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--toml", metavar="FILE", help="with --fit: append the fitted figures as catalogue.toml lines")
    args = parser.parse_args(argv)

    from edgeprof.devices.catalogue import load_catalogue

    started = time.perf_counter()
    catalogue = load_catalogue()
    rows = read_rows()
    kernels: dict[str, Kernels] = {}
    real: dict[str, tuple[float, bool]] = {}  # with --verify: edgeprof.predict_latency itself (partitions included)
    mismatched: list[str] = []
    for row in rows:
        if row.skip:
            continue
        if row.target not in catalogue.devices:
            row.skip = f"no catalogue device {row.target!r}"
            continue
        print(f"profile: {row.id} {row.model} {row.graph}", file=sys.stderr)
        k, prof = load_kernels(row, args.verify)
        kernels[row.id] = k.as_precision(row.as_prec)
        if prof is not None and args.verify and row.as_prec != "fp16":
            import edgeprof

            got = edgeprof.predict_latency(prof, [row.target]).latency.predicted[row.target]  # type: ignore[union-attr]
            real[row.id] = (got.total_s, got.is_lower_bound)
            mine, lb = predict_s(kernels[row.id], device_params(catalogue.get(row.target)))
            if not math.isclose(got.total_s, mine, rel_tol=1e-6) or got.is_lower_bound != lb:
                mismatched.append(row.id)  # a partitioned runtime (an accelerator with a host fallback)

    fitted: dict[str, Params] = {}  # with --fit: the table uses the fitted figures, not the catalogue's
    if args.fit:
        for group, devs in GROUPS.items():
            fit_rows = [r for r in rows if not r.skip and r.split == "fit" and r.target in devs]
            if not fit_rows:
                continue
            res = fit_group(fit_rows, kernels, catalogue.devices)
            th = ", ".join(f"{k} = {v:.3g}" for k, v in res["theta"].items())
            print(f"fit {group} ({len(fit_rows)} rows, sum of squared log errors {res['cost']:.3f}): {th}")
            print(f"  rows: {', '.join(res['rows'])}")
            fitted.update(res["params"])
            if args.toml:
                held = [r.id for r in rows if not r.skip and r.split == "held-out" and r.target in devs]
                with open(args.toml, "a", encoding="utf-8") as f:
                    f.write(toml_lines(group, res, catalogue.devices, held) + "\n")
        print()

    out: list[dict[str, Any]] = []
    print("| id | device | model | precision | runtime | published ms | predicted ms | pred/pub | off | lower bound "
          "| split | source |")
    print("|---|---|---|---|---|---:|---:|---:|---:|---|---|---|")
    for row in rows:
        if row.skip:
            continue
        if row.id in real and row.target not in fitted:
            pred_s, lb = real[row.id]
        else:
            pred_s, lb = predict_s(kernels[row.id], fitted.get(row.target) or device_params(catalogue.get(row.target)))
        pred_ms = pred_s * 1e3
        dev = row.device if row.device == row.target else f"{row.device} (as {row.target})"
        rec = {"id": row.id, "device": dev, "target": row.target, "model": row.model, "precision": row.precision, "runtime": row.runtime,
               "published_ms": row.published_ms, "pred_ms": pred_ms, "ratio": pred_ms / row.published_ms,
               "off": factor_off(pred_ms, row.published_ms), "lower_bound": lb, "split": row.split,
               "source": row.source, "url": row.url}
        out.append(rec)
        print(f"| {row.id} | {dev} | {row.model} | {row.precision} | {row.runtime} | {row.published_ms:g} | "
              f"{'>= ' if lb else ''}{pred_ms:.3g} | {rec['ratio']:.2f} | {rec['off']:.2f} | {'yes' if lb else ''} | "
              f"{row.split} | {row.source} |")
    print()
    print(f"fit:      {summary([r for r in out if r['split'] == 'fit'])}")
    print(f"held-out: {summary([r for r in out if r['split'] == 'held-out'])}")
    print(f"held-out without {', '.join(NOT_FITTED)}: "
          f"{summary([r for r in out if r['split'] == 'held-out' and r['target'] not in NOT_FITTED])}")
    for group, devs in {**GROUPS, **{d: (d,) for d in NOT_FITTED}}.items():
        for split in ("fit", "held-out"):
            sel = [r for r in out if r["split"] == split and r["target"] in devs]
            if sel:
                print(f"  {group:10s} {split:8s} {summary(sel)}")
    if args.verify:
        print(f"verified against edgeprof.predict_latency: {len(real)} rows; the fit's roofline formula differs on "
              f"{len(mismatched)} (partitioned runtimes: {', '.join(mismatched) or 'none'}), whose table figure is "
              "edgeprof's own prediction")
    print()
    reasons: dict[str, list[str]] = {}
    for row in rows:
        if row.skip:
            reasons.setdefault(row.skip, []).append(row.id)
    skipped = sum(len(v) for v in reasons.values())
    print(f"skipped {skipped} of {len(rows)} rows:")
    for why, ids in reasons.items():
        print(f"- {len(ids)} rows ({', '.join(ids)}): {why}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
