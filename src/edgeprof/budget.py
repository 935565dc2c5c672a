"""Budgets for CI: limits on a model's FLOPs, MACs, params, weight size and peak memory, and on
its predicted latency and estimated energy per inference on catalogue devices, from
command-line flags or a TOML file, checked against a :class:`Profile`.

Quantities take decimal suffixes K, M, G, T (``2G`` = 2,000,000,000; ``1.5M`` = 1,500,000),
parsed exactly (no float). Sizes are in decimal megabytes (``--max-size-mb 10`` = 10,000,000
bytes). A figure that is only a lower bound (some ops not counted, some tensors unsized)
cannot prove a maximum holds: it is reported as ``unproven`` and fails the check like a
breach does.

``max_latency_ms`` and ``max_energy_mj`` are checked on every device of the profile's
predictions (``edgeprof check --device ID``): the latency is the roofline prediction (an
estimate; ``unproven`` when it is a lower bound), the energy the estimated range: ``pass`` when
its high end is within the limit, ``fail`` when its mid is above it, ``unproven`` in between or
when the estimate is a lower bound.

The TOML file::

    [budget]
    max_flops = "2G"
    max_macs = "1G"
    max_params = "5M"
    max_size_mb = 10
    max_peak_mb = 200
    max_latency_ms = 50      # needs --device ID
    max_energy_mj = 5        # needs --device ID
    allow_not_counted = ["com.example::MyOp"]   # as --allow-not-counted OP

``allow_not_counted`` waives ops edgeprof does not cost (named as the report's "Not counted" list
names them): when every op not counted is waived, the totals are checked as if exact (the
waived ops' own cost left out, and said so) instead of being ``unproven``; a row ``not_counted``
lists the waived ops, or fails naming the ops not counted that are not waived.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from fractions import Fraction

from edgeprof.errors import UsageError
from edgeprof.render.format import exact, human
from edgeprof.report.budget import BudgetCheck, CheckResult, Status
from edgeprof.report.model import Profile
from edgeprof.safe_files import MAX_TEXT_BYTES, UnreadableFile, read_regular_file

__all__ = [
    "ALLOW_KEY",
    "BUDGET_KEYS",
    "Budget",
    "check_budget",
    "load_budget_file",
    "merge_budgets",
    "not_waived",
    "parse_quantity",
]

_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([kKmMgGtT]?)")
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
MB = 10**6

# key in the TOML file / flag without dashes -> (figure, unit, multiplier of the parsed number)
BUDGET_KEYS: dict[str, tuple[str, str, int]] = {
    "max_flops": ("FLOPs", "FLOPs", 1),
    "max_macs": ("MACs", "MACs", 1),
    "max_params": ("params", "", 1),
    "max_size_mb": ("weight size", "B", MB),
    "max_peak_mb": ("peak memory", "B", MB),
    "max_latency_ms": ("predicted latency", "ms", 1),
    "max_energy_mj": ("estimated energy", "mJ", 1),
}
DEVICE_BUDGETS = ("max_latency_ms", "max_energy_mj")  # checked per device of the profile
ALLOW_KEY = "allow_not_counted"  # ops waived (a list of op names), beside the limits
MAX_WAIVED_OPS = 10_000


MAX_QUANTITY_DIGITS = 1000  # digits of a budget number (counts are far below 10**1000)


def parse_quantity(text: str | int, what: str) -> Fraction:
    """``'2G'`` -> 2000000000, ``'1.5M'`` -> 1500000, ``'10'`` -> 10, exactly; K/M/G/T are
    decimal (10**3 .. 10**12). Raises :class:`UsageError` naming ``what`` for anything else."""
    if isinstance(text, bool):
        raise UsageError(f"{what}: expected a number such as 2G, 1.5M or 10, got {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise UsageError(f"{what}: it is negative")
        if text >= 10**MAX_QUANTITY_DIGITS:
            raise UsageError(f"{what}: the number has more than the {MAX_QUANTITY_DIGITS} digits edgeprof reads")
        return Fraction(text)
    m = _QUANTITY.fullmatch(text.strip())
    if m is None:
        raise UsageError(f"{what}: {text[:80]!r} is not a quantity (expected e.g. 2G, 1.5M, 500K or 10; K/M/G/T are "
                         "decimal)")
    if len(m.group(1)) > MAX_QUANTITY_DIGITS:  # int() of over 4,300 digits raises; no count is that large
        raise UsageError(f"{what}: the number has {len(m.group(1)):,} digits, more than the {MAX_QUANTITY_DIGITS} "
                         "edgeprof reads")
    return Fraction(m.group(1)) * _SUFFIX[m.group(2).lower()]


@dataclass(frozen=True)
class Budget:
    """Limits, each ``None`` when not set: counts in units (FLOPs, MACs, params), the two
    ``*_mb`` limits converted to bytes. Exact fractions (``1.5`` FLOPs is kept as 3/2)."""

    max_flops: Fraction | None = None
    max_macs: Fraction | None = None
    max_params: Fraction | None = None
    max_size_mb: Fraction | None = None
    max_peak_mb: Fraction | None = None
    max_latency_ms: Fraction | None = None
    max_energy_mj: Fraction | None = None
    allow_not_counted: tuple[str, ...] = ()

    def needs_device(self) -> bool:
        """A latency or energy limit is set: the check needs a prediction on a device."""
        return any(getattr(self, k) is not None for k in DEVICE_BUDGETS)

    def items(self) -> list[tuple[str, Fraction]]:
        return [(k, v) for k in BUDGET_KEYS if (v := getattr(self, k)) is not None]

    @staticmethod
    def from_values(values: dict[str, str | int | float | None], source: str) -> Budget:
        """From ``{key: text}`` (keys as in :data:`BUDGET_KEYS`); ``source`` names where the
        values came from in errors: ``"flags"`` names the flag (``--max-flops``), anything
        else is a prefix (``--budget budget.toml:``)."""
        parsed: dict[str, Fraction] = {}
        allowed: tuple[str, ...] = ()
        for key, raw in values.items():
            if raw is None:
                continue
            if key == ALLOW_KEY:
                allowed = _op_names(raw, "--allow-not-counted" if source == "flags" else f"{source} {key}")
                continue
            if key not in BUDGET_KEYS:
                known = ", ".join((*BUDGET_KEYS, ALLOW_KEY))
                raise UsageError(f"{source}: unknown budget {key!r} (known: {known})")
            what = f"--{key.replace('_', '-')}" if source == "flags" else f"{source} {key}"
            if isinstance(raw, float):
                raw = repr(raw)
            if isinstance(raw, (list, tuple)):
                raise UsageError(f"{what}: expected a number such as 2G, 1.5M or 10, got a list")
            parsed[key] = parse_quantity(raw, what) * BUDGET_KEYS[key][2]
        return Budget(**parsed, allow_not_counted=allowed)


def _op_names(raw: object, what: str) -> tuple[str, ...]:
    """The op names of ``allow_not_counted``: a list of non-empty strings (or one string)."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) and x.strip() for x in items):
        raise UsageError(f"{what}: expected a list of op names, e.g. [\"com.example::MyOp\"]")
    if len(items) > MAX_WAIVED_OPS:
        raise UsageError(f"{what}: {len(items):,} op names, more than the {MAX_WAIVED_OPS:,} edgeprof reads")
    return tuple(dict.fromkeys(x.strip() for x in items))


