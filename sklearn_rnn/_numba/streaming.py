"""A unidirectional recurrent network run one time step at a time on kernels."""

import numpy as np

from .._stream_state import StreamState
from .cells import init_state, prepare_weights, step


class BuiltinStepper:
    """One layer of a built-in cell stepping on this package's kernels.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    weights : (weight_ih, weight_hh, bias_ih, bias_hh) or PreparedWeights
        Float32 weights in PyTorch's layout.
    """

    def __init__(self, cell, weights):
        self.cell = cell
        self.weights = prepare_weights(cell, weights)
        self.hidden_size = self.weights.hidden_size

    def init_state(self, n_streams):
        return init_state(self.cell, n_streams, self.hidden_size)

    def step(self, x_t, state):
        return step(self.cell, x_t, state, self.weights)  # (n_streams, H), new state


class StreamingNetwork:
    """Stacked layer steppers plus the linear head, on NumPy arrays only.

    Parameters
    ----------
    steppers : list
        One per layer, first layer first: objects with ``init_state(n_streams)``
        (a tuple of arrays) and ``step(x_t, state)`` (``(h_t, new_state)``),
        such as :class:`BuiltinStepper`.
    head : (weight, bias)
        Output layer, ``(n_outputs, hidden_size)`` and ``(n_outputs,)``.
    """

    def __init__(self, steppers, head):
        self.steppers = steppers
        self.head_weight_t = np.ascontiguousarray(head[0].T)  # (H, n_outputs)
        # (1, n_outputs): adding a row costs a third of broadcasting a 1-D bias.
        self.head_bias = np.ascontiguousarray(head[1][None, :])

    def init_state(self, n_streams):
        return StreamState(tuple(s.init_state(n_streams) for s in self.steppers), n_streams)

    def step(self, x_t, state):
        """Outputs ``(n_streams, n_outputs)`` after feeding ``x_t`` and the new state."""
        new_layers = []
        h = x_t  # (n_streams, F)
        for stepper, layer_state in zip(self.steppers, state.layers):
            h, new_state = stepper.step(h, layer_state)  # (n_streams, H)
            new_layers.append(tuple(new_state))
        # ndarray.dot: np.matmul (@) costs 3x as much on one stream.
        outputs = h.dot(self.head_weight_t) + self.head_bias  # (n_streams, n_outputs)
        return outputs, StreamState(tuple(new_layers), state.n_streams)
