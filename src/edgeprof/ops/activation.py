"""Op family: activation (formulas registered here)."""

from __future__ import annotations
