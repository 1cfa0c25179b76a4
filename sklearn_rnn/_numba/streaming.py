"""A unidirectional recurrent network run one time step at a time on the kernels."""

import numpy as np

from .._stream_state import StreamState
from .cells import init_state, prepare_weights, step


class StreamingNetwork:
    """Stacked layers plus the linear head, stepping with the numba kernels.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    layers : list of (weight_ih, weight_hh, bias_ih, bias_hh)
        Float32 weights in PyTorch's layout, first layer first.
    head : (weight, bias)
        Output layer, ``(n_outputs, hidden_size)`` and ``(n_outputs,)``.
    """

    def __init__(self, cell, layers, head):
        self.cell = cell
        self.layers = [prepare_weights(cell, weights) for weights in layers]
        self.hidden_size = layers[0][1].shape[1]
        self.n_features = layers[0][0].shape[1]
        self.head_weight_t = np.ascontiguousarray(head[0].T)  # (H, n_outputs)
        self.head_bias = head[1]

    def init_state(self, n_streams):
        return StreamState(
            [init_state(self.cell, n_streams, self.hidden_size) for _ in self.layers], n_streams
        )

    def step(self, x_t, state):
        """Outputs ``(n_streams, n_outputs)`` after feeding ``x_t`` and the new state."""
        new_layers = []
        h = x_t  # (n_streams, F)
        for weights, layer_state in zip(self.layers, state.layers):
            h, new_state = step(self.cell, h, layer_state, weights)  # (n_streams, H)
            new_layers.append(new_state)
        outputs = h @ self.head_weight_t + self.head_bias  # (n_streams, n_outputs)
        return outputs, StreamState(new_layers, state.n_streams)
