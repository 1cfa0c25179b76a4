"""Streaming prediction: init_state and predict_step, on both backends."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_rnn import BiRNNClassifier, LSTMClassifier, RecurrentRegressor

FAST = dict(hidden_size=8, max_iter=3, random_state=0)


def _stream(estimator, X):
    """Feed equal-length sequences X (n, T, F) step by step; return the last output."""
    state = estimator.init_state(len(X))
    for t in range(X.shape[1]):
        out, state = estimator.predict_step(X[:, t], state)
    return out


@pytest.mark.parametrize("backend", ["auto", "torch", "numba"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_stepping_a_sequence_equals_predict(cell, num_layers, backend):
    """Feeding sequences step by step ends at predict's answer, for every cell, depth and backend."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 7, 3))
    y = np.c_[X[:, :, 0].sum(axis=1), X[:, :, 1].mean(axis=1)]
    reg = RecurrentRegressor(
        cell=cell, num_layers=num_layers, dropout=0.2, backend=backend, **FAST
    ).fit(X, y)
    np.testing.assert_allclose(_stream(reg, X[:4]), reg.predict(X[:4]), rtol=1e-4, atol=1e-5)


def test_a_stream_can_switch_backends_between_steps():
    """A state made on the numba backend steps on torch (and back) to the same outputs."""
    rng = np.random.RandomState(4)
    X = rng.normal(size=(20, 6, 2))
    reg = RecurrentRegressor(cell="lstm", num_layers=2, **FAST).fit(X, X[:, :, 0].sum(axis=1))
    state = reg.set_params(backend="numba").init_state(3)
    for t in range(X.shape[1]):
        reg.set_params(backend="torch" if t % 2 else "numba")
        out, state = reg.predict_step(X[:3, t], state)
    np.testing.assert_allclose(out, reg.predict(X[:3]), rtol=1e-4, atol=1e-5)


def test_torch_streaming_does_not_need_numba_weights():
    """backend='torch' streams through the module's own layers (not the numba step kernels)."""
    from sklearn_rnn._torch.streaming import TorchStreamingNetwork

    rng = np.random.RandomState(5)
    X = rng.normal(size=(20, 4, 2))
    reg = RecurrentRegressor(backend="torch", **FAST).fit(X, X[:, :, 0].sum(axis=1))
    reg.predict_step(X[:2, 0], reg.init_state(2))
    assert isinstance(reg._streaming_network(), TorchStreamingNetwork)


def test_streams_of_different_lengths_match_ragged_predict():
    """Each stream's output after its own last step equals predict on the ragged list."""
    rng = np.random.RandomState(1)
    X = [rng.normal(size=(rng.randint(2, 9), 2)) for _ in range(40)]
    y = np.array([x[:, 0].sum() for x in X])
    reg = RecurrentRegressor(cell="gru", **FAST).fit(X, y)
    for seq in X[:5]:
        state = reg.init_state()
        for x_t in seq:
            out, state = reg.predict_step(x_t[None, :], state)
        np.testing.assert_allclose(out, reg.predict([seq]), rtol=1e-4, atol=1e-5)


def test_classifier_step_labels_match_predict():
    """The classifier's streamed labels equal predict's."""
    rng = np.random.RandomState(2)
    X = rng.normal(size=(60, 5, 2))
    y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    clf = LSTMClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(_stream(clf, X), clf.predict(X))


def test_state_is_not_modified_by_a_step():
    """predict_step returns a new state; the old one can be fed again."""
    rng = np.random.RandomState(3)
    X = rng.normal(size=(20, 4, 2))
    reg = RecurrentRegressor(**FAST).fit(X, X[:, :, 0].sum(axis=1))
    state = reg.init_state(2)
    first, _ = reg.predict_step(X[:2, 0], state)
    again, _ = reg.predict_step(X[:2, 0], state)
    np.testing.assert_array_equal(first, again)


