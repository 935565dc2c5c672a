"""The public API: __all__ is complete and every name in it resolves to what it says."""

from __future__ import annotations

import inspect

import edgeprof
from edgeprof import errors


def test_all_names_exist_and_are_not_shadowed_by_submodules() -> None:
    for name in edgeprof.__all__:
        obj = getattr(edgeprof, name)
        assert not inspect.ismodule(obj), f"edgeprof.{name} is a module, not the API object"


def test_every_public_callable_and_error_is_exported() -> None:
    public = {n for n, o in vars(edgeprof).items() if not n.startswith("_") and not inspect.ismodule(o)}
    assert public <= set(edgeprof.__all__), sorted(public - set(edgeprof.__all__))
    error_types = {n for n, o in vars(errors).items() if inspect.isclass(o) and issubclass(o, Exception)}
    assert error_types <= set(edgeprof.__all__)


def test_the_api_functions_are_callables() -> None:
    import edgeprof.measure.memory

    assert callable(edgeprof.profile) and callable(edgeprof.load) and callable(edgeprof.measured)
