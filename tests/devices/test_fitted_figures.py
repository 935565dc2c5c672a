"""Fitted catalogue figures name the published rows they were fitted on (issue #14 part 7)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from edgeprof.devices.catalogue import TAGS, load_catalogue

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "published_latency.csv"
ROW_ID = re.compile(r"\b(?:aihub|tiny|ncnn|ultra|coral|esp|qeng)-\d{3}\b")


def _row_ids() -> set[str]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return {r["id"] for r in csv.DictReader(f)}


def test_fitted_is_an_accepted_tag() -> None:
    assert "fitted" in TAGS


def test_every_fitted_figure_names_existing_rows_and_the_command() -> None:
    ids = _row_ids()
    fitted = 0
    for dev in load_catalogue().devices.values():
        for name, fig in dev.figures().items():
            if fig.tag != "fitted":
                continue
            fitted += 1
            fit_part = fig.source.split("held out:")[0]
            named = set(ROW_ID.findall(fit_part))
            assert named, f"{dev.id}.{name}: a fitted figure must name the rows it was fitted on"
            assert named <= ids, f"{dev.id}.{name}: rows not in published_latency.csv: {sorted(named - ids)}"
            held = set(ROW_ID.findall(fig.source.split("held out:")[1].split(";")[0])) if "held out:" in fig.source \
                else set()
            assert not named & held, f"{dev.id}.{name}: a row is both fitted on and held out"
            assert "benchmarks/device_accuracy.py" in fig.source, f"{dev.id}.{name}: the source names the command"
    assert fitted > 0


def test_effective_rates_carry_no_second_discount() -> None:
    """The AI Hub-derived NPU rates are effective already: their efficiency is 1.0 (no double discount)."""
    cat = load_catalogue()
    for dev_id, prec in (("sd8gen2-npu", "fp16"), ("sd8gen2-npu", "int8"), ("sd8gen3", "fp16")):
        dev = cat.get(dev_id)
        rate = dev.peak_rate(prec)
        assert rate is not None and "effective" in rate.source
        for category in ("conv", "linear", "elementwise"):
            eff = dev.efficiency_for(prec, category)
            assert eff is not None and eff.value == 1.0, (dev_id, prec, category)


def test_missing_rates_are_filled() -> None:
    cat = load_catalogue()
    for dev_id, prec in (("rpi5", "fp16"), ("orin-nano", "fp16"), ("sd8gen3", "fp16"), ("sd8gen3", "fp32")):
        assert cat.get(dev_id).peak_rate(prec) is not None, (dev_id, prec)
