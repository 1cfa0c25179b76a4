"""The autograd bridge: torch modules computed by the numba kernels."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_rnn._torch.modules import RECURRENT_LAYERS, ManyToOneNetwork
from sklearn_rnn._torch.numba_bridge import NumbaLayerFunction

CELLS = list(RECURRENT_LAYERS)


def _ragged_batch(lengths, input_size, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), max(lengths), input_size, generator=generator, dtype=dtype)
    lengths = torch.tensor(lengths)
    x[torch.arange(x.shape[1]) >= lengths.unsqueeze(1)] = 0.0
    return x, lengths


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_passes_on_the_bridge(cell):
    """torch.autograd.gradcheck agrees with the hand-derived BPTT (float64)."""
    torch.manual_seed(0)
    layer = RECURRENT_LAYERS[cell](3, 4, batch_first=True).double()
    x, lengths = _ragged_batch([4, 1, 3], 3, torch.float64)
    x.requires_grad_(True)
    weights = [getattr(layer, f"{n}_l0") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def function(x, *weights):
        real = (torch.arange(x.shape[1]) < lengths.unsqueeze(1)).unsqueeze(2).to(x.dtype)
        return NumbaLayerFunction.apply(cell, x * real, lengths, *weights)

    assert torch.autograd.gradcheck(function, (x, *weights), eps=1e-6, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(
    cell=st.sampled_from(CELLS),
    bidirectional=st.booleans(),
    num_layers=st.integers(1, 3),
    lengths=st.lists(st.integers(1, 10), min_size=1, max_size=5),
)
def test_numba_and_torch_backends_agree_on_outputs_and_gradients(cell, bidirectional, num_layers, lengths):
    """The same network gives the same outputs and weight gradients on both backends."""
    torch.manual_seed(0)
    network = ManyToOneNetwork(
        3, 2, hidden_size=4, num_layers=num_layers, cell=cell, bidirectional=bidirectional
    ).double()
    x, lengths_t = _ragged_batch(lengths, 3, torch.float64, seed=len(lengths))
    results = {}
    for backend in ("torch", "numba"):
        network.encoder.backend = backend
        network.zero_grad()
        out = network(x, lengths_t)
        out.square().sum().backward()
        results[backend] = (out.detach(), [p.grad.clone() for p in network.parameters()])
    torch.testing.assert_close(results["numba"][0], results["torch"][0], rtol=1e-9, atol=1e-10)
    for g_numba, g_torch in zip(results["numba"][1], results["torch"][1]):
        torch.testing.assert_close(g_numba, g_torch, rtol=1e-8, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(
    cell=st.sampled_from(CELLS),
    lengths=st.lists(st.integers(1, 10), min_size=1, max_size=5),
)
def test_numba_reverse_direction_is_the_forward_pass_on_the_reversed_sequence(cell, lengths):
    """On numba, the backward half of a bidirectional layer is its layer run on each sequence reversed."""
    from sklearn_rnn._torch.modules import RecurrentEncoder
    from sklearn_rnn._torch.numba_bridge import numba_layer

    torch.manual_seed(1)
    encoder = RecurrentEncoder(3, 4, 1, cell, bidirectional=True, dropout=0.0, backend="numba")
    encoder = encoder.double().eval()
    x, lengths_t = _ragged_batch(lengths, 3, torch.float64, seed=len(lengths))
    with torch.no_grad():
        out = encoder(x, lengths_t)  # (B, T, 2H)
        for b, n in enumerate(lengths):
            reversed_x = x[b : b + 1, :n].flip(1).contiguous()  # (1, n, F)
            alone = numba_layer(encoder.layers[0][1], cell, reversed_x, torch.tensor([n]))[0]
            torch.testing.assert_close(out[b, :n, 4:], alone[0].flip(0), rtol=1e-10, atol=1e-12)


def test_float32_training_step_agrees_with_torch():
    """In float32 (what the estimators train in) both backends agree to float32 precision."""
    torch.manual_seed(0)
    network = ManyToOneNetwork(3, 2, hidden_size=8, num_layers=2, cell="lstm", bidirectional=True)
    x, lengths = _ragged_batch([6, 2, 5, 1], 3, torch.float32)
    grads = {}
    for backend in ("torch", "numba"):
        network.encoder.backend = backend
        network.zero_grad()
        network(x, lengths).sum().backward()
        grads[backend] = np.concatenate([p.grad.numpy().ravel() for p in network.parameters()])
    np.testing.assert_allclose(grads["numba"], grads["torch"], rtol=1e-4, atol=1e-5)


def test_non_cpu_data_is_a_clear_error():
    """The bridge refuses tensors that are not on the CPU, naming the fix."""
    layer = torch.nn.GRU(2, 3, batch_first=True)
    x = torch.zeros(1, 2, 2, device="meta")
    with pytest.raises(ValueError, match="backend='torch'"):
        NumbaLayerFunction.apply("gru", x, torch.tensor([2]), *layer.parameters())


@pytest.mark.parametrize("cell", CELLS)
def test_estimator_trains_on_numba_like_on_torch(cell):
    """backend='numba' trains through skorch to the same model as backend='torch'."""
    from sklearn_rnn import RecurrentRegressor

    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(2, 10), 2)) for _ in range(48)]
    y = np.array([x[:, 0].sum() for x in X])
    params = dict(cell=cell, hidden_size=8, max_iter=3, bidirectional=True, random_state=0)
    on_torch = RecurrentRegressor(backend="torch", **params).fit(X, y)
    on_numba = RecurrentRegressor(backend="numba", **params).fit(X, y)
    np.testing.assert_allclose(on_numba.loss_curve_, on_torch.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(on_numba.predict(X), on_torch.predict(X), rtol=1e-3, atol=1e-4)


def test_model_trained_on_one_backend_predicts_on_the_other():
    """set_params(backend=...) after fit switches prediction without changing results."""
    from sklearn_rnn import GRUClassifier

    rng = np.random.RandomState(1)
    X = [rng.normal(size=(rng.randint(2, 10), 2)) for _ in range(40)]
    y = np.arange(40) % 2
    clf = GRUClassifier(backend="numba", hidden_size=8, max_iter=2, random_state=0).fit(X, y)
    on_numba = clf.predict_proba(X)
    on_torch = clf.set_params(backend="torch").predict_proba(X)
    np.testing.assert_allclose(on_numba, on_torch, rtol=1e-4, atol=1e-6)
    assert clf.set_params(backend="numba").predict_proba(X) == pytest.approx(on_numba)


def test_numba_backend_on_gpu_device_is_a_clear_error():
    """backend='numba' with a non-CPU device fails before training."""
    from sklearn_rnn import LSTMClassifier

    with pytest.raises(ValueError, match="runs on the CPU"):
        LSTMClassifier(backend="numba", device="cuda").fit(np.zeros((4, 3, 1)), [0, 1, 0, 1])


@pytest.mark.parametrize(("cell", "expected"), [("rnn", "numba"), ("gru", "numba"), ("lstm", "torch")])
def test_auto_backend_picks_the_measured_faster_backend(cell, expected):
    """backend='auto' (the default) trains rnn/gru on the numba kernels and lstm on torch."""
    from sklearn_rnn import RecurrentRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 5, 2))
    reg = RecurrentRegressor(cell=cell, hidden_size=4, max_iter=1, random_state=0)
    assert reg.backend == "auto"
    reg.fit(X, X[:, :, 0].sum(axis=1))
    assert reg.net_.module_.encoder.backend == expected
    reg.predict(X)
    assert reg.net_.module_.encoder.backend == expected


def test_auto_backend_is_torch_off_the_cpu():
    """backend='auto' never picks the numba kernels for a GPU device."""
    from sklearn_rnn._backend import resolve_backend, resolve_streaming_backend

    assert resolve_backend("auto", "gru", "cuda") == "torch"
    assert resolve_backend("auto", "rnn", "cuda:1") == "torch"
    assert resolve_streaming_backend("auto", "cuda") == "torch"
    assert resolve_backend("numba", "lstm", "cpu") == "numba"  # explicit choices are kept


def test_auto_backend_predicts_large_gru_batches_on_torch():
    """For gru, 'auto' predicts batches of 128 or more sequences on torch, fewer on numba."""
    from sklearn_rnn import GRUClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3, 2))
    clf = GRUClassifier(hidden_size=4, max_iter=1, random_state=0).fit(X[:20], [0, 1] * 10)
    clf.predict(X)
    assert clf.net_.module_.encoder.backend == "torch"
    clf.predict(X[:20])
    assert clf.net_.module_.encoder.backend == "numba"
