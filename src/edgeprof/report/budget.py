"""The result of ``edgeprof check``: each budget checked against a profile, and the verdict
(rendered by ``edgeprof.render.budget``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from edgeprof.report.serial import to_dict

__all__ = ["BudgetCheck", "CheckResult", "Status"]

Status = Literal["pass", "fail", "unproven", "unknown"]


@dataclass(frozen=True)
class BudgetCheck:
    """One limit checked: the figure, its value (``None`` when the profile lacks it), the limit
    (exact, as a string of an integer or a fraction), and the outcome."""

    budget: str
    figure: str
    unit: str
    value: int | float | None  # an exact count, or (latency, energy) a float in the budget's unit
    limit: int | str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == "pass"


@dataclass(frozen=True)
class CheckResult:
    model: str
    checks: tuple[BudgetCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "ok": self.ok, "checks": [to_dict(c) for c in self.checks]}
