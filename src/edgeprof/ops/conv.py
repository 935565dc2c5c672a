"""Op family: conv (formulas registered here)."""

from __future__ import annotations
