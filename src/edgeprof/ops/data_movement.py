"""Op family: data_movement (formulas registered here)."""

from __future__ import annotations
