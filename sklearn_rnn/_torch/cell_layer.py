"""One recurrent layer made of any protocol cell: the host's masked step loop.

A plugin cell computes one time step (docs/cell_protocol.md); this module
turns it into a layer over a zero-padded ragged batch, the way every
estimator runs it:

* the state of a sequence that has ended stops changing: state leaf by state
  leaf, ``torch.where(active, new, old)`` keeps the old rows, so padding (its
  length or its values) never changes a result;
* outputs at padded steps are zero;
* a cell's ``forward_sequence`` replaces the Python loop on ``backend="torch"``,
  its ``numba_kernels`` compute the layer on ``backend="numba"``.

The cell's outputs are checked on every call (shapes and state structure, on
the first step), so a cell that breaks the protocol gets an error naming the
cell and the rule, not a shape error deep inside torch.
"""

import torch
from torch import nn

from .cells import as_leaves


def _cell_name(cell):
    return type(cell).__qualname__


def _check_state(cell, state, batch_size, what):
    """Raise ``TypeError``/``ValueError`` unless ``state`` is a tensor or tuple of (B, ...) tensors."""
    leaves = as_leaves(state)
    if not leaves or not all(isinstance(leaf, torch.Tensor) for leaf in leaves):
        kinds = type(state).__name__ if not isinstance(state, tuple) else [
            type(leaf).__name__ for leaf in state
        ]
        raise TypeError(
            f"{_cell_name(cell)}: {what} must be a tensor or a non-empty tuple of tensors, "
            f"got {kinds}. See docs/cell_protocol.md."
        )
    for leaf in leaves:
        if leaf.dim() == 0 or leaf.shape[0] != batch_size:
            raise ValueError(
                f"{_cell_name(cell)}: every tensor of {what} must have the batch on its first "
                f"axis, ({batch_size}, ...), but one has shape {tuple(leaf.shape)}."
            )
    return leaves


def initial_state(cell, batch_size, hidden_size, device, dtype):
    """The cell's initial state: its ``init_state``, else zeros ``(batch_size, hidden_size)``."""
    init = getattr(cell, "init_state", None)
    if init is None:
        return torch.zeros(batch_size, hidden_size, device=device, dtype=dtype)
    state = init(batch_size, device, dtype)
    _check_state(cell, state, batch_size, "init_state(batch_size, device, dtype)")
    return state


def checked_step(cell, x_t, state, hidden_size):
    """``cell(x_t, state)``, with its output checked against the protocol."""
    result = cell(x_t, state)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(
            f"{_cell_name(cell)}.forward(x_t, state) must return a pair (h_t, new_state), "
            f"got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple) else "")
            + ". See docs/cell_protocol.md."
        )
    h_t, new_state = result
    batch_size = x_t.shape[0]
    if not isinstance(h_t, torch.Tensor) or tuple(h_t.shape) != (batch_size, hidden_size):
        shape = tuple(h_t.shape) if isinstance(h_t, torch.Tensor) else type(h_t).__name__
        raise ValueError(
            f"{_cell_name(cell)}.forward must return h_t of shape (batch, hidden_size) = "
            f"{(batch_size, hidden_size)}, got {shape}."
        )
    new_leaves = _check_state(cell, new_state, batch_size, "the new state returned by forward")
    old_leaves = as_leaves(state)
    if isinstance(new_state, tuple) != isinstance(state, tuple) or [
        tuple(leaf.shape) for leaf in new_leaves
    ] != [tuple(leaf.shape) for leaf in old_leaves]:
        raise ValueError(
            f"{_cell_name(cell)}.forward must return a new state of the same structure and "
            f"shapes as the state it was given: got {[tuple(s.shape) for s in new_leaves]} "
            f"({type(new_state).__name__}) for {[tuple(s.shape) for s in old_leaves]} "
            f"({type(state).__name__})."
        )
    return h_t, new_state


def step_loop(cell, x, lengths, state, hidden_size):
    """Run ``cell`` over a zero-padded batch, masking each sequence past its length.

    Parameters
    ----------
    cell : torch.nn.Module
        A protocol cell.
    x : torch.Tensor of shape (B, T, F)
    lengths : torch.Tensor of shape (B,), int64, on ``x``'s device
        Each sequence's number of real steps, 1 to T.
    state : tensor or tuple of tensors
        The initial state.
    hidden_size : int
        The size of ``h_t`` the cell must return.

    Returns
    -------
    outputs : torch.Tensor of shape (B, T, H)
        ``h_t`` at real steps, zero at padded steps.
    final_state : tensor or tuple of tensors
        Each sequence's state after its own last real step.
    """
    n_steps = x.shape[1]
    # Steps before the shortest length are real for every row: no masking there.
    shortest = int(lengths.min()) if n_steps else 0
    outputs = []
    for t in range(n_steps):
        if t == 0:
            h_t, new_state = checked_step(cell, x[:, 0], state, hidden_size)
        else:
            h_t, new_state = cell(x[:, t], state)  # (B, H), state
        if t >= shortest:
            active = (lengths > t).unsqueeze(1)  # (B, 1)
            new_leaves = tuple(
                torch.where(active.view(-1, *[1] * (new.dim() - 1)), new, old)
                for new, old in zip(as_leaves(new_state), as_leaves(state))
            )
            new_state = new_leaves if isinstance(new_state, tuple) else new_leaves[0]
            h_t = torch.where(active, h_t, torch.zeros((), dtype=h_t.dtype, device=h_t.device))
        outputs.append(h_t)
        state = new_state
    return torch.stack(outputs, dim=1), state  # (B, T, H)


class CellLayer(nn.Module):
    """One direction of one layer: a protocol cell run over padded batches.

    Parameters
    ----------
    cell_cls : type
        The cell class; it is built as ``cell_cls(input_size, hidden_size)``.
    input_size, hidden_size : int
    """

    def __init__(self, cell_cls, input_size, hidden_size):
        super().__init__()
        self.cell = cell_cls(input_size, hidden_size)
        self.hidden_size = hidden_size

    def initial_state(self, batch_size, device, dtype):
        return initial_state(self.cell, batch_size, self.hidden_size, device, dtype)

    def forward(self, x, lengths, backend="torch", state=None):
        """The layer over ``x`` (B, T, F) from ``state`` (None: the cell's initial state).

        Returns the outputs ``(B, T, H)``, zero at padded steps, and each
        sequence's state after its own last step.
        """
        if state is None:
            state = self.initial_state(x.shape[0], x.device, x.dtype)
        if backend == "numba":
            from .numba_bridge import kernel_layer

            return kernel_layer(self.cell, x, lengths, state, self.hidden_size)
        fused = getattr(self.cell, "forward_sequence", None)
        if fused is not None:
            return fused(x, lengths, state)
        return step_loop(self.cell, x, lengths, state, self.hidden_size)

    def step(self, x_t, state):
        """One unmasked step of every row (streaming): ``(h_t, new_state)``."""
        return checked_step(self.cell, x_t, state, self.hidden_size)
