"""Recurrent (variational) dropout and layer normalisation on the built-in cells."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_rnn import RecurrentClassifier, RecurrentRegressor, SequenceTagger
from sklearn_rnn._torch.cell_layer import CellLayer
from sklearn_rnn._torch.regularized import RegularizedCell
from sklearn_rnn.testing import check_cell

FAST = dict(hidden_size=6, max_iter=2, batch_size=8, random_state=0)


def ragged_problem(n_samples=40, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(3, 10), 2)) for _ in range(n_samples)]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    return X, y


class LayerNormLSTM(RegularizedCell):
    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size, "lstm", recurrent_dropout=0.3, layer_norm=True)


class LayerNormGRU(RegularizedCell):
    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size, "gru", recurrent_dropout=0.0, layer_norm=True)


class DropoutRNN(RegularizedCell):
    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size, "rnn", recurrent_dropout=0.5)


@pytest.mark.parametrize("cell_cls", [LayerNormLSTM, LayerNormGRU, DropoutRNN])
def test_regularized_cells_follow_the_cell_protocol(cell_cls):
    check_cell(cell_cls)


@pytest.mark.parametrize(
    "kind, torch_cell", [("rnn", nn.RNNCell), ("lstm", nn.LSTMCell), ("gru", nn.GRUCell)]
)
def test_without_options_the_equations_are_torchs(kind, torch_cell):
    torch.manual_seed(0)
    ours = RegularizedCell(3, 4, kind).double()
    theirs = torch_cell(3, 4).double()
    theirs.load_state_dict(ours.state_dict())
    x, h, c = torch.randn(5, 3).double(), torch.randn(5, 4).double(), torch.randn(5, 4).double()
    if kind == "lstm":
        h_new, (_, c_new) = ours(x, (h, c))
        expected_h, expected_c = theirs(x, (h, c))
        torch.testing.assert_close(c_new, expected_c)
    else:
        h_new, _ = ours(x, (h,))
        expected_h = theirs(x, h)
    torch.testing.assert_close(h_new, expected_h)


def test_the_dropout_mask_is_drawn_once_per_sequence():
    cell = RegularizedCell(2, 50, "gru", recurrent_dropout=0.4).train()
    state = cell.init_state(3, torch.device("cpu"), torch.float32)
    mask = state[-1]
    values = torch.unique(mask).tolist()
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(1 / 0.6)
    for _ in range(4):
        _, state = cell(torch.randn(3, 2), state)
        assert torch.equal(state[-1], mask)  # the same units dropped at every step
    with torch.no_grad():  # predicting or streaming: nothing dropped
        assert torch.all(cell.init_state(3, torch.device("cpu"), torch.float32)[-1] == 1)
    cell.eval()
    assert torch.all(cell.init_state(3, torch.device("cpu"), torch.float32)[-1] == 1)


@pytest.mark.parametrize("options", [{"recurrent_dropout": 0.3}, {"layer_norm": True},
                                     {"recurrent_dropout": 0.2, "layer_norm": True}])
def test_estimators_train_with_the_options(options):
    X, y = ragged_problem()
    clf = RecurrentClassifier(cell="lstm", num_layers=2, **options, **FAST).fit(X, y)
    layers = [layer for directions in clf.net_.module_.encoder.layers for layer in directions]
    assert all(isinstance(layer, CellLayer) and isinstance(layer.cell, RegularizedCell)
               for layer in layers)
    assert clf._backend() == "torch"  # no numba kernels for these cells
    proba = clf.predict_proba(X)
    # Padding never matters; prediction is deterministic; pickling keeps it.
    alone = clf.predict_proba(X[:1])
    np.testing.assert_allclose(alone, proba[:1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
    # Streaming equals predict.
    reg = RecurrentRegressor(cell="gru", **options, **FAST).fit(X, y.astype(float))
    state = reg.init_state(1)
    for x_t in X[3]:
        streamed, state = reg.predict_step(x_t[None, :], state)
    np.testing.assert_allclose(streamed, reg.predict(X[3:4]), rtol=1e-5, atol=1e-6)


def test_recurrent_dropout_changes_training_and_is_seeded():
    X, y = ragged_problem()
    plain = RecurrentClassifier(cell="rnn", layer_norm=True, **FAST).fit(X, y)
    dropped = RecurrentClassifier(cell="rnn", layer_norm=True, recurrent_dropout=0.5, **FAST)
    dropped.fit(X, y)
    again = RecurrentClassifier(cell="rnn", layer_norm=True, recurrent_dropout=0.5, **FAST)
    again.fit(X, y)
    assert plain.loss_curve_ != dropped.loss_curve_
    assert dropped.loss_curve_ == again.loss_curve_


def test_orthogonal_initialisation_reaches_the_regularized_cells():
    X, y = ragged_problem()
    clf = RecurrentClassifier(cell="lstm", layer_norm=True, max_iter=1, learning_rate=1e-12,
                              hidden_size=5, random_state=0).fit(X, y)
    cell = clf.net_.module_.encoder.layers[0][0].cell
    for start in range(0, 20, 5):
        block = cell.weight_hh[start : start + 5].detach().double()
        np.testing.assert_allclose(block @ block.T, np.eye(5), atol=1e-5)
    np.testing.assert_allclose((cell.bias_ih + cell.bias_hh)[5:10].detach(), 1.0, atol=1e-6)


def test_the_tagger_takes_the_options():
    X, _ = ragged_problem()
    y = [(x[:, 0] > 0).astype(int) for x in X]
    tagger = SequenceTagger(layer_norm=True, recurrent_dropout=0.1, **FAST).fit(X, y)
    assert 0 <= tagger.score(X, y) <= 1


def test_errors():
    X, y = ragged_problem()

    class Plain(nn.Module):
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.linear = nn.Linear(input_size + hidden_size, hidden_size)

        def forward(self, x_t, state):
            h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))
            return h_t, h_t

    with pytest.raises(ValueError, match="options of the built-in cells"):
        RecurrentClassifier(cell=Plain, layer_norm=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="numba kernels"):
        RecurrentClassifier(layer_norm=True, backend="numba", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        RecurrentClassifier(recurrent_dropout=1.0, **FAST).fit(X, y)
