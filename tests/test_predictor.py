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
