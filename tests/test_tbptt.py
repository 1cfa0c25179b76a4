"""Truncated backpropagation through time (``tbptt_steps``)."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from sklearn_rnn import CharLanguageModel, RecurrentClassifier, RecurrentRegressor

FAST = dict(hidden_size=5, max_iter=3, batch_size=8, random_state=0)


def ragged_problem(n_samples=40, max_len=12, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(3, max_len + 1), 2)) for _ in range(n_samples)]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    return X, y


def weights(est):
    return [p.detach().clone() for p in est.net_.module_.parameters()]


def same(a, b):
    return all(torch.equal(u, v) for u, v in zip(a, b))


class PlainElman(nn.Module):
    """A plugin-style cell (the masked step loop, not a fused layer)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.linear = nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x_t, state):
        h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))  # (B, H)
        return h_t, h_t


@pytest.mark.parametrize(
    "cell, backend",
    [("lstm", "torch"), ("lstm", "numba"), ("gru", "torch"), ("rnn", "numba"), (PlainElman, "torch")],
)
def test_steps_at_least_the_longest_sequence_equal_full_bptt(cell, backend):
    """One chunk: the same updates, bit for bit, as training on whole sequences."""
    X, y = ragged_problem()
    settings = dict(cell=cell, backend=backend, num_layers=2, **FAST)
    full = weights(RecurrentClassifier(**settings).fit(X, y))
    for steps in (12, 50):  # 12 is the longest length
        assert same(full, weights(RecurrentClassifier(tbptt_steps=steps, **settings).fit(X, y)))
    assert not same(full, weights(RecurrentClassifier(tbptt_steps=4, **settings).fit(X, y)))


def test_regressor_and_language_model_equal_full_bptt_too():
    X, y = ragged_problem()
    target = np.array([x[:, 1].sum() for x in X])
    full = weights(RecurrentRegressor(**FAST).fit(X, target))
    assert same(full, weights(RecurrentRegressor(tbptt_steps=12, **FAST).fit(X, target)))
    texts = ["hello world", "abc abc abc", "the cat"] * 5
    lm = dict(hidden_size=8, max_iter=2, batch_size=4, random_state=0)
    full = weights(CharLanguageModel(**lm).fit(texts))
    assert same(full, weights(CharLanguageModel(tbptt_steps=200, **lm).fit(texts)))
    assert not same(full, weights(CharLanguageModel(tbptt_steps=3, **lm).fit(texts)))


def test_updates_happen_after_every_chunk_with_a_loss():
    """Many-to-one: one update per chunk in which some sequence of the batch ends."""
    steps_taken = []

    class CountSteps(Callback):
        def on_grad_computed(self, net, **kwargs):
            steps_taken.append(1)

    X = [np.ones((10, 1))] * 4 + [np.ones((3, 1))] * 4  # lengths 10 and 3
    y = np.array([0, 1] * 4)
    RecurrentClassifier(
        tbptt_steps=4, callbacks=[CountSteps()], hidden_size=3, max_iter=1, batch_size=8,
        random_state=0,
    ).fit(X, y)
    # Chunks [0, 4) (the length-3 sequences end), [4, 8) (none ends: no update), [8, 10).
    assert len(steps_taken) == 2


def test_learns_a_task_within_the_truncation_window():
    """The target depends on the last steps only: TBPTT with k=5 on T=40 learns it."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 40, 1)).astype(np.float32)
    y = (X[:, -3:, 0].sum(axis=1) > 0).astype(int)
    clf = RecurrentClassifier(
        cell="gru", hidden_size=16, tbptt_steps=5, max_iter=15, learning_rate=1e-2, random_state=0
    ).fit(X[:200], y[:200])
    assert clf.score(X[200:], y[200:]) > 0.85


def saved_bytes_per_chunk(steps, n_timesteps):
    """The largest number of bytes autograd saves for one backward pass (one chunk)."""
    per_chunk, current = [], [0]

    def pack(tensor):
        current[0] += tensor.numel() * tensor.element_size()
        return tensor

    class Record(Callback):
        def on_grad_computed(self, net, **kwargs):
            per_chunk.append(current[0])
            current[0] = 0

    X = np.random.RandomState(0).normal(size=(4, n_timesteps, 2)).astype(np.float32)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        RecurrentClassifier(
            cell="lstm", backend="torch", hidden_size=8, tbptt_steps=steps, max_iter=1,
            batch_size=4, callbacks=[Record()], random_state=0,
        ).fit(X, np.array([0, 1, 0, 1]))
    return max(per_chunk)


def test_memory_grows_with_the_chunk_not_with_the_sequence():
    """Per backward pass, the tensors autograd keeps scale with tbptt_steps, not with T."""
    chunked_long = saved_bytes_per_chunk(20, 1000)
    chunked_short = saved_bytes_per_chunk(20, 200)
    full_long = saved_bytes_per_chunk(None, 1000)
    assert chunked_long <= 1.05 * chunked_short
    assert full_long > 20 * chunked_long


def test_tbptt_needs_a_unidirectional_network():
    X, y = ragged_problem()
    with pytest.raises(ValueError, match="tbptt_steps=5 needs a unidirectional network"):
        RecurrentClassifier(bidirectional=True, tbptt_steps=5, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="tbptt_steps"):
        RecurrentClassifier(tbptt_steps=0, **FAST).fit(X, y)
