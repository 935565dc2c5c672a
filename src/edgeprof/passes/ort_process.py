"""The memory of an ONNX Runtime process as deployed: ``process_peak_bytes``.

The runtime-neutral prediction (``peak_bytes``) counts the graph's tensors. A process that runs
the model on ONNX Runtime with its *default* session options (the BFC arena, the memory pattern,
all graph optimisations, weight pre-packing, the default thread pools) holds more, and this
estimate predicts its peak resident-memory increase from just after ``import onnxruntime`` to the
end of the runs (``benchmarks/ort_process_memory.py`` measures that figure). It is a small model
of rules, each fitted on measured runs (docs/memory.md, "Memory as deployed"; the fit and held-out
split is stated there):

* **session** = ``SESSION_FIXED_BYTES`` (the environment, thread pools, kernel registries, the
  session's own state) + ``CONV_WEIGHT_FACTOR`` x the Conv weights (the parsed protobuf, the
  session's copy, and the blocked NCHWc copy the layout optimiser makes of every convolution's
  filter) + ``OTHER_WEIGHT_FACTOR`` x the other weights (pre-packed MatMul/Gemm/RNN weights
  replace their originals);
* **load peak** = session + ``LOAD_WEIGHT_FACTOR`` x the weights: while the session is created
  the parsed model, the initializers and the optimiser's copies coexist (about twice the weights
  above the fixed cost), and most of it is given back once it is created;
* **run** = session + ``RUN_FIXED_BYTES`` (what the first run maps in: kernel code pages,
  per-thread buffers, the arena's first chunk) + ``ARENA_FACTOR`` x the activations the arena
  serves (the ONNX Runtime estimate's activation peak, ``runtime_estimate.peak_activation_bytes``,
  minus the graph inputs the caller holds): the arena grows in power-of-two regions while the first
  run allocates tensor by tensor, then the memory pattern's one block is allocated beside them,
  and the arena never gives memory back;
* ``process_peak_bytes`` = max(load peak, run).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.ir import Graph

__all__ = [
    "ARENA_FACTOR",
    "CONV_WEIGHT_FACTOR",
    "LOAD_WEIGHT_FACTOR",
    "OTHER_WEIGHT_FACTOR",
    "PROCESS_RULES",
    "RUN_FIXED_BYTES",
    "SESSION_FIXED_BYTES",
    "ProcessPeak",
    "conv_weight_bytes",
    "process_peak",
]

# Fitted on the fit half of benchmarks/ort_process_memory.py (onnxruntime 1.32, Linux x86-64, 2 cores).
SESSION_FIXED_BYTES = 11_600_000
CONV_WEIGHT_FACTOR = 2.36
OTHER_WEIGHT_FACTOR = 0.66
LOAD_WEIGHT_FACTOR = 1.07
RUN_FIXED_BYTES = 7_700_000
ARENA_FACTOR = 2.42

PROCESS_RULES = (
    f"process: session = {SESSION_FIXED_BYTES / 1e6:g} MB fixed + {CONV_WEIGHT_FACTOR:g} x Conv weights "
    f"+ {OTHER_WEIGHT_FACTOR:g} x other weights",
    f"process: load peak = session + {LOAD_WEIGHT_FACTOR:g} x weights",
    f"process: run = session + {RUN_FIXED_BYTES / 1e6:g} MB fixed + {ARENA_FACTOR:g} x arena activations "
    "(ORT estimate's activation peak minus the caller's inputs)",
    "process: peak = max(load peak, run); default SessionOptions, from after import onnxruntime (fitted, "
    "docs/memory.md)",
)

_CONV_OPS = frozenset({"Conv", "ConvTranspose"})


@dataclass(frozen=True)
class ProcessPeak:
    """The parts of :func:`process_peak`, in bytes: ``peak_bytes`` = max(``load_peak_bytes``,
    ``session_bytes`` + ``run_fixed_bytes`` + ``arena_bytes``)."""

    weight_bytes: int
    conv_weight_bytes: int
    arena_activation_bytes: int
    session_bytes: int
    load_peak_bytes: int
    run_fixed_bytes: int
    arena_bytes: int

    @property
    def run_peak_bytes(self) -> int:
        return self.session_bytes + self.run_fixed_bytes + self.arena_bytes

    @property
    def peak_bytes(self) -> int:
        return max(self.load_peak_bytes, self.run_peak_bytes)


def conv_weight_bytes(graph: Graph) -> int:
    """Bytes of the stored filters of ``Conv``/``ConvTranspose`` nodes (each tensor once)."""
    seen: set[str] = set()
    total = 0
    for node in graph.nodes:
        if node.op in _CONV_OPS and len(node.inputs) > 1:
            name = node.inputs[1]
            if name in graph.weights and name not in seen:
                seen.add(name)
                total += graph.weights[name].nbytes
    return total


def process_peak(graph: Graph, weight_bytes: int, ort_activation_bytes: int, input_bytes: int) -> ProcessPeak:
    """The peak resident-memory increase of a default-options ONNX Runtime process running
    ``graph`` (weights ``weight_bytes``; ``ort_activation_bytes``: the activation peak on ONNX
    Runtime's CPU kernels, of which the caller holds ``input_bytes`` of graph inputs)."""
    conv = min(conv_weight_bytes(graph), weight_bytes)
    session = SESSION_FIXED_BYTES + round(CONV_WEIGHT_FACTOR * conv + OTHER_WEIGHT_FACTOR * (weight_bytes - conv))
    arena_activations = max(0, ort_activation_bytes - input_bytes)
    return ProcessPeak(
        weight_bytes=weight_bytes,
        conv_weight_bytes=conv,
        arena_activation_bytes=arena_activations,
        session_bytes=session,
        load_peak_bytes=session + round(LOAD_WEIGHT_FACTOR * weight_bytes),
        run_fixed_bytes=RUN_FIXED_BYTES,
        arena_bytes=round(ARENA_FACTOR * arena_activations),
    )

