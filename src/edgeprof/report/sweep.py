"""The rows of ``edgeprof sweep``: one per (model, options, device, precision, edgeprof version), the
headline figures as fields and the full JSON report beside them (the columns of the results
database, ``edgeprof.sweeps.db``; rendered by ``edgeprof.render.sweep``), and the marks of the
Pareto chart (:class:`SweepMark`).

Data only: the sweep (``edgeprof.sweeps``) fills the rows, the renderers show them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from edgeprof.report.model import Profile

__all__ = ["KEY_FIELDS", "TIMING_FIELDS", "SweepMark", "SweepRow"]

KEY_FIELDS = ("model_hash", "options_hash", "device", "precision", "edgeprof_version")
"""The fields that identify a row: a sweep run again skips the rows whose key is in the database."""

TIMING_FIELDS = ("runner", "host", "elapsed_s", "created_at")
"""The fields that say where and when a row was made (they differ between two runs of one sweep)."""


@dataclass(frozen=True)
class SweepRow:
    """One result of a sweep. ``status`` is ``ok`` or ``error`` (then ``error`` says why, the figures
    are None and ``report`` is empty). ``device`` and ``precision`` are empty without ``--device``
    (``precision`` empty: as stored). Figures: FLOPs, MACs, parameters, weight bytes, the predicted
    peak memory (weights + peak activations), the predicted latency on ``device`` (seconds) and the
    estimated energy per inference there (joules, the mid of the range), the measured latency
    (p50, seconds) and peak memory (bytes) with ``--measure``. ``point`` is the search-space point
    (JSON of ``{name: value}``), ``options`` the JSON of the options that made it (shapes,
    ``--measure``, ...)."""

    model_hash: str
    options_hash: str
    device: str
    precision: str
    edgeprof_version: str
    label: str
    source: str
    point: str = "{}"
    options: str = "{}"
    status: Literal["ok", "error"] = "ok"
    error: str = ""
    flops: int | None = None
    macs: int | None = None
    params: int | None = None
    weight_bytes: int | None = None
    peak_bytes: int | None = None
    is_lower_bound: bool | None = None
    latency_s: float | None = None
    latency_is_lower_bound: bool | None = None
    energy_j: float | None = None
    measured_latency_s: float | None = None
    measured_peak_bytes: int | None = None
    measurement_error: str = ""
    runner: str = ""
    host: str = ""
    elapsed_s: float | None = None
    created_at: str = ""
    report: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """(model_hash, options_hash, device, precision, edgeprof_version): unique in the database."""
        return (self.model_hash, self.options_hash, self.device, self.precision, self.edgeprof_version)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def profile(self) -> Profile | None:
        """The full report of this row as a :class:`Profile` (None for a failed row)."""
        return Profile.from_json(self.report) if self.report else None

    def to_dict(self, *, report: bool = False) -> dict[str, Any]:
        """The row as a dict (``point`` and ``options`` decoded); ``report=True`` adds the full report
        (decoded) under ``report``."""
        out = dataclasses.asdict(self)
        out["point"] = json.loads(self.point)
        out["options"] = json.loads(self.options)
        if report:
            out["report"] = json.loads(self.report) if self.report else None
        else:
            del out["report"]
        return out

    def same_result(self, other: SweepRow) -> bool:
        """The same row but for where and when it was made (:data:`TIMING_FIELDS`) and the measured
        figures (a measurement differs from run to run)."""
        skip = {*TIMING_FIELDS, "measured_latency_s", "measured_peak_bytes", "report"}
        mine = {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}
        theirs = {k: v for k, v in dataclasses.asdict(other).items() if k not in skip}
        if mine != theirs:
            return False
        if not self.report or not other.report:
            return self.report == other.report
        a, b = json.loads(self.report), json.loads(other.report)
        for d in (a, b):  # the measured sections vary from run to run
            for section in ("memory", "latency", "energy"):
                if isinstance(d.get(section), dict):
                    for field in ("measured", "measurement_error", "sensor_note"):
                        d[section].pop(field, None)
        return bool(a == b)


@dataclass(frozen=True)
class SweepMark:
    """One row and its marks: the budget limits it breaks (``max_params``, ``fits_device``, ...)
    and, when it is on the Pareto chart (``charted``), its x (params, MACs or peak bytes), its y
    (latency in seconds, or MACs without a device) and whether it is Pareto-optimal (no other row
    on the chart is as low on both and lower on one)."""

    row: SweepRow
    x: float
    y: float
    pareto: bool
    breaks: tuple[str, ...] = ()
    charted: bool = True
