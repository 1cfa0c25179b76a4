"""A fitted unidirectional network run one time step at a time.

:class:`TorchStreamingNetwork` steps the module's own layers on any device
(``backend="torch"``); :func:`numba_streaming_network` builds the NumPy
:class:`~sklearn_rnn._numba.streaming.StreamingNetwork` of the numba
backend, on this package's kernels for the built-in cells and on a cell's own
``numba_kernels`` for the others. Both use the same NumPy
:class:`~sklearn_rnn._stream_state.StreamState` (one tuple of arrays per
layer), so a stream may switch backends between steps.
"""

import numpy as np
import torch

from .._stream_state import STREAMING_NEEDS_UNIDIRECTIONAL, StreamState
from .cell_layer import CellLayer
from .cells import as_leaves
from .export import WEIGHT_NAMES, float32_numpy


def _check_unidirectional(module):
    if module.hyperparameters["bidirectional"]:
        raise ValueError(STREAMING_NEEDS_UNIDIRECTIONAL)


def _initial_leaves(layer, n_streams):
    """A layer's initial state for ``n_streams`` as a tuple of float32 arrays."""
    if isinstance(layer, CellLayer):
        with torch.inference_mode():
            state = layer.initial_state(n_streams, torch.device("cpu"), torch.float32)
        return tuple(float32_numpy(leaf) for leaf in as_leaves(state))
    n_arrays = 2 if isinstance(layer, torch.nn.LSTM) else 1  # (h, c) or (h,)
    return tuple(np.zeros((n_streams, layer.hidden_size), np.float32) for _ in range(n_arrays))


class TorchStreamingNetwork:
    """Steps the encoder layers and head of a fitted ``ManyToOneNetwork`` with torch.

    Parameters
    ----------
    module : ManyToOneNetwork
        The fitted module; must be unidirectional.
    device : str
        Torch device the module lives on.
    """

    def __init__(self, module, device):
        _check_unidirectional(module)
        self.module = module
        self.device = torch.device(device)
        self.layers = [directions[0] for directions in module.encoder.layers]
        # Whether each plugin cell's state is a tuple (the protocol allows a bare tensor).
        self.state_is_tuple = [
            isinstance(layer.initial_state(1, torch.device("cpu"), torch.float32), tuple)
            if isinstance(layer, CellLayer)
            else isinstance(layer, torch.nn.LSTM)
            for layer in self.layers
        ]

    def init_state(self, n_streams):
        return StreamState([_initial_leaves(layer, n_streams) for layer in self.layers], n_streams)

    def _step_layer(self, layer, is_tuple, h, leaves):
        """One step of one layer: ``h`` (n_streams, F) -> (n_streams, H), new state leaves."""
        state = leaves if is_tuple else leaves[0]
        if isinstance(layer, CellLayer):
            h, new_state = layer.step(h, state)
            return h, as_leaves(new_state)
        hx = tuple(s.unsqueeze(0) for s in leaves)  # each (1, n_streams, H)
        out, new_hx = layer(h.unsqueeze(1), hx if is_tuple else hx[0])
        return out[:, 0], tuple(s[0] for s in as_leaves(new_hx))

    def step(self, x_t, state):
        """Outputs ``(n_streams, n_outputs)`` after feeding ``x_t`` and the new state."""
        module = self.module
        if module.training:
            module.eval()
        new_layers = []
        with torch.inference_mode():
            h = torch.from_numpy(x_t).to(self.device)  # (n_streams, F)
            for layer, is_tuple, leaves in zip(self.layers, self.state_is_tuple, state.layers):
                # Copies: the arrays of a returned state are read-only (torch warns).
                leaves = tuple(torch.from_numpy(s.copy()).to(self.device) for s in leaves)
                h, new_leaves = self._step_layer(layer, is_tuple, h, leaves)  # (n_streams, H)
                new_layers.append(tuple(s.cpu().numpy().copy() for s in new_leaves))
            outputs = module.head(h).cpu().numpy()  # (n_streams, n_outputs)
        return outputs, StreamState(new_layers, state.n_streams)


class KernelStepper:
    """One layer of a plugin cell stepping on the cell's ``numba_kernels.step``.

    The weights are read out once, as float32 arrays in the order of
    ``cell.named_parameters()``; stepping uses NumPy and the kernels only.
    """

    def __init__(self, layer):
        from .numba_bridge import cell_kernels

        self.layer = layer
        self.kernels = cell_kernels(layer.cell)
        self.params = tuple(float32_numpy(p) for _, p in layer.cell.named_parameters())

    def init_state(self, n_streams):
        return _initial_leaves(self.layer, n_streams)

    def step(self, x_t, state):
        h, new_state = self.kernels.step(x_t, tuple(state), self.params)
        return h, as_leaves(new_state)


def numba_streaming_network(module):
    """The NumPy streaming network of a fitted unidirectional module, on numba kernels."""
    from .._numba.streaming import BuiltinStepper, StreamingNetwork

    _check_unidirectional(module)
    steppers = []
    for directions in module.encoder.layers:
        layer = directions[0]
        if isinstance(layer, CellLayer):
            steppers.append(KernelStepper(layer))
        else:
            weights = tuple(float32_numpy(getattr(layer, f"{n}_l0")) for n in WEIGHT_NAMES)
            steppers.append(BuiltinStepper(module.encoder.layer_name, weights))
    head = (float32_numpy(module.head.weight), float32_numpy(module.head.bias))
    return StreamingNetwork(steppers, head)
