"""Op family: attention (formulas registered here)."""

from __future__ import annotations
