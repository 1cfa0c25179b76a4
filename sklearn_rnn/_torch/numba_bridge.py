"""Autograd bridge: one recurrent layer computed by the numba kernels.

Forward and backward run the hand-derived kernels of ``sklearn_rnn._numba``
on the layer's own torch parameters (same layout), so a module can switch
between torch's layers and the kernels without changing its weights, and the
skorch training loop trains through either. CPU tensors only.
"""

import torch

from .export import WEIGHT_NAMES


class NumbaLayerFunction(torch.autograd.Function):
    """``output (B, T, H) = layer(x (B, T, F))`` over a zero-padded batch with lengths."""

    @staticmethod
    def forward(ctx, cell, x, lengths, weight_ih, weight_hh, bias_ih, bias_hh):
        from .._numba import forward

        if x.device.type != "cpu":
            raise ValueError(
                f"The numba backend runs on the CPU, but the data is on {x.device}; "
                "use backend='torch' on a GPU."
            )
        weights = tuple(w.detach().numpy() for w in (weight_ih, weight_hh, bias_ih, bias_hh))
        result = forward(
            cell,
            x.detach().numpy(),
            lengths.numpy(),
            weights,
            save=any(ctx.needs_input_grad),
        )
        ctx.numba_saved = result.saved
        return torch.from_numpy(result.output)  # (B, T, H), zero at padded steps

    @staticmethod
    def backward(ctx, grad_output):
        from .._numba import backward

        grads = backward(ctx.numba_saved, grad_output.detach().contiguous().numpy())
        return (
            None,
            torch.from_numpy(grads.x),
            None,
            torch.from_numpy(grads.weight_ih),
            torch.from_numpy(grads.weight_hh),
            torch.from_numpy(grads.bias_ih),
            torch.from_numpy(grads.bias_hh),
        )


def numba_layer(layer, cell, x, lengths):
    """Run the single-layer torch ``layer`` (nn.RNN/LSTM/GRU) through the kernels."""
    weights = [getattr(layer, f"{name}_l0") for name in WEIGHT_NAMES]
    return NumbaLayerFunction.apply(cell, x.contiguous(), lengths, *weights)
