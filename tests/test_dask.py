"""Searches on a Dask cluster of worker processes on loopback (docs/distributed.md)."""

import os

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, RandomizedSearchCV

from sklearn_rnn import GRUClassifier

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)

FAST = {"hidden_size": 4, "max_iter": 3, "learning_rate": 0.05, "random_state": 0}


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on 127.0.0.1, closed after the module."""
    # Dask's nanny sets OMP_NUM_THREADS=1 (and more) in this process's
    # environment too; put it back so that later tests see the usual one.
    environ = dict(os.environ)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()
        os.environ.clear()
        os.environ.update(environ)


def ragged_problem(n_samples=40, seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(int(rng.integers(3, 9)), 2)).astype(np.float32) for _ in range(n_samples)]
    return X, np.array([int(x[:, 0].sum() > 0) for x in X])


def worker_probe():
    """A callback recording torch's threads in fit, and a scorer reporting them and the pid.

    Made here, not at module level: the workers cannot import this test module,
    so these are pickled by value.
    """
    from skorch.callbacks import Callback

    class RecordThreads(Callback):
        def on_epoch_begin(self, net, **kwargs):
            import torch

            net.history.record("torch_threads", torch.get_num_threads())
            net.history.record("pid", os.getpid())

    def threads(estimator, X, y):
        return estimator.history_[0]["torch_threads"]

    def pid(estimator, X, y):
        return estimator.history_[0]["pid"]

    return RecordThreads(), {"accuracy": "accuracy", "threads": threads, "pid": pid}


def test_grid_search_on_dask_matches_serial(client):
    """GridSearchCV on ragged data runs in the workers, 1 torch thread each, as serially."""
    X, y = ragged_problem()
    callback, scoring = worker_probe()
    grid = {"cell": ["rnn", "gru"], "hidden_size": [3, 5]}
    search = GridSearchCV(
        GRUClassifier(**{**FAST, "callbacks": [callback]}), grid, cv=2, scoring=scoring, refit="accuracy"
    )
    serial = GridSearchCV(GRUClassifier(**FAST), grid, cv=2).fit(X, y)
    with parallel_config(backend="dask"):
        search.fit(X, y)
    results = search.cv_results_
    pids = {int(p) for i in range(2) for p in results[f"split{i}_test_pid"]}
    assert os.getpid() not in pids and pids <= set(client.run(os.getpid).values())
    assert {float(t) for i in range(2) for t in results[f"split{i}_test_threads"]} == {1.0}
    np.testing.assert_allclose(results["mean_test_accuracy"], serial.cv_results_["mean_test_score"])
    assert search.best_params_ == serial.best_params_
    np.testing.assert_array_equal(search.predict(X), serial.predict(X))


def test_randomized_search_on_dask_matches_serial(client):
    """RandomizedSearchCV draws the same candidates and scores on the cluster as serially."""
    X, y = ragged_problem()
    distributions = {"learning_rate": [0.01, 0.03, 0.1], "hidden_size": [2, 4, 6]}

    def search():
        return RandomizedSearchCV(GRUClassifier(**FAST), distributions, n_iter=3, cv=2, random_state=0)

    serial = search().fit(X, y)
    with parallel_config(backend="dask"):
        distributed_search = search().fit(X, y)
    assert distributed_search.cv_results_["params"] == serial.cv_results_["params"]
    np.testing.assert_allclose(
        distributed_search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_halving_search_over_epochs_on_dask(client):
    """Successive halving with max_iter as the resource runs on the cluster as serially."""
    X, y = ragged_problem()

    def search():
        return HalvingRandomSearchCV(
            GRUClassifier(**FAST),
            {"learning_rate": [0.003, 0.01, 0.03, 0.1], "hidden_size": [2, 4]},
            n_candidates=4,
            resource="max_iter",
            min_resources=2,
            max_resources=8,
            factor=2,
            cv=2,
            random_state=0,
        )

    serial = search().fit(X, y)
    with parallel_config(backend="dask"):
        distributed_search = search().fit(X, y)
    assert list(distributed_search.n_resources_) == [2, 4, 8]
    assert distributed_search.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        distributed_search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def _dask_ml_incremental_search_broken():
    from packaging.version import Version

    return Version(dask.__version__) >= Version("2025.3.0")


@pytest.mark.xfail(
    _dask_ml_incremental_search_broken(),
    raises=RuntimeError,
    reason="dask-ml's incremental searches fail on dask >= 2025.3 "
    "(https://github.com/dask/dask-ml/issues/1016)",
)
def test_dask_ml_hyperband_search_with_partial_fit(client):
    """dask-ml's HyperbandSearchCV trains with partial_fit on ragged data as an object array."""
    dask_ml = pytest.importorskip("dask_ml.model_selection")
    import dask.array as da

    X_list, y = ragged_problem(n_samples=60)
    X = da.from_array(np.array(X_list, dtype=object), chunks=20)
    search = dask_ml.HyperbandSearchCV(
        GRUClassifier(hidden_size=4, random_state=0),
        {"learning_rate": [0.01, 0.03, 0.1]},
        max_iter=9,
        random_state=0,
    )
    search.fit(X, da.from_array(y, chunks=20), classes=[0, 1])
    assert search.best_params_["learning_rate"] in (0.01, 0.03, 0.1)
    assert search.best_estimator_.n_iter_ >= 1  # epochs, one per partial_fit call
    assert search.best_estimator_.predict(X_list).shape == (60,)
