"""Recurrent cells: the registry behind every estimator's ``cell`` parameter.

A cell is a ``torch.nn.Module`` that computes one time step (see
docs/cell_protocol.md). Built-in cells (``"rnn"``, ``"lstm"``, ``"gru"``),
cells of installed plugins (entry-point group ``sklearn_rnn.cells``) and cells
registered with :func:`register_cell` share one registry. A plugin declares
its cells in its ``pyproject.toml``::

    [project.entry-points."sklearn_rnn.cells"]
    mycell = "my_package.cells:MyCell"

Discovering and listing cells imports neither the cells nor torch nor numba.
"""

from ._registry import (
    CellInfo,
    available_cells,
    get_cell,
    refresh_cells,
    register_cell,
    unregister_cell,
)

# The name the estimators use to turn their ``cell`` parameter (a name or a
# class) into a class; the same function as get_cell.
resolve_cell = get_cell

__all__ = [
    "CellInfo",
    "available_cells",
    "get_cell",
    "refresh_cells",
    "register_cell",
    "resolve_cell",
    "unregister_cell",
]
