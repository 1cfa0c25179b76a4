"""Initialisation of the built-in recurrent layers for long memory.

Applied once, after the network is built and before training starts (not
when training continues); the random matrices come from the fit's generator
(see :mod:`.randomness`).
"""

import torch
from torch import nn

from .modules import RecurrentEncoder
from .randomness import fit_generator

# Gate order of torch's weights: LSTM i, f, g, o; GRU r, z, n; RNN one block.
_FORGET_GATE = 1


def initialize_recurrent_weights(module, orthogonal=True, forget_bias=1.0):
    """Orthogonal recurrent weights and the LSTM forget-gate bias, in every encoder of ``module``.

    Each gate's ``(H, H)`` block of ``weight_hh`` becomes a random orthogonal
    matrix (Saxe et al. 2014; Le et al. 2015): at initialisation the
    recurrent map then neither shrinks nor grows the backward signal. The
    LSTM forget gate's input bias is set to ``forget_bias`` and its recurrent
    bias to zero, so their sum starts at ``forget_bias`` (Gers et al. 2000;
    Jozefowicz et al. 2015). Layers of plugin cells are left as their cells
    made them.
    """
    for encoder in (m for m in module.modules() if isinstance(m, RecurrentEncoder)):
        for directions in encoder.layers:
            for layer in directions:
                weights = _builtin_weights(layer)
                if weights is not None:
                    _initialize(*weights, orthogonal, forget_bias)


def _builtin_weights(layer):
    """``(weight_hh, bias_ih, bias_hh, hidden, is_lstm)`` of a built-in layer or regularised cell."""
    from .cell_layer import CellLayer
    from .regularized import RegularizedCell

    if isinstance(layer, (nn.RNN, nn.LSTM, nn.GRU)):
        return (layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0, layer.hidden_size,
                isinstance(layer, nn.LSTM))
    if isinstance(layer, CellLayer) and isinstance(layer.cell, RegularizedCell):
        cell = layer.cell
        return cell.weight_hh, cell.bias_ih, cell.bias_hh, cell.hidden_size, cell.kind == "lstm"
    return None  # a plugin cell: its own initialisation


@torch.no_grad()
def _initialize(weight_hh, bias_ih, bias_hh, hidden, is_lstm, orthogonal, forget_bias):
    if orthogonal:
        generator = fit_generator(weight_hh.device)
        for start in range(0, weight_hh.shape[0], hidden):  # (G*H, H), gate by gate
            nn.init.orthogonal_(weight_hh[start : start + hidden], generator=generator)
    if forget_bias is not None and is_lstm:
        forget = slice(_FORGET_GATE * hidden, (_FORGET_GATE + 1) * hidden)
        bias_ih[forget] = forget_bias
        bias_hh[forget] = 0.0
