"""End to end: every sklearn-rnn estimator with each cell of the plugin, on ragged data.

The cells are reached as the installed package exposes them: by their
entry-point names ``"direct"``, ``"indirect"`` and ``"full"``, and as classes.
Data are small ragged lists (lengths 3 to 9, 2 features) so that the whole
file runs in seconds.
"""

import importlib.metadata
import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import sklearn_rnn
from sklearn_rnn import (
    BiRNNClassifier,
    BiRNNRegressor,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNClassifier,
    RNNRegressor,
    SequenceScaler,
)
from sklearn_rnn_feedback import DirectFeedbackCell, FullFeedbackCell, IndirectFeedbackCell

# The tests train for a few epochs on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CELLS = {"direct": DirectFeedbackCell, "indirect": IndirectFeedbackCell, "full": FullFeedbackCell}
CLASSIFIERS = [RecurrentClassifier, RNNClassifier, LSTMClassifier, GRUClassifier, BiRNNClassifier]
REGRESSORS = [RecurrentRegressor, RNNRegressor, LSTMRegressor, GRURegressor, BiRNNRegressor]
FAST = dict(hidden_size=4, max_iter=3, random_state=0)
# Outputs of the same float32 network computed in other batches, or on the other backend.
TOL = dict(rtol=1e-5, atol=1e-6)


def _ragged(n_samples=24, seed=0):
    """``n_samples`` sequences of lengths 3..9 with 2 features, and two targets.

    The label is whether the first feature sums to more than 0 (balanced by
    symmetry); the regression target is that sum.
    """
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(rng.integers(3, 10), 2)) for _ in range(n_samples)]
    total = np.array([x[:, 0].sum() for x in X])
    return X, np.where(total > 0, "up", "down"), total


X, Y_CLASS, Y_REG = _ragged()


def _target(estimator_cls):
    return Y_CLASS if issubclass(estimator_cls, RecurrentClassifier) else Y_REG


def _outputs(estimator, X):
    """The continuous outputs: probabilities of a classifier, values of a regressor."""
    return estimator.predict_proba(X) if is_classifier(estimator) else estimator.predict(X)


def _layers(estimator):
    """The fitted network's layers, each a list of its directions."""
    return estimator.net_.module_.encoder.layers


def _stream(estimator, sequence):
    """Feed one sequence step by step; return the prediction after every step."""
    state = estimator.init_state()
    predictions = []
    for x_t in sequence:
        prediction, state = estimator.predict_step(x_t[None, :], state)
        predictions.append(prediction[0])
    return np.array(predictions)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("estimator_cls", CLASSIFIERS + REGRESSORS, ids=lambda c: c.__name__)
