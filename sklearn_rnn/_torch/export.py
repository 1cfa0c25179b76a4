"""Weights of a fitted network as NumPy arrays, in PyTorch's layout.

The numba backend and the torch-free predictor run on these; torch is only
needed to read them out.
"""

import numpy as np

WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _numpy(tensor):
    return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.float32)


def network_arrays(module, *, allow_bidirectional=False):
    """The cell, per-layer recurrent weights and head of a fitted network.

    Returns ``(cell, layers, head)``: ``layers`` has one tuple per layer of
    one ``(weight_ih, weight_hh, bias_ih, bias_hh)`` per direction (forward
    first); ``head`` is ``(weight, bias)`` of the output layer. All are float32
    C-contiguous copies. Without ``allow_bidirectional`` (streaming), a
    bidirectional network is an error and each layer is a single tuple.
    """
    bidirectional = module.hyperparameters["bidirectional"]
    if bidirectional and not allow_bidirectional:
        raise ValueError(
            "Streaming needs a unidirectional model: a bidirectional layer reads each "
            "sequence backwards from its end, which has not arrived yet."
        )
    layers = [
        tuple(
            tuple(_numpy(getattr(direction, f"{name}_l0")) for name in WEIGHT_NAMES)
            for direction in directions
        )
        for directions in module.encoder.layers
    ]
    if not allow_bidirectional:
        layers = [directions[0] for directions in layers]
    head = (_numpy(module.head.weight), _numpy(module.head.bias))
    return module.hyperparameters["cell"], layers, head
