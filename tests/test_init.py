"""Initialisation for long memory: orthogonal recurrent weights, LSTM forget-gate bias."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_rnn import RecurrentClassifier, RecurrentRegressor

X = np.random.RandomState(0).normal(size=(16, 5, 3))
y = np.array([0, 1] * 8)
ONE_EPOCH_NO_STEP = dict(hidden_size=6, max_iter=1, learning_rate=1e-12, random_state=0)


def layers(est):
    return [layer for directions in est.net_.module_.encoder.layers for layer in directions]


def gate_blocks(layer):
    weight = layer.weight_hh_l0.detach().double()  # (G*H, H)
    hidden = layer.hidden_size
    return [weight[i : i + hidden] for i in range(0, weight.shape[0], hidden)]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_weights_are_orthogonal_per_gate_by_default(cell):
    clf = RecurrentClassifier(
        cell=cell, num_layers=2, bidirectional=True, **ONE_EPOCH_NO_STEP
    ).fit(X, y)
    for layer in layers(clf):
        for block in gate_blocks(layer):
            np.testing.assert_allclose(block @ block.T, np.eye(6), atol=1e-5)
    off = RecurrentClassifier(cell=cell, orthogonal_init=False, **ONE_EPOCH_NO_STEP).fit(X, y)
    block = gate_blocks(layers(off)[0])[0]
    assert not np.allclose(block @ block.T, np.eye(6), atol=0.1)  # torch's uniform init


def test_lstm_forget_gate_bias():
    reg = RecurrentRegressor(cell="lstm", num_layers=2, **ONE_EPOCH_NO_STEP).fit(X, X[:, 0, 0])
    for layer in layers(reg):
        total = (layer.bias_ih_l0 + layer.bias_hh_l0).detach()[6:12]  # gates i, f, g, o
        np.testing.assert_allclose(total, 1.0, atol=1e-6)
    custom = RecurrentRegressor(cell="lstm", forget_bias=2.5, **ONE_EPOCH_NO_STEP)
    layer = layers(custom.fit(X, X[:, 0, 0]))[0]
    np.testing.assert_allclose((layer.bias_ih_l0 + layer.bias_hh_l0).detach()[6:12], 2.5, atol=1e-6)
    torch_default = RecurrentRegressor(cell="lstm", forget_bias=None, **ONE_EPOCH_NO_STEP)
    layer = layers(torch_default.fit(X, X[:, 0, 0]))[0]
    assert float(layer.bias_ih_l0[6:12].detach().abs().max()) < 1 / np.sqrt(6) + 1e-6


def test_initialisation_is_seeded():
    a = RecurrentClassifier(cell="gru", **ONE_EPOCH_NO_STEP).fit(X, y)
    b = RecurrentClassifier(cell="gru", **ONE_EPOCH_NO_STEP).fit(X, y)
    assert torch.equal(layers(a)[0].weight_hh_l0, layers(b)[0].weight_hh_l0)


class PlainElman(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.weight_hh = nn.Parameter(torch.full((hidden_size, hidden_size), 0.1))
        self.linear = nn.Linear(input_size, hidden_size)

    def forward(self, x_t, state):
        h_t = torch.tanh(self.linear(x_t) + state @ self.weight_hh.T)
        return h_t, h_t


def test_plugin_cells_keep_their_own_initialisation():
    clf = RecurrentClassifier(cell=PlainElman, **ONE_EPOCH_NO_STEP).fit(X, y)
    weight = clf.net_.module_.encoder.layers[0][0].cell.weight_hh
    np.testing.assert_allclose(weight.detach(), 0.1, atol=1e-6)
