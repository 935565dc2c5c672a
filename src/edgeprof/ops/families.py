"""Imports every op family module so that their registrations run (one place lists them)."""

from edgeprof.ops import (  # noqa: F401
    activation,
    aten_only,
    attention,
    contrib_ms,
    contrib_ms_quant,
    control_flow,
    conv,
    data_movement,
    elementwise,
    linear,
    misc,
    norm,
    pool,
    quant,
    reduce,
    resize,
    rnn,
)
