"""transform: the final hidden state of the many-to-one estimators as features."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline

import sklearn_rnn
from sklearn_rnn import (
    BiRNNRegressor,
    GRUClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    SequenceScaler,
)
from sklearn_rnn.datasets import load_japanese_vowels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def ragged(n=30, n_features=2, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(3, 12), n_features)) for _ in range(n)]
    return X, np.array([x[:, 0].sum() for x in X])


def head_of(estimator):
    head = estimator.net_.module_.head
    return head.weight.detach().numpy().astype(np.float64), head.bias.detach().numpy()


@pytest.mark.parametrize(
    "params, width",
    [
        (dict(cell="lstm"), 6),
        (dict(cell="gru", num_layers=2), 6),
        (dict(cell="rnn", bidirectional=True), 12),
        (dict(cell="lstm", bidirectional=True, num_layers=2), 12),
    ],
)
def test_transform_is_what_the_head_reads(params, width):
    """The head applied to transform(X) gives predict(X): transform is the final state."""
    X, y = ragged()
    reg = RecurrentRegressor(hidden_size=6, max_iter=3, random_state=0, **params).fit(X, y)
    Z = reg.transform(X)
    assert Z.shape == (len(X), width) and Z.dtype == np.float64
    weight, bias = head_of(reg)
    np.testing.assert_allclose(Z @ weight.T + bias, reg.predict(X)[:, None], rtol=1e-5, atol=1e-5)


def test_bidirectional_halves_are_the_two_directions():
    """The first half reads the sequence forwards, the second half backwards."""
    X, y = ragged(n=8)
    reg = BiRNNRegressor(cell="gru", hidden_size=4, max_iter=2, random_state=0).fit(X, y)
    Z = reg.transform(X)
    encoder = reg.net_.module_.encoder
    forward_layer, backward_layer = encoder.layers[0]
    for x, z in zip(X, Z):
        seq = torch.as_tensor(x, dtype=torch.float32)[None]  # (1, T, F)
        with torch.no_grad():
            forward_last = forward_layer(seq)[0][0, -1].numpy()  # after the last step
            backward_last = backward_layer(seq.flip(1))[0][0, -1].numpy()  # after step 0
        np.testing.assert_allclose(z[:4], forward_last, atol=1e-5)
        np.testing.assert_allclose(z[4:], backward_last, atol=1e-5)


def test_transform_ignores_padding_and_batching():
    """Each sequence's features are the same alone, in a ragged batch, or past 256 sequences."""
    X, y = ragged(n=300, n_features=1, seed=1)
    clf = RecurrentClassifier(hidden_size=5, max_iter=1, bidirectional=True, random_state=0)
    clf.fit(X, y > 0)
    Z = clf.transform(X)
    for i in (0, 7, 299):
        np.testing.assert_allclose(clf.transform(X[i : i + 1])[0], Z[i], atol=1e-6)
    # A 2-D array of equal-length univariate sequences is the same as the list.
    equal = [x[:3, 0] for x in X[:10]]
    np.testing.assert_allclose(clf.transform(np.array(equal)), clf.transform(equal), atol=1e-6)


def test_transform_is_the_same_on_both_backends():
    """The numba kernels give the torch backend's features (same weights)."""
    X, y = ragged()
    reg = LSTMRegressor(hidden_size=6, max_iter=2, random_state=0, backend="torch").fit(X, y)
    torch_features = reg.transform(X)
    numba_features = reg.set_params(backend="numba").transform(X)
    np.testing.assert_allclose(numba_features, torch_features, atol=1e-5)


def test_fit_transform_equals_fit_then_transform():
    """fit_transform(X, y) is fit(X, y).transform(X), for a fixed random_state."""
    X, y = ragged()
    params = dict(hidden_size=6, max_iter=3, random_state=0)
    np.testing.assert_allclose(
        RecurrentRegressor(**params).fit_transform(X, y),
        RecurrentRegressor(**params).fit(X, y).transform(X),
        atol=1e-6,
    )