def test_streaming_follows_further_training_and_pickling():
    """After partial_fit or a pickle round trip, steps use the current weights."""
    rng = np.random.RandomState(4)
    X = rng.normal(size=(30, 5, 2))
    y = X[:, :, 0].sum(axis=1)
    reg = RecurrentRegressor(**FAST).fit(X, y)
    _stream(reg, X[:3])
    reg.partial_fit(X, y)
    np.testing.assert_allclose(_stream(reg, X[:3]), reg.predict(X[:3]), rtol=1e-4, atol=1e-5)
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(_stream(loaded, X[:3]), reg.predict(X[:3]), rtol=1e-4, atol=1e-5)


def test_streaming_errors_are_clear():
    """Bad streaming input gets a ValueError/TypeError naming the problem."""
    rng = np.random.RandomState(5)
    X = rng.normal(size=(20, 4, 2))
    y = (X[:, 0, 0] > 0).astype(int)
    clf = LSTMClassifier(**FAST)
    with pytest.raises(NotFittedError):
        clf.init_state()
    clf.fit(X, y)
    state = clf.init_state(2)
    with pytest.raises(ValueError, match=r"shape \(n_streams, n_features\) = \(2, 2\)"):
        clf.predict_step(np.zeros((3, 2)), state)
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        clf.predict_step(np.zeros(2), state)
    with pytest.raises(ValueError, match="NaN"):
        clf.predict_step(np.full((2, 2), np.nan), state)
    with pytest.raises(TypeError, match="init_state"):
        clf.predict_step(np.zeros((2, 2)), {"h": 0})
    with pytest.raises(TypeError, match="numbers"):
        clf.predict_step([["a", "b"], ["c", "d"]], state)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_streams"):
            clf.init_state(bad)
    bi = BiRNNClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="unidirectional"):
        bi.init_state()


@pytest.mark.parametrize("backend", ["torch", "numba"])
def test_a_state_from_another_model_is_refused(backend):
    """Bug (fuzz): another model's state stepped on wrong shapes: torch raised IndexError or
    RuntimeError, and a one-layer state on a two-layer model silently skipped a layer."""
    from sklearn_rnn._stream_state import StreamState

    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 4, 2))
    y = X[:, :, 0].sum(axis=1)
    deep = RecurrentRegressor(cell="gru", num_layers=2, backend=backend, **FAST).fit(X, y)
    shallow = RecurrentRegressor(cell="lstm", backend=backend, **FAST).fit(X, y)
    wide = RecurrentRegressor(cell="gru", num_layers=2, backend=backend,
                              **{**FAST, "hidden_size": 5}).fit(X, y)
    with pytest.raises(ValueError, match="state has 1 layer.*this model has 2"):
        deep.predict_step(X[:1, 0], shallow.init_state(1))
    with pytest.raises(ValueError, match=r"holds shape \(1, 5\).*needs shape \(1, 8\)"):
        deep.predict_step(X[:1, 0], wide.init_state(1))
    state = deep.init_state(1)
    nan = StreamState([tuple(np.full_like(a, np.nan) for a in leaves) for leaves in state.layers], 1)
    with pytest.raises(ValueError, match="NaN or infinity"):
        deep.predict_step(X[:1, 0], nan)


def test_step_input_must_be_numbers():
    """Bug (fuzz): predict_step cast dates and numeric strings to floats, and dropped the
    imaginary part of complex steps with only a warning."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 4, 2))
    reg = RecurrentRegressor(**FAST).fit(X, X[:, :, 0].sum(axis=1))
    state = reg.init_state(1)
    with pytest.raises(TypeError, match="dates"):
        reg.predict_step(np.full((1, 2), np.datetime64("2020-01-01")), state)
    with pytest.raises(TypeError, match="strings"):
        reg.predict_step(np.array([["1", "2"]]), state)
    with pytest.raises(ValueError, match="Complex"):
        reg.predict_step(np.ones((1, 2)) + 1j, state)