def load_budget_file(path: str) -> Budget:
    """The ``[budget]`` table of a TOML file. Raises :class:`UsageError` on a missing or bad file."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as the tomli package
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UsageError(f"--budget {path}: reading TOML needs Python 3.11+ or the tomli package") from None
    try:  # a regular file only (``/dev/zero`` never ends, a FIFO blocks), at most 16 MiB
        data = tomllib.loads(read_regular_file(path, MAX_TEXT_BYTES).decode("utf-8"))
    except UnreadableFile as exc:
        raise UsageError(f"--budget {path}: {'No such file or directory' if exc.missing else exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--budget {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--budget {path}: not valid TOML: {exc}") from None
    except ValueError:  # tomllib converts an integer of more than 4,300 digits: Python refuses
        raise UsageError(f"--budget {path}: holds an integer of more than 4,300 digits") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise UsageError(f"--budget {path}: not valid TOML: arrays or tables nested too deeply") from None
    table = data.get("budget")
    if not isinstance(table, dict):
        raise UsageError(f"--budget {path}: no [budget] table (expected e.g. [budget] max_flops = \"2G\")")
    return Budget.from_values(table, f"--budget {path}:")


def merge_budgets(base: Budget, override: Budget) -> Budget:
    """``override``'s limits where set, ``base``'s elsewhere (flags override the file); the ops
    waived are those of both."""
    return Budget(**{k: getattr(override, k) if getattr(override, k) is not None else getattr(base, k)
                     for k in BUDGET_KEYS},
                  allow_not_counted=tuple(dict.fromkeys((*base.allow_not_counted, *override.allow_not_counted))))


def not_waived(profile: Profile, allowed: tuple[str, ...] | list[str]) -> list[str]:
    """The ops not counted in ``profile`` that ``allowed`` does not waive, as ``'Op (count)'``."""
    return [f"{nc.op} ({nc.count})" for nc in profile.not_counted if nc.op not in set(allowed)]


def _waived(profile: Profile, budget: Budget) -> str:
    """When every op not counted is waived: ``' (waived: Op (n), ...)'``, else ``''``."""
    if not profile.not_counted or not_waived(profile, budget.allow_not_counted):
        return ""
    return " (not counted, waived: " + ", ".join(f"{nc.op} ({nc.count})" for nc in profile.not_counted) + ")"


_NOT_COUNTED_NOTE = "not counted by edgeprof"  # the latency pass's note for layers with no formula


def _figure(profile: Profile, key: str) -> tuple[int | None, bool]:
    """(value, is_lower_bound) of the figure a budget key limits."""
    t = profile.totals
    if key == "max_flops":
        return max(t.flops, t.flops_max), t.is_lower_bound
    if key == "max_macs":
        return max(t.macs, t.macs_max), t.is_lower_bound
    if key == "max_params":
        return t.params, False
    if key == "max_size_mb":
        return t.weight_bytes, False
    if profile.memory is None:
        return None, False
    return profile.memory.predicted.peak_bytes, profile.memory.predicted.is_lower_bound


def _limit_value(limit: Fraction) -> int | str:
    """An integral limit as an int, another as an exact ``'p/q'`` string."""
    return limit.numerator if limit.denominator == 1 else f"{limit.numerator}/{limit.denominator}"


def _device_checks(profile: Profile, key: str, limit: Fraction, waived: str = "") -> list[BudgetCheck]:
    """A latency or energy limit checked on every device the profile has a prediction for
    (``waived``: every op not counted is waived, so a lower bound from those alone is not one)."""
    predictions = profile.latency.predicted if profile.latency is not None else {}

    def only_waived(device_id: str) -> bool:
        """The device's prediction is a lower bound only through the ops waived."""
        p = predictions.get(device_id)
        return bool(waived) and p is not None and all(_NOT_COUNTED_NOTE in note for note in p.missing) and not any(
            x.range_group for x in profile.layers)

    figure, unit, _ = BUDGET_KEYS[key]
    shown = f"{float(limit):g} {unit}"
    out = []
    if key == "max_latency_ms":
        for device_id, p in predictions.items():
            value = p.total_s * 1e3
            status: Status
            if value > limit:
                status, detail = "fail", f"predicted {value:.4g} ms > {shown} on {p.device_name}"
            elif p.is_lower_bound and not only_waived(device_id):
                status, detail = "unproven", (f"predicted {value:.4g} ms is a lower bound ({'; '.join(p.missing)}): "
                                              f"cannot prove <= {shown}")
            else:
                status, detail = "pass", (f"predicted {value:.4g} ms <= {shown} (roofline estimate on "
                                          f"{p.device_name}, not a measurement)" + (waived if p.is_lower_bound else ""))
            out.append(BudgetCheck(key, f"{figure} on {device_id}", unit, value, _limit_value(limit), status,
                                   f"{device_id}: {detail}"))
    else:
        estimated = profile.energy.estimated if profile.energy is not None else {}
        for device_id, e in estimated.items():
            low, mid, high = (x * 1e3 for x in (e.estimated_j.low, e.estimated_j.mid, e.estimated_j.high))
            span = f"estimated {mid:.4g} mJ (range {low:.3g} .. {high:.3g} mJ)"
            if mid > limit:
                status, detail = "fail", f"{span} > {shown}"
            elif high > limit:
                status, detail = "unproven", f"{span}: the high end exceeds {shown}"
            elif e.is_lower_bound and not only_waived(device_id):
                status, detail = "unproven", f"{span} is a lower bound: cannot prove <= {shown}"
            else:
                status, detail = "pass", f"{span} <= {shown}" + (waived if e.is_lower_bound else "")
            out.append(BudgetCheck(key, f"{figure} on {device_id}", unit, mid, _limit_value(limit), status,
                                   f"{device_id}: {detail}"))
    if not out:
        out.append(BudgetCheck(key, figure, unit, None, _limit_value(limit), "unknown",
                               "no device prediction: pass --device ID"))
    return out


