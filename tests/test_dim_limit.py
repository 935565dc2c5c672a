"""One dim limit: the command line (``--input``, ``--dim``) refuses exactly the dims the API
(``input_shapes``, ``dims``) refuses, both through :mod:`edgeprof.ir.limits`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edgeprof.api import shape_request
from edgeprof.cli import parse_dim, parse_input_spec
from edgeprof.errors import UsageError
from edgeprof.ir.limits import MAX_DIM, dim_in_range

EDGES = [0, 1, 2, 2**62 - 2, 2**62 - 1, 2**62, 2**62 + 1, 2**64]


def _accepts(fn: Callable[..., object], *args: object, **kwargs: object) -> bool:
    try:
        fn(*args, **kwargs)
    except UsageError:
        return False
    return True


def test_the_limit_is_below_2_to_the_62() -> None:
    assert MAX_DIM == 2**62 - 1
    assert dim_in_range(2**62 - 1) and not dim_in_range(2**62)
    assert not dim_in_range(0) and dim_in_range(0, minimum=0)


@pytest.mark.parametrize("size", EDGES)
def test_cli_input_and_api_input_shapes_agree(size: int) -> None:
    cli = _accepts(parse_input_spec, f"x=1x{size}")
    api = _accepts(shape_request, {"x": (1, size)})
    assert cli == api == (1 <= size < 2**62), (size, cli, api)


@pytest.mark.parametrize("size", EDGES)
def test_cli_dim_and_api_dims_agree(size: int) -> None:
    cli = _accepts(parse_dim, f"batch={size}")
    api = _accepts(shape_request, None, {"batch": size})
    assert cli == api == (0 <= size < 2**62), (size, cli, api)


def test_the_largest_dim_passes_through_unchanged() -> None:
    assert parse_input_spec(f"1x{2**62 - 1}") == (None, (1, 2**62 - 1))
    assert shape_request([(1, 2**62 - 1)]).inputs == ((None, (1, 2**62 - 1)),)
    assert parse_dim(f"n={2**62 - 1}") == ("n", 2**62 - 1)
    assert shape_request(None, {"n": 2**62 - 1}).dims == {"n": 2**62 - 1}
