"""Op family: rnn (formulas registered here)."""

from __future__ import annotations