def check_budget(profile: Profile, budget: Budget) -> CheckResult:
    """Every limit of ``budget`` against ``profile`` (an If with an unknown branch is checked
    at its costliest branch; latency and energy limits on every device predicted)."""
    if not budget.items():
        raise UsageError("no budget given: pass --max-flops, --max-macs, --max-params, --max-size-mb, "
                         "--max-peak-mb, --max-latency-ms, --max-energy-mj or --budget FILE")
    checks: list[BudgetCheck] = []
    waived = _waived(profile, budget)
    for key, limit in budget.items():
        if key in DEVICE_BUDGETS:
            checks += _device_checks(profile, key, limit, waived)
            continue
        figure, unit, _ = BUDGET_KEYS[key]
        value, lower = _figure(profile, key)
        shown_limit = human(int(limit), unit) if limit.denominator == 1 else f"{float(limit):g} {unit}".strip()
        if value is None:
            status: Status = "unknown"
            detail = "not computed for this model"
        elif value > limit:
            status = "fail"
            detail = f"{exact(value)} > {shown_limit} ({human(value, unit)})"
        elif lower and not (waived and key in ("max_flops", "max_macs")):
            status = "unproven"
            detail = f"{exact(value)} is a lower bound (some ops or tensors not counted): cannot prove <= {shown_limit}"
        else:
            status = "pass"
            detail = f"{human(value, unit)} <= {shown_limit}" + (waived if lower else "")
        checks.append(BudgetCheck(key, figure, unit, value, _limit_value(limit), status, detail))
    return CheckResult(profile.model.name, tuple(checks + fit_checks(profile) + _waiver_checks(profile, budget)))


