"""Which checks apply to a cell, and the two ways to run them."""

import functools

from . import _cell_checks as checks
from ._cell_checks import CellCheckError

# Every cell: the protocol's rules, cheapest first, then an estimator fit.
_REQUIRED = [
    checks.check_construction,
    checks.check_init_state,
    checks.check_step_shapes,
    checks.check_deterministic,  # before the checks that compare two runs
    checks.check_state_not_modified,
    checks.check_rows_independent,
    checks.check_masking,
    checks.check_gradients,
    checks.check_pickle,
]


def _resolve(cell):
    """A registered name's class; a class as given (check_construction judges it)."""
    if isinstance(cell, str):
        from ..cells import get_cell

        return get_cell(cell)
    return cell


def _reported(check):
    """``check``, with any unexpected exception turned into a ``CellCheckError`` naming it."""

    @functools.wraps(check)
    def run(cell_cls):
        try:
            check(cell_cls)
        except CellCheckError:
            raise
        except Exception as exc:
            raise CellCheckError(
                f"{getattr(cell_cls, '__qualname__', cell_cls)}: {check.__name__} raised "
                f"{type(exc).__name__}: {exc}\n  {check.__doc__.splitlines()[0]}"
            ) from exc

    return run


def cell_checks(cell):
    """The checks that apply to ``cell``, in the order :func:`check_cell` runs them.

    The required checks apply to every cell; :func:`check_forward_sequence`
    and :func:`check_numba_kernels` only to cells with ``forward_sequence``
    and ``numba_kernels``; :func:`check_in_estimator` comes last.

    Parameters
    ----------
    cell : str or type
        A cell class, or the name of a registered cell.

    Returns
    -------
    checks : list of callable
        Each takes the cell class and raises :class:`CellCheckError` on a
        failure.

    Examples
    --------
    >>> from sklearn_rnn.testing import cell_checks
    >>> [check.__name__ for check in cell_checks("gru")][-3:]
    ['check_forward_sequence', 'check_numba_kernels', 'check_in_estimator']
    """
    cell_cls = _resolve(cell)
    selected = list(_REQUIRED)
    if callable(getattr(cell_cls, "forward_sequence", None)):
        selected.append(checks.check_forward_sequence)
    if getattr(cell_cls, "numba_kernels", None) is not None:
        selected.append(checks.check_numba_kernels)
    selected.append(checks.check_in_estimator)
    return [_reported(check) for check in selected]


def check_cell(cell):
    """Check that a cell follows the cell protocol and works in the estimators.

    Runs every check of :func:`cell_checks` in order and stops at the first
    failure. The checks build small seeded cells (``input_size=3,
    hidden_size=4``, and ``1, 1``), mostly in float64, and run them through
    the host's own masked step loop, fused path and numba bridge.

    Parameters
    ----------
    cell : str or type
        A cell class, or the name of a registered cell.

    Raises
    ------
    CellCheckError
        An ``AssertionError`` whose message names the cell, the rule it
        breaks, what was observed and what to fix.

    See Also
    --------
    parametrize_with_cell_checks : one pytest test per check.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn.testing import check_cell
    >>> check_cell("gru")  # a registered name or a class; passes silently
    >>> class BatchNormed(torch.nn.Module):
    ...     def __init__(self, input_size, hidden_size):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(input_size + hidden_size, hidden_size)
    ...     def forward(self, x_t, state):
    ...         h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))
    ...         h_t = h_t - h_t.mean(dim=0)  # statistics over the batch: breaks masking
    ...         return h_t, h_t
    >>> check_cell(BatchNormed)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_rnn.testing._cell_checks.CellCheckError: BatchNormed: each row of the batch is computed from that row alone...
    """
    cell_cls = _resolve(cell)
    for check in cell_checks(cell_cls):
        check(cell_cls)


def parametrize_with_cell_checks(cells):
    """A pytest decorator: one test per (cell, check) pair.

    Parameters
    ----------
    cells : list of (str or type)
        Cell classes or registered names.

    Returns
    -------
    decorator
        ``pytest.mark.parametrize("cell_cls, check", ...)`` with readable test
        ids such as ``MyCell-check_masking``.

    Examples
    --------
    >>> from sklearn_rnn.testing import parametrize_with_cell_checks
    >>> @parametrize_with_cell_checks(["rnn", "gru"])
    ... def test_cells(cell_cls, check):
    ...     check(cell_cls)
    """
    import pytest

    pairs = [(_resolve(cell), check) for cell in cells for check in cell_checks(cell)]
    return pytest.mark.parametrize(
        "cell_cls, check",
        pairs,
        ids=[f"{cell_cls.__qualname__}-{check.__name__}" for cell_cls, check in pairs],
    )