def test_transform_errors():
    """Unfitted and wrongly shaped input give clear errors."""
    X, y = ragged()
    with pytest.raises(NotFittedError):
        RecurrentRegressor().transform(X)
    reg = RecurrentRegressor(hidden_size=4, max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="feature"):
        reg.transform(np.zeros((3, 5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        reg.transform(np.full((3, 5, 2), np.nan))


def test_feature_names_and_pandas_output():
    """get_feature_names_out names each unit; set_output gives a DataFrame."""
    pd = pytest.importorskip("pandas")
    X, y = ragged()
    reg = BiRNNRegressor(hidden_size=3, max_iter=1, random_state=0).fit(X, y)
    names = reg.get_feature_names_out()
    assert list(names) == [f"birnnregressor{i}" for i in range(6)]
    frame = reg.set_output(transform="pandas").transform(X)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(names)


def test_every_many_to_one_estimator_transforms():
    """All classifiers and regressors (presets too) have transform and are transformers."""
    X, y = ragged(n=10)
    for name in sklearn_rnn.__all__:
        if not name.endswith(("Classifier", "Regressor")):
            continue
        cls = getattr(sklearn_rnn, name)
        if not issubclass(cls, (RecurrentClassifier, RecurrentRegressor)):
            continue
        target = y > 0 if issubclass(cls, RecurrentClassifier) else y
        est = cls(hidden_size=3, max_iter=1, random_state=0).fit(X, target)
        width = 6 if est.bidirectional else 3
        assert est.transform(X).shape == (10, width), name
        assert est.__sklearn_tags__().transformer_tags is not None, name


def test_pickled_estimator_transforms_the_same():
    """A pickled and reloaded estimator gives the same features."""
    X, y = ragged()
    reg = RecurrentRegressor(hidden_size=4, max_iter=2, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(again.transform(X), reg.transform(X))


def test_pipeline_featurizer_then_logistic_regression_on_japanese_vowels():
    """A recurrent classifier as the featurizer of a LogisticRegression learns the speakers.

    Pipeline.fit calls fit_transform(X, y) on the classifier, so it is trained
    on the labels, and its final states separate the 9 speakers (chance 1/9).
    """
    X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
    X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
    model = Pipeline(
        [
            ("scale", SequenceScaler()),
            ("rnn", GRUClassifier(hidden_size=16, max_iter=15, learning_rate=1e-2, random_state=0)),
            ("logreg", LogisticRegression(max_iter=1000)),
        ]
    )
    model.fit(X_train, y_train)
    assert list(model["rnn"].classes_) == [str(i) for i in range(1, 10)]  # trained on y
    accuracy = model.score(X_test, y_test)
    assert accuracy > 0.85, accuracy
    # The features are the network's own: close to the network's own accuracy.
    network = make_pipeline(SequenceScaler().fit(X_train), model["rnn"])
    assert abs(accuracy - network.score(X_test, y_test)) < 0.1


def test_regressor_features_feed_a_linear_model():
    """A regressor's final states fed to LinearRegression fit the target as well as its head."""
    X, y = ragged(n=120, seed=2)
    model = make_pipeline(
        RecurrentRegressor(hidden_size=16, max_iter=60, learning_rate=1e-2, random_state=0),
        LinearRegression(),
    ).fit(X, y)
    baseline = np.mean((y - y.mean()) ** 2)
    assert np.mean((model.predict(X) - y) ** 2) < 0.2 * baseline


def test_grid_search_over_a_featurizer_pipeline():
    """GridSearchCV tunes the recurrent featurizer inside a pipeline."""
    X, y = ragged(n=40)
    labels = (y > 0).astype(int)
    pipe = make_pipeline(
        RecurrentClassifier(max_iter=2, random_state=0), LogisticRegression()
    )
    search = GridSearchCV(pipe, {"recurrentclassifier__hidden_size": [2, 4]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, labels)
    assert search.best_params_["recurrentclassifier__hidden_size"] in (2, 4)
    assert search.best_estimator_[0].transform(X).shape[1] == search.best_params_[
        "recurrentclassifier__hidden_size"
    ]


def test_clone_keeps_transform_params():
    """clone of a fitted featurizer is unfitted with the same parameters."""
    X, y = ragged()
    reg = RecurrentRegressor(hidden_size=4, max_iter=1, random_state=0).fit(X, y)
    fresh = clone(reg)
    assert fresh.get_params() == reg.get_params()
    with pytest.raises(NotFittedError):
        fresh.transform(X)
