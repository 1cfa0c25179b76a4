"""Streaming prediction: init_state and predict_step, on both backends."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_rnn import BiRNNClassifier, LSTMClassifier, RecurrentClassifier, RecurrentRegressor

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
    assert isinstance(reg._streamer().network, TorchStreamingNetwork)


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


@pytest.mark.parametrize("backend", ["torch", "numba"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_predict_proba_step_equals_predict_proba_on_every_prefix(cell, backend):
    """Streaming a ragged sequence gives, after each step, predict_proba of the prefix so
    far; predict_step's label is the argmax of predict_proba_step."""
    rng = np.random.RandomState(6)
    X = [rng.normal(size=(rng.randint(2, 9), 3)) for _ in range(45)]
    y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    clf = RecurrentClassifier(cell=cell, num_layers=2, backend=backend, **FAST).fit(X, y)
    for seq in X[:4]:
        state = clf.init_state()
        for t in range(len(seq)):
            proba, new_state = clf.predict_proba_step(seq[t][None, :], state)
            label, _ = clf.predict_step(seq[t][None, :], state)
            np.testing.assert_allclose(proba, clf.predict_proba([seq[: t + 1]]), rtol=1e-5, atol=1e-7)
            assert label[0] == clf.classes_[np.argmax(proba[0])]
            state = new_state


def test_predict_proba_step_streams_side_by_side():
    """Several streams at once: one row of probabilities each, summing to one."""
    rng = np.random.RandomState(7)
    X = rng.normal(size=(30, 5, 2))
    clf = LSTMClassifier(**FAST).fit(X, (X[:, :, 0].sum(axis=1) > 0).astype(int))
    state = clf.init_state(3)
    for t in range(X.shape[1]):
        proba, state = clf.predict_proba_step(X[:3, t], state)
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, clf.predict_proba(X[:3]), rtol=1e-5, atol=1e-7)


def test_a_returned_state_cannot_be_altered_in_place():
    """The arrays of a state predict_step returns are read-only; a copy or a pickled state
    is accepted after the full check, which still refuses a copy altered to NaN."""
    rng = np.random.RandomState(8)
    X = rng.normal(size=(20, 4, 2))
    reg = RecurrentRegressor(cell="lstm", num_layers=2, **FAST).fit(X, X[:, :, 0].sum(axis=1))
    expected, state = reg.predict_step(X[:2, 0], reg.init_state(2))
    with pytest.raises(ValueError, match="read-only"):
        state.layers[0][0][0, 0] = 1.0
    with pytest.raises(AttributeError):
        state.n_streams = 3
    for other in (copy.copy(state), copy.deepcopy(state), pickle.loads(pickle.dumps(state))):
        np.testing.assert_array_equal(reg.predict_step(X[:2, 1], other)[0],
                                      reg.predict_step(X[:2, 1], state)[0])
    altered = copy.deepcopy(state)
    altered.layers[1][1][:] = np.nan  # a copy's arrays are writable again
    with pytest.raises(ValueError, match="NaN or infinity"):
        reg.predict_step(X[:2, 1], altered)


@pytest.mark.parametrize("backend", ["torch", "numba"])
def test_every_form_of_a_step_gives_the_same_outputs(backend):
    """Float64 and float32, C and Fortran order, strided views, lists and ints: the fast
    path for a float ndarray and the full check agree."""
    rng = np.random.RandomState(9)
    X = rng.normal(size=(20, 4, 3))
    reg = RecurrentRegressor(backend=backend, **FAST).fit(X, X[:, :, 0].sum(axis=1))
    state = reg.init_state(2)
    x_t = np.ascontiguousarray(X[:2, 1])
    expected, _ = reg.predict_step(x_t, state)
    for form in (x_t.astype(np.float32), np.asfortranarray(x_t), X[:2, 1], x_t.tolist(),
                 x_t.astype(np.float32)[:, ::-1][:, ::-1]):
        np.testing.assert_allclose(reg.predict_step(form, state)[0], expected, rtol=1e-6)
    integers = np.round(x_t * 3)
    np.testing.assert_allclose(reg.predict_step(integers.astype(np.int64), state)[0],
                               reg.predict_step(integers, state)[0])


def test_bad_float_steps_get_the_full_checks_errors():
    """Non-finite and float32-overflowing float steps fail the fast path and get the full
    check's own errors, without a RuntimeWarning from the cast."""
    rng = np.random.RandomState(10)
    X = rng.normal(size=(20, 4, 2))
    reg = RecurrentRegressor(**FAST).fit(X, X[:, :, 0].sum(axis=1))
    state = reg.init_state(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="too large for float32"):
            reg.predict_step(np.array([[1e39, 0.0]]), state)
        for bad in (np.inf, -np.inf, np.nan):
            for dtype in (np.float32, np.float64):
                with pytest.raises(ValueError, match="NaN or infinity"):
                    reg.predict_step(np.array([[0.5, bad]], dtype), state)
        big = np.full((1, 2), 3e38, np.float32)  # valid, but its sum of squares overflows
        assert np.isfinite(reg.predict_step(big, state)[0]).all()


def test_streaming_cache_is_private_and_never_pickled():
    """What streaming caches stays out of get_params, clones and pickles, and a cache of
    an older version (a plain tuple) is rebuilt."""
    rng = np.random.RandomState(11)
    X = rng.normal(size=(20, 4, 2))
    reg = RecurrentRegressor(**FAST).fit(X, X[:, :, 0].sum(axis=1))
    params = reg.get_params()
    expected, _ = reg.predict_step(X[:1, 0], reg.init_state())
    assert "_streaming" in reg.__dict__ and reg.get_params() == params
    assert "_streaming" not in clone(reg).__dict__
    loaded = pickle.loads(pickle.dumps(reg))
    assert "_streaming" not in loaded.__dict__ and "_streaming" in reg.__dict__
    np.testing.assert_array_equal(loaded.predict_step(X[:1, 0], loaded.init_state())[0], expected)
    loaded._streaming = (loaded.net_, "numba", None, [])  # as unpickled from an older version
    np.testing.assert_array_equal(loaded.predict_step(X[:1, 0], loaded.init_state())[0], expected)


def test_streaming_follows_a_new_fit_and_a_new_backend():
    """A refit (new weights) or set_params(backend=...) rebuilds the cached network."""
    rng = np.random.RandomState(12)
    X = rng.normal(size=(20, 4, 2))
    y = X[:, :, 0].sum(axis=1)
    reg = RecurrentRegressor(**FAST).fit(X, y)
    before, _ = reg.predict_step(X[:1, 0], reg.init_state())
    reg.set_params(random_state=1).fit(X, y)
    np.testing.assert_allclose(_stream(reg, X[:2]), reg.predict(X[:2]), rtol=1e-4, atol=1e-5)
    assert not np.allclose(reg.predict_step(X[:1, 0], reg.init_state())[0], before)
    for backend in ("torch", "numba"):
        reg.set_params(backend=backend)
        assert reg._streamer().network.__class__.__name__.startswith(
            "Torch" if backend == "torch" else "Streaming"
        )