def test_every_estimator_runs_each_plugin_cell(estimator_cls, cell):
    """Every estimator and preset fits, predicts and scores ragged data with a plugin cell.

    The cell given by entry-point name and given as the class build the same network.
    """
    by_name = estimator_cls(cell=cell, **FAST).fit(X, _target(estimator_cls))
    by_class = estimator_cls(cell=CELLS[cell], **FAST).fit(X, _target(estimator_cls))
    assert by_name.cell == cell and by_class.cell is CELLS[cell]  # parameters stay as given
    n_directions = 2 if by_name.bidirectional else 1
    assert n_directions == (2 if estimator_cls in (BiRNNClassifier, BiRNNRegressor) else 1)
    for estimator in (by_name, by_class):
        (directions,) = _layers(estimator)
        assert len(directions) == n_directions
        assert all(type(layer.cell) is CELLS[cell] for layer in directions)

    y_pred = by_name.predict(X)
    assert y_pred.shape == (len(X),)
    if is_classifier(by_name):
        proba = by_name.predict_proba(X)
        assert proba.shape == (len(X), 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(by_name.classes_, ["down", "up"])
        np.testing.assert_array_equal(y_pred, by_name.classes_[proba.argmax(axis=1)])
        assert by_name.score(X, Y_CLASS) == pytest.approx(accuracy_score(Y_CLASS, y_pred))
    else:
        assert np.isfinite(y_pred).all()
        assert by_name.score(X, Y_REG) == pytest.approx(r2_score(Y_REG, y_pred))
    np.testing.assert_array_equal(_outputs(by_name, X), _outputs(by_class, X))


COMBOS = [
    dict(num_layers=2, bidirectional=False, dropout=0.3),
    dict(num_layers=1, bidirectional=True, dropout=0.0),
    dict(num_layers=2, bidirectional=True, dropout=0.5),
]


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("cell", CELLS)
def test_stacked_bidirectional_dropout(cell, combo):
    """Stacked and bidirectional networks of plugin cells train; dropout is off in predict."""
    clf = RecurrentClassifier(cell=cell, **combo, **FAST).fit(X, Y_CLASS)
    layers = _layers(clf)
    n_directions = 2 if combo["bidirectional"] else 1
    assert len(layers) == combo["num_layers"]
    assert all(len(directions) == n_directions for directions in layers)
    if combo["num_layers"] == 2:  # the second layer reads both directions of the first
        assert layers[1][0].cell.input_size == n_directions * FAST["hidden_size"]
    assert clf.n_iter_ == FAST["max_iter"] and np.isfinite(clf.loss_curve_).all()
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("combo", COMBOS[:1] + COMBOS[2:], ids=["stacked", "stacked-bidirectional"])
@pytest.mark.parametrize("cell", CELLS)
def test_padding_never_changes_a_prediction(cell, combo):
    """A sequence predicts the same alone, in a ragged batch of longer ones, and in a 3-D array.

    A 3-D array holds equal-length sequences (its zeros would be read as time
    steps: sklearn-rnn takes lengths from ragged lists only), so the 3-D case
    compares equal-length sequences given both ways.
    """
    reg = RecurrentRegressor(cell=cell, **combo, **FAST).fit(X, Y_REG)
    in_batch = reg.predict(X)
    shortest = int(np.argmin([len(x) for x in X]))
    longest = int(np.argmax([len(x) for x in X]))
    assert len(X[shortest]) < len(X[longest])
    for i in (shortest, longest):
        np.testing.assert_allclose(reg.predict([X[i]]), in_batch[[i]], **TOL)
    pair = reg.predict([X[shortest], X[longest]])  # padded to the longest: 3 vs 9 steps
    np.testing.assert_allclose(pair, in_batch[[shortest, longest]], **TOL)

    rng = np.random.default_rng(1)
    equal = rng.normal(size=(5, 6, 2))
    np.testing.assert_allclose(reg.predict(equal), reg.predict(list(equal)), **TOL)
    with_longer = reg.predict(list(equal) + [X[longest]])[:5]
    np.testing.assert_allclose(reg.predict(equal), with_longer, **TOL)


@pytest.mark.parametrize("given", ["name", "class"])
@pytest.mark.parametrize("cell", CELLS)
def test_pickle_round_trip_and_clone(cell, given):
    """Pickling keeps predictions identical; a clone is unfitted and refits to the same model."""
    cell_param = cell if given == "name" else CELLS[cell]
    clf = RecurrentClassifier(cell=cell_param, num_layers=2, dropout=0.2, **FAST).fit(X, Y_CLASS)
    proba = clf.predict_proba(X)

    restored = pickle.loads(pickle.dumps(clf))
    assert restored.cell == cell_param
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_array_equal(_stream(restored, X[0]), _stream(clf, X[0]))

    twin = clone(clf)
    assert not hasattr(twin, "net_")
    assert twin.get_params()["cell"] == cell_param
    np.testing.assert_array_equal(twin.fit(X, Y_CLASS).predict_proba(X), proba)


STREAMING = [("direct", "auto"), ("direct", "torch"), ("direct", "numba")] + [
    (cell, backend) for cell in ("indirect", "full") for backend in ("auto", "torch")
]


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell, backend", STREAMING)
def test_predict_step_equals_predict(cell, backend, num_layers):
    """Fed step by step, a sequence gives after every step what predict gives on that prefix."""
    reg = RecurrentRegressor(
        cell=cell, num_layers=num_layers, dropout=0.2, backend=backend, **FAST
    ).fit(X, Y_REG)
    clf = RecurrentClassifier(cell=cell, num_layers=num_layers, backend=backend, **FAST)
    clf.fit(X, Y_CLASS)
    for sequence in X[:4]:
        prefixes = [sequence[: t + 1] for t in range(len(sequence))]
        np.testing.assert_allclose(
            _stream(reg, sequence), reg.predict(prefixes), rtol=1e-4, atol=1e-5
        )
        np.testing.assert_array_equal(_stream(clf, sequence), clf.predict(prefixes))

    equal = np.random.default_rng(2).normal(size=(3, 5, 2))  # three streams side by side
    state = reg.init_state(n_streams=3)
    for t in range(equal.shape[1]):
        out, state = reg.predict_step(equal[:, t], state)
    np.testing.assert_allclose(out, reg.predict(equal), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("combo", [{}, COMBOS[2]], ids=["single", "stacked-bidirectional"])
def test_numba_backend_matches_torch_for_direct(combo):
    """The direct cell's numba kernels predict and train like its torch step loop."""
    on_torch = RecurrentRegressor(cell="direct", backend="torch", **combo, **FAST).fit(X, Y_REG)
    torch_pred = on_torch.predict(X)
    on_torch.set_params(backend="numba")  # same weights, other backend
    np.testing.assert_allclose(on_torch.predict(X), torch_pred, **TOL)

    on_numba = RecurrentRegressor(cell="direct", backend="numba", **combo, **FAST).fit(X, Y_REG)
    np.testing.assert_allclose(on_numba.loss_curve_, on_torch.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(on_numba.predict(X), torch_pred, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", ["indirect", "full"])
def test_numba_backend_without_kernels_is_a_clear_error(cell):
    """backend="numba" on a cell without kernels is a ValueError in fit, predict and streaming."""
    match = "backend='numba' needs numba kernels.*backend='torch'"
    with pytest.raises(ValueError, match=match):
        RecurrentClassifier(cell=cell, backend="numba", **FAST).fit(X, Y_CLASS)
    clf = RecurrentClassifier(cell=cell, backend="torch", **FAST).fit(X, Y_CLASS)
    clf.set_params(backend="numba")
    with pytest.raises(ValueError, match=match):
        clf.predict(X)
    with pytest.raises(ValueError, match=match):
        clf.init_state()


def test_grid_search_over_builtin_and_plugin_cells():
    """GridSearchCV over built-in and plugin cells in a Pipeline scores every candidate."""
    cells = ["rnn", "lstm", "gru", "direct", "indirect", "full"]
    pipeline = Pipeline([("scale", SequenceScaler()), ("clf", RecurrentClassifier(**FAST))])
    search = GridSearchCV(pipeline, {"clf__cell": cells}, cv=2).fit(X, Y_CLASS)
    assert [params["clf__cell"] for params in search.cv_results_["params"]] == cells
    scores = search.cv_results_["mean_test_score"]
    assert not np.isnan(scores).any(), dict(zip(cells, scores))
    assert ((scores >= 0) & (scores <= 1)).all()
    assert search.best_params_["clf__cell"] in cells
    y_pred = search.best_estimator_.predict(X)
    assert y_pred.shape == (len(X),) and set(y_pred) <= {"down", "up"}


def test_available_cells_lists_the_plugin_cells():
    """available_cells() lists direct, indirect and full after the built-ins, from this package."""
    cells = sklearn_rnn.available_cells()
    assert list(cells)[:3] == ["rnn", "lstm", "gru"]
    assert set(CELLS) <= set(cells)
    version = importlib.metadata.version("sklearn-rnn-feedback")
    for name, cls in CELLS.items():
        info = cells[name]
        assert (info.name, info.source, info.version) == (name, "sklearn-rnn-feedback", version)
        assert info.value == f"sklearn_rnn_feedback.cells:{cls.__name__}"
        assert info.error is None and info.load() is cls
        assert ("numba" in info.capabilities) == (name == "direct")


@pytest.mark.parametrize("cell", CELLS)
def test_each_cell_learns_an_easy_ragged_task(cell):
    """Each plugin cell tells the sign of a feature's sum far above chance on held-out data."""
    X_train, y_train, _ = _ragged(64, seed=3)
    X_test, y_test, _ = _ragged(200, seed=4)
    clf = RecurrentClassifier(
        cell=cell, hidden_size=8, max_iter=40, learning_rate=0.02, batch_size=16, random_state=0
    ).fit(X_train, y_train)
    # Chance is about 0.5; 0.75 on 200 sequences is seven standard errors above it.
    assert clf.score(X_test, y_test) >= 0.75
