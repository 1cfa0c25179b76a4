"""Export to NumPy weights and torch-free prediction on the numba kernels."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sklearn_rnn import RecurrentClassifier, RecurrentRegressor, load_predictor

FAST = dict(hidden_size=8, max_iter=3, random_state=0)


def _ragged(n=30, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(rng.randint(1, 12), n_features)) for _ in range(n)]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_exported_predictor_matches_the_estimator(cell, bidirectional, tmp_path):
    """Every cell, uni- and bidirectional, 2 layers: same probabilities and labels."""
    X = _ragged()
    y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    clf = RecurrentClassifier(
        cell=cell, bidirectional=bidirectional, num_layers=2, dropout=0.3, **FAST
    ).fit(X, y)
    clf.export_weights(tmp_path / "model.npz")
    predictor = load_predictor(tmp_path / "model.npz")
    np.testing.assert_allclose(predictor.predict_proba(X), clf.predict_proba(X), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(predictor.classes_, clf.classes_)
    assert predictor.n_features_in_ == 3


@pytest.mark.parametrize("y_2d", [False, True])
def test_exported_regressor_keeps_target_shape(y_2d, tmp_path):
    """Regressors export 1-D and 2-D targets and predict the same shape."""
    X = _ragged(seed=1)
    y = np.array([[x.sum(), len(x)] for x in X])
    y = y if y_2d else y[:, 0]
    reg = RecurrentRegressor(cell="gru", bidirectional=True, **FAST).fit(X, y)
    reg.export_weights(tmp_path / "reg.npz")
    pred = load_predictor(tmp_path / "reg.npz").predict(X)
    assert pred.shape == y.shape
    np.testing.assert_allclose(pred, reg.predict(X), rtol=1e-4, atol=1e-5)
    with pytest.raises(AttributeError, match="classifiers"):
        load_predictor(tmp_path / "reg.npz").predict_proba(X)


def test_predictor_validates_input(tmp_path):
    """The predictor rejects wrong feature counts and NaN like the estimator."""
    X = _ragged(seed=2)
    clf = RecurrentClassifier(**FAST).fit(X, np.arange(len(X)) % 2)
    clf.export_weights(tmp_path / "m.npz")
    predictor = load_predictor(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="features per time step"):
        predictor.predict([x[:, :2] for x in X])
    with pytest.raises(ValueError, match="NaN"):
        predictor.predict([np.full((3, 3), np.nan)])


def test_object_labels_export_as_strings_or_are_refused(tmp_path):
    """String labels in an object array export; labels that need pickle are refused."""
    from sklearn_rnn._numba.predictor import save_arrays

    X = _ragged(seed=3)
    y = np.array(["no", "yes"] * 15, dtype=object)
    clf = RecurrentClassifier(**FAST).fit(X, y)
    clf.export_weights(tmp_path / "m.npz")
    np.testing.assert_array_equal(load_predictor(tmp_path / "m.npz").predict(X), clf.predict(X))
    with pytest.raises(TypeError, match="without pickle"):
        save_arrays(
            tmp_path / "bad.npz", cell="rnn", layers=[], head=None, n_features_in=1,
            classes=np.array([(1,), (2,)], dtype=object), target_is_1d=True,
        )


def test_wrong_format_version_is_a_clear_error(tmp_path):
    """A file of another export format version is refused, naming both versions."""
    np.savez(tmp_path / "old.npz", format_version=np.int64(0))
    with pytest.raises(ValueError, match="export format 0"):
        load_predictor(tmp_path / "old.npz")


def test_loading_and_predicting_does_not_import_torch(tmp_path):
    """In a fresh process, load_predictor and predict never import torch."""
    X = _ragged(seed=4)
    clf = RecurrentClassifier(bidirectional=True, **FAST).fit(X, np.arange(len(X)) % 2)
    clf.export_weights(tmp_path / "m.npz")
    np.save(tmp_path / "X.npy", np.stack([np.resize(x, (5, 3)) for x in X]))
    expected = clf.predict(np.load(tmp_path / "X.npy"))
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from sklearn_rnn import load_predictor
        predictor = load_predictor({str(tmp_path / "m.npz")!r})
        print(" ".join(map(str, predictor.predict(np.load({str(tmp_path / "X.npy")!r})))))
        print("torch" in sys.modules, "skorch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    labels, imported = out.stdout.strip().splitlines()
    assert imported == "False False"
    assert labels.split() == [str(v) for v in expected]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_exported_predictor_streams_as_the_estimator(cell, tmp_path):
    """init_state/predict_step/predict_proba_step of the predictor follow the estimator's,
    step by step, on a 2-layer model; states of either are accepted by the other."""
    X = _ragged(seed=5)
    y = np.array(["a", "b", "c"])[np.arange(len(X)) % 3]
    clf = RecurrentClassifier(cell=cell, num_layers=2, **FAST).fit(X, y)
    clf.export_weights(tmp_path / "m.npz")
    predictor = load_predictor(tmp_path / "m.npz")
    for seq in X[:3]:
        ours, theirs = predictor.init_state(), clf.init_state()
        for t in range(len(seq)):
            proba, ours = predictor.predict_proba_step(seq[t][None, :], ours)
            expected, theirs = clf.predict_proba_step(seq[t][None, :], theirs)
            np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(proba, clf.predict_proba([seq[: t + 1]]), rtol=1e-5, atol=1e-7)
        label, _ = predictor.predict_step(seq[-1][None, :], clf.init_state())
        assert label[0] == clf.predict_step(seq[-1][None, :], predictor.init_state())[0][0]


def test_exported_regressor_streams_with_its_target_shape(tmp_path):
    """A regressor's predictor streams 2-D targets; predict_proba_step is for classifiers."""
    X = _ragged(seed=6)
    y = np.array([[x.sum(), len(x)] for x in X])
    reg = RecurrentRegressor(cell="gru", **FAST).fit(X, y)
    reg.export_weights(tmp_path / "r.npz")
    predictor = load_predictor(tmp_path / "r.npz")
    a, b = [x for x in X if len(x) >= 3][:2]
    state = predictor.init_state(2)
    for t in range(3):
        pred, state = predictor.predict_step(np.stack([a[t], b[t]]), state)
    assert pred.shape == (2, 2)
    np.testing.assert_allclose(pred, reg.predict([a[:3], b[:3]]), rtol=1e-4, atol=1e-5)
    with pytest.raises(AttributeError, match="classifiers"):
        predictor.predict_proba_step(X[0][:1], state)


