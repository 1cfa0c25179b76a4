"""SequenceGenerator: a sequence from a feature vector (one-to-many).

Its X is a plain feature matrix and a 1-D y is a one-step output, so
scikit-learn's checks all run on it (none is expected to fail).
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_rnn import SequenceGenerator

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(hidden_size=8, max_iter=3, random_state=0)
FAST = dict(hidden_size=32, learning_rate=1e-2, random_state=0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sines(n, seed, n_steps=15):
    """Features (frequency, phase) in [0.2, 1] and the sine wave they set."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(0.2, 1.0, size=(n, 2))
    return X, np.sin(1.5 * X[:, :1] * np.arange(n_steps) + 3 * X[:, 1:])


@parametrize_with_checks(
    [SequenceGenerator(hidden_size=16, max_iter=50, learning_rate=1e-2, random_state=0)]
)
def test_sklearn_checks(estimator, check):
    """Every scikit-learn check passes: X is tabular, a 1-D y is a one-step sequence."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_generates_sines_better_than_the_mean_sequence():
    X, y = sines(500, seed=0)
    X_test, y_test = sines(200, seed=1)
    gen = SequenceGenerator(max_iter=30, **FAST).fit(X, y)
    predicted = gen.predict(X_test)
    assert predicted.shape == (200, 15)
    baseline = r2_score(y_test.ravel(), np.tile(y.mean(axis=0), (200, 1)).ravel())
    score = gen.score(X_test, y_test)
    assert score > 0.9 and score > baseline + 0.5, (score, baseline)


def test_learns_lengths_from_the_features():
    """Variable lengths: the stop signal ends each sequence at the length its features set."""
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, size=(500, 2))
    lengths = 2 + (X[:, 0] * 6).astype(int)  # 2..7 steps
    y = [np.linspace(0, x[1], n) for x, n in zip(X, lengths)]
    gen = SequenceGenerator(cell="gru", max_iter=30, **FAST).fit(X, y)
    predicted = gen.predict(X[:100])
    assert isinstance(predicted, list) and gen.variable_length_
    right = np.mean([len(p) == n for p, n in zip(predicted, lengths[:100])])
    assert right > 0.8, right
    assert gen.score(X[:100], y[:100]) > 0.7


def test_vector_steps_and_a_plugin_cell():
    """3-D y (a vector per step) with a cell class outside the built-ins."""
    from test_seq2seq import TupleStateCell

    X, y = sines(60, seed=2, n_steps=6)
    y3 = np.stack([y, -y], axis=2)  # (60, 6, 2)
    gen = SequenceGenerator(cell=TupleStateCell, **TINY).fit(X, y3)
    assert gen.predict(X[:4]).shape == (4, 6, 2)
    restored = pickle.loads(pickle.dumps(gen))
    np.testing.assert_array_equal(restored.predict(X[:4]), gen.predict(X[:4]))


def test_clone_determinism_no_mutation():
    X, y = sines(40, seed=3, n_steps=5)
    X_copy, y_copy = X.copy(), y.copy()
    gen = SequenceGenerator(**TINY)
    params = gen.get_params()
    assert clone(gen).get_params() == params and "bidirectional" not in params
    first = gen.fit(X, y).predict(X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(first, SequenceGenerator(**TINY).fit(X, y).predict(X))
    assert not np.allclose(first[0], first[1])  # the features set the state


def test_bad_input_errors():
    X, y = sines(10, seed=4, n_steps=4)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SequenceGenerator(**TINY).fit(X, y[:5])
    with pytest.raises(ValueError, match="3 features"):
        SequenceGenerator(**TINY).fit(X, y).predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="requires y"):
        SequenceGenerator(**TINY).fit(X, None)
    with pytest.raises(ValueError, match="use Seq2SeqRegressor"):
        SequenceGenerator(**TINY).fit(np.zeros((10, 4, 2)), y)


def test_pipeline_and_grid_search():
    """StandardScaler + SequenceGenerator on far-off features; GridSearchCV picks a working size."""
    X, y = sines(300, seed=5)
    X = 1000 + 300 * X
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SequenceGenerator(max_iter=25, **FAST)),
        {"sequencegenerator__hidden_size": [1, 32]},
        cv=2,
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"sequencegenerator__hidden_size": 32}
    assert scores[1] > 0.8 > scores[0], scores
