"""Initialisation of the built-in recurrent layers for long memory.

Applied once, after the network is built and before training starts (not
when training continues), inside the estimator's seeded context.
"""

import torch
from torch import nn

from .modules import RecurrentEncoder

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
        if encoder.layer_name is None:
            continue
        for directions in encoder.layers:
            for layer in directions:
                _initialize_layer(layer, orthogonal, forget_bias)


@torch.no_grad()
def _initialize_layer(layer, orthogonal, forget_bias):
    hidden = layer.hidden_size
    if orthogonal:
        weight = layer.weight_hh_l0  # (G*H, H)
        for start in range(0, weight.shape[0], hidden):
            nn.init.orthogonal_(weight[start : start + hidden])
    if forget_bias is not None and isinstance(layer, nn.LSTM):
        forget = slice(_FORGET_GATE * hidden, (_FORGET_GATE + 1) * hidden)
        layer.bias_ih_l0[forget] = forget_bias
        layer.bias_hh_l0[forget] = 0.0
