"""The built-in cells ``"rnn"``, ``"lstm"`` and ``"gru"`` as protocol cells.

Each is torch's own cell (``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``,
same weights, same layout) with the step signature of the cell protocol
(docs/cell_protocol.md) and every optional part of it: ``init_state``, a
fused ``forward_sequence`` (torch's recurrent kernels on a packed batch) and
``numba_kernels`` (the hand-derived kernels of ``sklearn_rnn._numba``). They
are what the registry returns for the built-in names and what
``sklearn_rnn.testing.check_cell`` checks the host against.

Inside the estimators a built-in cell runs as a whole layer, ``nn.RNN``/
``nn.LSTM``/``nn.GRU`` on an unpacked padded batch (faster than packing,
docs/benchmarks.md), or on the numba kernels; :data:`BUILTIN_LAYERS` tells
the encoder which classes to run that way. Subclasses are plugin cells: they
may change ``forward``, so they run through the generic step loop.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

# torch's fused recurrent functions, on packed data:
# fn(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
_FUSED = {"rnn": torch.rnn_tanh, "lstm": torch.lstm, "gru": torch.gru}


def as_leaves(state):
    """A state as a tuple of tensors (a single tensor is a 1-tuple)."""
    return state if isinstance(state, tuple) else (state,)


class BuiltinKernels:
    """The ``numba_kernels`` of a built-in cell: ``sklearn_rnn._numba`` in the protocol's form.

    numba is imported on the first call, not when the cell is imported.
    """

    def __init__(self, cell):
        self.cell = cell

    def __repr__(self):
        return f"BuiltinKernels({self.cell!r})"

    def forward(self, x, lengths, params, state, save):
        from .._numba import forward

        result = forward(self.cell, x, lengths, params, state, save=save)
        return result.output, result.state, result.saved

    def backward(self, saved, grad_outputs, grad_final_state):
        from .._numba import backward

        grads = backward(saved, grad_outputs, grad_final_state)
        return grads.x, (grads.weight_ih, grads.weight_hh, grads.bias_ih, grads.bias_hh), grads.state

    def step(self, x_t, state, params):
        from .._numba import step

        return step(self.cell, x_t, state, params)


class _BuiltinCell:
    """What the three built-in cells share; mixed in before torch's cell class."""

    layer = None  # "rnn", "lstm" or "gru"

    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)

    def init_state(self, batch_size, device, dtype):
        """Zeros: ``h``, or ``(h, c)`` for LSTM, each ``(batch_size, hidden_size)``."""
        zeros = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
        return (zeros, zeros.clone()) if self.layer == "lstm" else zeros

    def forward(self, x_t, state):
        """One step: ``x_t`` (B, F) and the state -> ``(h_t, new_state)``."""
        new_state = super().forward(x_t, state)  # h (B, H), or (h, c) for LSTM
        return as_leaves(new_state)[0], new_state

    def forward_sequence(self, x, lengths, state):
        """The whole zero-padded batch ``x`` (B, T, F) with ``lengths`` (B,) in one fused call.

        Returns ``outputs`` (B, T, H), zero at padded steps, and each
        sequence's state after its own last step.
        """
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        hx = tuple(s.index_select(0, packed.sorted_indices).unsqueeze(0) for s in as_leaves(state))
        params = [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]
        result = _FUSED[self.layer](
            packed.data,
            packed.batch_sizes,
            hx if self.layer == "lstm" else hx[0],  # each (1, B, H), in sorted order
            params,
            True,  # has_biases
            1,  # num_layers
            0.0,  # dropout
            self.training,
            False,  # bidirectional
        )
        data, final = result[0], result[1:]
        outputs, _ = pad_packed_sequence(
            PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
            batch_first=True,
            total_length=x.shape[1],
        )  # (B, T, H)
        final = tuple(s[0].index_select(0, packed.unsorted_indices) for s in final)  # each (B, H)
        return outputs, final if self.layer == "lstm" else final[0]


class RNNCell(_BuiltinCell, nn.RNNCell):
    """Elman cell: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (torch's ``nn.RNNCell``)."""

    layer = "rnn"
    description = "Elman cell with tanh (torch.nn.RNN; numba kernels)"
    numba_kernels = BuiltinKernels("rnn")


class LSTMCell(_BuiltinCell, nn.LSTMCell):
    """Long short-term memory cell, gates i, f, g, o (torch's ``nn.LSTMCell``); state ``(h, c)``."""

    layer = "lstm"
    description = "Long short-term memory (torch.nn.LSTM; numba kernels)"
    numba_kernels = BuiltinKernels("lstm")


class GRUCell(_BuiltinCell, nn.GRUCell):
    """Gated recurrent unit, gates r, z, n (torch's ``nn.GRUCell``)."""

    layer = "gru"
    description = "Gated recurrent unit (torch.nn.GRU; numba kernels)"
    numba_kernels = BuiltinKernels("gru")


# The classes the encoder runs as whole torch/numba layers, and their layer names.
BUILTIN_LAYERS = {RNNCell: "rnn", LSTMCell: "lstm", GRUCell: "gru"}
