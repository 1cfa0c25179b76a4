"""Gradient clipping on every backend, and the stop on a non-finite loss or gradient."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from sklearn_rnn import RecurrentClassifier, RNNRegressor
from sklearn_rnn.exceptions import TrainingDivergedError

FAST = dict(hidden_size=6, batch_size=8, random_state=0)


def ragged_problem(n_samples=40, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(3, 10), 2)) for _ in range(n_samples)]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    return X, y


class FlakyCell(nn.Module):
    """An Elman cell that outputs NaN while ``FlakyCell.broken`` is set."""

    broken = False

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.linear = nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x_t, state):
        h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))  # (B, H)
        if FlakyCell.broken:
            h_t = h_t * float("nan")
        return h_t, h_t


class BreakAt(Callback):
    """Sets ``FlakyCell.broken`` from a given epoch and batch on; keeps the weights before it."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def initialize(self):
        self.seen_ = 0
        self.weights_before_ = None
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.seen_ = 0

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        self.seen_ += 1
        if len(net.history) == self.epoch and self.seen_ == self.batch:
            self.weights_before_ = {k: v.clone() for k, v in net.module_.state_dict().items()}
            FlakyCell.broken = True


@pytest.fixture(autouse=True)
def repair_flaky_cell():
    yield
    FlakyCell.broken = False


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_the_weights():
    X, y = ragged_problem()
    breaker = BreakAt(epoch=3, batch=2)
    clf = RecurrentClassifier(cell=FlakyCell, max_iter=6, callbacks=[breaker], **FAST)
    with pytest.raises(TrainingDivergedError, match=r"epoch 3, batch 2") as excinfo:
        clf.fit(X, y)
    assert (excinfo.value.epoch, excinfo.value.batch) == (3, 2)
    message = str(excinfo.value)
    assert "learning_rate" in message and "clip_grad_norm" in message
    assert isinstance(excinfo.value, ValueError)
    # The weights are those from just before the failing batch.
    kept = clf.net_.module_.state_dict()
    assert all(torch.equal(kept[k], v) for k, v in breaker.weights_before_.items())
    # Two complete epochs are recorded; the estimator predicts.
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2 and np.isfinite(clf.loss_curve_).all()
    FlakyCell.broken = False
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all() and proba.shape == (len(X), 2)
    # ... and can continue training.
    clf.set_params(warm_start=True, callbacks=None, max_iter=2).fit(X, y)
    assert clf.n_iter_ == 4


def test_overflowing_target_stops_on_the_first_batch():
    X = np.ones((8, 5, 1))
    reg = RNNRegressor(max_iter=3, **FAST)
    with pytest.raises(TrainingDivergedError, match="epoch 1, batch 1"):
        reg.fit(X, np.full(8, 1e38))
    assert reg.n_iter_ == 0 and reg.loss_curve_ == []
    assert np.isfinite(reg.predict(X)).all()


class OverflowingSGD(torch.optim.SGD):
    """SGD whose update overflows every weight, as a huge learning rate would."""

    def step(self, closure=None):
        loss = super().step(closure)
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.mul_(float("inf"))
        return loss


def test_an_update_that_overflows_the_weights_restores_the_last_epoch():
    """Finite gradients, non-finite weights after the update: the last complete epoch's return."""
    X, y = ragged_problem()

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            self.weights_ = {k: v.clone() for k, v in net.module_.state_dict().items()}

    snapshot = Snapshot()
    clf = RecurrentClassifier(
        cell="rnn", optimizer="sgd", learning_rate=1e-3, max_iter=4, callbacks=[snapshot],
        backend="torch", **FAST,
    )
    clf.fit(X, y)
    clf.set_params(warm_start=True, optimizer=OverflowingSGD)
    with pytest.raises(TrainingDivergedError, match="an update made the weights") as excinfo:
        clf.fit(X, y)
    assert "of the last complete epoch" in str(excinfo.value)
    kept = clf.net_.module_.state_dict()
    assert all(torch.equal(kept[k], v) for k, v in snapshot.weights_.items())
    assert all(torch.isfinite(v).all() for v in kept.values())
    assert clf.n_iter_ == 4


@pytest.mark.parametrize("backend", ["torch", "numba"])
@pytest.mark.parametrize("cell", ["rnn", "gru", FlakyCell])
def test_gradient_is_clipped_to_the_set_norm(backend, cell):
    """On every backend, the optimizer sees gradients of norm at most clip_grad_norm."""
    if backend == "numba" and cell is FlakyCell:
        pytest.skip("FlakyCell has no numba kernels")
    norms = []

    class RecordNorm(Callback):  # runs after the guard, before the optimizer step
        def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
            grads = [p.grad for _, p in named_parameters if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

    X, y = ragged_problem()
    RecurrentClassifier(
        cell=cell, backend=backend, clip_grad_norm=1e-3, max_iter=2, callbacks=[RecordNorm()],
        **FAST,
    ).fit(X, y)
    assert norms and max(norms) == pytest.approx(1e-3, rel=1e-3)  # clipped, and clipping bites


def test_clipping_can_be_turned_off():
    norms = []

    class RecordNorm(Callback):
        def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
            norms.append(
                float(sum(p.grad.norm() ** 2 for _, p in named_parameters if p.grad is not None))
                ** 0.5
            )

    X, y = ragged_problem()
    clf = RecurrentClassifier(clip_grad_norm=None, max_iter=2, callbacks=[RecordNorm()], **FAST)
    clf.fit(X, y)
    assert dict(clf.net_.callbacks_)["gradient_guard"].max_norm is None
    assert max(norms) > 1e-3  # unclipped gradients of this problem are larger
