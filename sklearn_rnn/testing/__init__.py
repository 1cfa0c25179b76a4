"""The conformance kit for recurrent cells, in the spirit of scikit-learn's ``check_estimator``.

A plugin's test suite runs every check on each of its cells with one line,
:func:`check_cell`, or one pytest test per check with
:func:`parametrize_with_cell_checks`. The checks are those of the cell
protocol (docs/cell_protocol.md): construction, the initial state, step
shapes and dtypes, no in-place writes to the state, rows independent of each
other, determinism in ``eval()`` mode, padding invariance, gradients
(autograd against finite differences), pickling, the optional
``forward_sequence`` and ``numba_kernels`` against the step loop, and a short
fit of real estimators. A failure raises :class:`CellCheckError` (an
``AssertionError``) naming the rule, what happened and what to fix.

This module imports torch.
"""

from ._cell_checks import (
    CellCheckError,
    check_construction,
    check_deterministic,
    check_forward_sequence,
    check_gradients,
    check_in_estimator,
    check_init_state,
    check_masking,
    check_numba_kernels,
    check_pickle,
    check_rows_independent,
    check_state_not_modified,
    check_step_shapes,
)
from ._kit import cell_checks, check_cell, parametrize_with_cell_checks

__all__ = [
    "CellCheckError",
    "cell_checks",
    "check_cell",
    "check_construction",
    "check_deterministic",
    "check_forward_sequence",
    "check_gradients",
    "check_in_estimator",
    "check_init_state",
    "check_masking",
    "check_numba_kernels",
    "check_pickle",
    "check_rows_independent",
    "check_state_not_modified",
    "check_step_shapes",
    "parametrize_with_cell_checks",
]
