"""Weights of a fitted network as NumPy arrays, in PyTorch's layout.

The numba backend and the torch-free predictor run on these; torch is only
needed to read them out.
"""

import numpy as np


def network_arrays(module):
    """The cell, per-layer recurrent weights and head of a unidirectional network.

    Returns ``(cell, layers, head)``: ``layers`` is a list with one
    ``(weight_ih, weight_hh, bias_ih, bias_hh)`` tuple per layer and ``head``
    is ``(weight, bias)`` of the output layer; all float32 C-contiguous copies.
    """
    if module.hyperparameters["bidirectional"]:
        raise ValueError(
            "Streaming needs a unidirectional model: a bidirectional layer reads each "
            "sequence backwards from its end, which has not arrived yet."
        )

    def numpy(tensor):
        return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.float32)

    layers = [
        tuple(numpy(getattr(directions[0], f"{name}_l0")) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        for directions in module.encoder.layers
    ]
    head = (numpy(module.head.weight), numpy(module.head.bias))
    return module.hyperparameters["cell"], layers, head
