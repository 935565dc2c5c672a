"""The registry's contract: every ONNX default-domain op is registered, every entry explains
itself, other domains are spelled "domain::Op", every counted op carries an example call that
costs to its closed form, and docs/ops.md is the registry's current table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import onnx
import pytest

from edgeprof.ops.registry import Entry, OpCost, cost_of, registered_ops

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DOMAIN_OPS = frozenset(
    s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain in ("", "ai.onnx")
)
DOMAIN_OP = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*::[A-Za-z_][A-Za-z0-9_]*$")


def test_every_default_domain_op_is_registered() -> None:
    registry = registered_ops()
    missing = sorted(DEFAULT_DOMAIN_OPS - set(registry))
    assert not missing, f"{len(missing)} ONNX default-domain ops have no registry entry: {', '.join(missing)}"


def test_every_zero_and_not_countable_entry_gives_a_reason() -> None:
    silent = sorted(
        op for op, e in registered_ops().items() if e.state in ("zero", "not_countable", "subgraph") and not e.reason.strip()
    )
    assert not silent, f"entries without a reason: {', '.join(silent)}"


def test_every_formula_has_a_one_line_docstring() -> None:
    bad = []
    for op, e in registered_ops().items():
        if e.state != "counted":
            continue
        assert e.fn is not None
        doc = (e.fn.__doc__ or "").strip()
        if not doc or "\n" in doc or doc != e.doc:
            bad.append(op)
    assert not bad, f"counted ops whose formula lacks a one-line docstring: {', '.join(sorted(bad))}"


def test_non_onnx_ops_are_spelled_domain_colon_colon_op() -> None:
    bad = sorted(op for op in registered_ops() if op not in DEFAULT_DOMAIN_OPS and not DOMAIN_OP.match(op))
    assert not bad, f"ops that are neither ONNX default-domain ops nor 'domain::Op': {', '.join(bad)}"


# --- every counted op's registered example -------------------------------------------------
# Each formula is registered with an ``example=`` (edgeprof.ops.registry.Example) beside it in its
# family module: there is no second list of op signatures here. A new counted op without one fails.
# (Random calls of every registered op, never negative: tests/hardening/test_fuzz_ops.py.)


def _counted() -> dict[str, Entry]:
    return {op: e for op, e in registered_ops().items() if e.state == "counted"}


COUNTED = sorted(_counted())


def test_every_counted_op_has_an_example() -> None:
    missing = sorted(op for op, e in _counted().items() if e.example is None)
    assert not missing, f"counted ops registered without an example= call: {', '.join(missing)}"


def test_examples_are_registered_for_counted_ops_only() -> None:
    stray = sorted(op for op, e in registered_ops().items() if e.state != "counted" and e.example is not None)
    assert not stray, f"examples on ops that are not counted formulas: {', '.join(stray)}"


def test_the_adaptive_pools_are_covered() -> None:
    adaptive = {op for op in registered_ops() if op.startswith("aten::") and "adaptive" in op}
    assert len(adaptive) == 6
    assert adaptive <= set(COUNTED)


@pytest.mark.parametrize("op", COUNTED)
def test_every_counted_example_costs_its_closed_form(op: str) -> None:
    entry = _counted()[op]
    assert entry.example is not None, f"{op} has no example"
    c = cost_of(entry, entry.example.call(op))
    assert _non_negative(c), (op, c)
    ops = c.flops + c.int_ops
    assert c.flops == 0 or c.int_ops == 0, (op, c)  # one precision per call
    if entry.example.ops is None:
        assert ops > 0, f"{op}: its example does no arithmetic (give ops=0 if that is the formula)"
    else:
        assert ops == entry.example.ops, f"{op}: {ops} ops, the closed form gives {entry.example.ops}"
    if entry.example.macs is not None:
        assert c.macs == entry.example.macs, f"{op}: {c.macs} MACs, the closed form gives {entry.example.macs}"
    assert c.category == entry.category


def _non_negative(c: OpCost) -> bool:
    return min(c.flops, c.int_ops, c.macs, c.bytes_read, c.bytes_written) >= 0


# --- docs/ops.md ------------------------------------------------------------------------------


def _gen_op_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_op_table", ROOT / "scripts" / "gen_op_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_ops_md_is_up_to_date() -> None:
    gen = _gen_op_table()
    path = ROOT / "docs" / "ops.md"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == gen.render(), "docs/ops.md is out of date: run `.venv/bin/python scripts/gen_op_table.py`"


def test_docs_table_lists_every_op_once() -> None:
    text = _gen_op_table().render()
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and " --- " not in line]
    ops = [r for r in rows if r != "Op"]
    assert sorted(ops) == sorted(registered_ops())
