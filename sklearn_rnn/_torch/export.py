"""Weights of a fitted network as NumPy arrays, in PyTorch's layout.

The torch-free predictor runs on these; torch is only needed to read them out.
"""

import numpy as np

WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def float32_numpy(tensor):
    """A float32 C-contiguous NumPy copy of ``tensor``, from any device."""
    return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.float32)


def network_arrays(module):
    """The cell, per-layer recurrent weights and head of a fitted built-in-cell network.

    Returns ``(cell, layers, head)``: ``layers`` has one tuple per layer of
    one ``(weight_ih, weight_hh, bias_ih, bias_hh)`` per direction (forward
    first); ``head`` is ``(weight, bias)`` of the output layer. All are float32
    C-contiguous copies.
    """
    cell = module.encoder.layer_name
    if cell is None:
        raise ValueError(
            f"Exporting weights for the torch-free predictor supports the built-in cells "
            f"'rnn', 'lstm' and 'gru' only; this model uses the cell {module.encoder.cell!r}. "
            "Pickle the estimator instead."
        )
    layers = [
        tuple(
            tuple(float32_numpy(getattr(direction, f"{name}_l0")) for name in WEIGHT_NAMES)
            for direction in directions
        )
        for directions in module.encoder.layers
    ]
    head = (float32_numpy(module.head.weight), float32_numpy(module.head.bias))
    return cell, layers, head