def test_predictor_streaming_errors_are_clear(tmp_path):
    """The predictor refuses what the estimator refuses: a bidirectional model, a bad
    n_streams, a step of the wrong shape or with NaN, and a state that is not one."""
    X = _ragged(seed=7)
    y = np.arange(len(X)) % 2
    RecurrentClassifier(bidirectional=True, **FAST).fit(X, y).export_weights(tmp_path / "bi.npz")
    with pytest.raises(ValueError, match="unidirectional"):
        load_predictor(tmp_path / "bi.npz").init_state()
    RecurrentClassifier(**FAST).fit(X, y).export_weights(tmp_path / "m.npz")
    predictor = load_predictor(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="n_streams"):
        predictor.init_state(0)
    state = predictor.init_state(2)
    with pytest.raises(ValueError, match=r"\(n_streams, n_features\) = \(2, 3\)"):
        predictor.predict_step(np.zeros((2, 2)), state)
    with pytest.raises(ValueError, match="NaN"):
        predictor.predict_step(np.full((2, 3), np.nan), state)
    with pytest.raises(TypeError, match="init_state"):
        predictor.predict_step(np.zeros((2, 3)), None)


def test_streaming_with_the_predictor_does_not_import_torch(tmp_path):
    """In a fresh process, the predictor's init_state and predict_step never import torch."""
    X = _ragged(seed=8)
    clf = RecurrentClassifier(cell="gru", **FAST).fit(X, np.arange(len(X)) % 2)
    clf.export_weights(tmp_path / "m.npz")
    state = clf.init_state()
    for x_t in X[0]:
        expected, state = clf.predict_step(x_t[None, :], state)
    np.save(tmp_path / "x.npy", X[0])
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from sklearn_rnn import load_predictor
        predictor = load_predictor({str(tmp_path / "m.npz")!r})
        state = predictor.init_state()
        for x_t in np.load({str(tmp_path / "x.npy")!r}):
            label, state = predictor.predict_step(x_t[None, :], state)
        print(label[0], "torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(expected[0]), "False"]