def _waiver_checks(profile: Profile, budget: Budget) -> list[BudgetCheck]:
    """With ops waived and some not counted: one row, pass when every op not counted is waived."""
    if not budget.allow_not_counted or not profile.not_counted:
        return []
    others = not_waived(profile, budget.allow_not_counted)
    total = sum(nc.count for nc in profile.not_counted)  # nodes not counted, against the nodes of the ops waived
    waived = sum(nc.count for nc in profile.not_counted if nc.op in set(budget.allow_not_counted))
    if others:
        return [BudgetCheck(ALLOW_KEY, "nodes not counted", "", total, waived, "fail",
                            f"not counted and not waived: {', '.join(others)}")]
    return [BudgetCheck(ALLOW_KEY, "nodes not counted", "", total, waived, "pass",
                        "waived: " + ", ".join(f"{nc.op} ({nc.count})" for nc in profile.not_counted))]


def fit_checks(profile: Profile) -> list[BudgetCheck]:
    """With ``--device``, the model must fit each device: its RAM (weights, activation peak, KV
    cache, the system's share) and, for a microcontroller, its flash and SRAM as stored."""
    if profile.memory is None:
        return []
    out = []
    for f in profile.memory.predicted.ram_fits:
        status: Status = "fail" if not f.fits else "unproven" if f.is_lower_bound else "pass"
        out.append(BudgetCheck("fits_device", f"fits in RAM on {f.device_id}", "B", f.needs_bytes, f.ram_bytes,
                               status, f"{f.device_id}: {f.verdict()} ({human(f.system_bytes, 'B')} of it "
                               f"system and runtime, {f.system_source.split(':')[0]})"))
    for m in profile.memory.predicted.device_fits:
        if m.precision != "stored":
            continue
        status = "fail" if not m.fits else "unproven" if m.is_lower_bound else "pass"
        detail = (f"weights {human(m.weight_bytes, 'B')} of {human(m.flash_bytes, 'B')} flash, activation peak "
                  f"{human(m.best_peak_activation_bytes, 'B')} of {human(m.sram_bytes, 'B')} SRAM")
        out.append(BudgetCheck("fits_device", f"fits flash and SRAM on {m.device_id}", "B",
                               m.weight_bytes + m.best_peak_activation_bytes, m.flash_bytes + m.sram_bytes, status,
                               f"{m.device_id}: {detail}"))
    return out
