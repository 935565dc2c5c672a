"""Mutation fuzzing of the ONNX loader (fixed seed): byte flips, sets, insertions, deletions,
truncations and huge varints in real model files (models/demo.onnx, a conv net, a Loop with
an If inside, a model with external data). Every outcome is a Profile with non-negative
integer counts or a typed one-line edgeprof error; the model file is never changed.
The same target runs longer in scripts/fuzz_long.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.hardening import fuzz_targets as ft

_SETTINGS = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(index=ft.seed_index, edits=ft.mutations)
def test_damaged_model_files_give_a_profile_or_one_typed_line(index: int, edits: list[ft.Mutation]) -> None:
    ft.check_onnx_bytes(index, edits)


def test_every_seed_loads_undamaged() -> None:
    """The seeds are real, loadable models (else the mutations test only the parser)."""
    for i, seed in enumerate(ft.seeds()):
        assert ft.check_onnx_bytes(i, [("flip", 0, 0, 1)] * 2) == "profile", seed.name  # two flips undo each other


def test_the_check_catches_an_untyped_exception() -> None:
    """The check can fail: an untyped exception is a FuzzFailure."""
    import pytest

    with pytest.raises(ft.FuzzFailure):
        ft.run_profile(lambda: (_ for _ in ()).throw(KeyError("x")), "demo")


def test_a_subgraph_attribute_name_that_breaks_subgraph_paths_is_refused() -> None:
    """Found by atheris in the long run: a Loop whose ``body`` attribute was damaged to
    ``bo[y`` made the frontend's subgraph paths ambiguous (a KeyError leaked)."""
    import pytest

    import edgeprof
    from edgeprof.errors import GraphError

    for name in ("bo[y", "body/x", "else]"):
        model = ft.control_flow_model()
        model.graph.node[1].attribute[0].name = name
        with pytest.raises(GraphError, match="subgraph attribute with an invalid name"):
            edgeprof.profile(model)


@settings(max_examples=80, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(spec=ft.function_graphs)
def test_functions_calling_each_other_are_counted_exactly_or_refused(spec: tuple[list[list[ft.FunctionStep]], int]) -> None:
    """Random call graphs of model-local functions (chains, fan-out, cycles, calls inside If
    branches): the expanded node count predicted before inlining equals a hand inlining; above
    the node limit or on a cycle, one typed line before anything is inlined."""
    ft.check_onnx_functions(*spec)
