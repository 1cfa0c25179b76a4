"""Torch threads of fits that joblib runs side by side (docs/user_guide.md, threads)."""

import threading

import numpy as np
import pytest
import torch
from joblib import cpu_count, parallel_config
from skorch.callbacks import Callback
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_rnn import GRUClassifier

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)

# Two fits of a threading search meet here twice: after both began, and after
# both recorded their first epoch, so each records while the other runs.
MEETING = threading.Barrier(2, timeout=120)


class RecordThreads(Callback):
    """Records torch's threads at the start of each epoch in the history."""

    def __init__(self, meet=False):
        self.meet = meet

    def on_train_begin(self, net, **kwargs):
        if self.meet:
            MEETING.wait()

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())

    def on_epoch_end(self, net, **kwargs):
        if self.meet and len(net.history) == 1:
            MEETING.wait()


def first_epoch_threads(estimator, X, y):
    """A scorer: the torch threads the fit used in its first epoch."""
    return estimator.history_[0]["torch_threads"]


def ragged_problem(n_samples=24, seed=0):
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(int(rng.integers(3, 8)), 2)).astype(np.float32) for _ in range(n_samples)]
    return X, np.array([int(x[:, 0].sum() > 0) for x in X])


def search_threads(callback, **backend):
    """The torch threads seen in each fit of a 2-job grid search (4 fits)."""
    X, y = ragged_problem()
    search = GridSearchCV(
        GRUClassifier(hidden_size=3, max_iter=2, callbacks=[callback], random_state=0),
        {"learning_rate": [0.01, 0.02]},
        cv=2,
        n_jobs=2,
        scoring=first_epoch_threads,
        refit=False,
    )
    with parallel_config(**backend):
        search.fit(X, y)
    return [search.cv_results_[f"split{i}_test_score"][j] for i in range(2) for j in range(2)]


def test_threading_backend_fits_share_torch_threads():
    """Two fits in threads of one process each use half of torch's threads, then restore them."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        threads = search_threads(RecordThreads(meet=True), backend="threading")
        after = torch.get_num_threads()
        fresh = []
        worker = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
        worker.start()
        worker.join()
    finally:
        torch.set_num_threads(before)
    assert threads == [1, 1, 1, 1]  # 2 each without the sharing
    assert after == 2 and fresh == [2]  # neither this thread nor new ones keep the share


def test_loky_workers_train_with_their_share_of_the_cores():
    """Under joblib's default backend, each worker's fits use cpu_count // n_jobs torch threads."""
    threads = search_threads(RecordThreads())
    assert threads == [max(1, cpu_count() // 2)] * 4


def test_a_fit_alone_keeps_torch_threads():
    """A fit with nothing else running neither changes nor reports a smaller thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        X, y = ragged_problem()
        clf = GRUClassifier(hidden_size=3, max_iter=2, callbacks=[RecordThreads()]).fit(X, y)
        clf.predict(X)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert [epoch["torch_threads"] for epoch in clf.history_] == [2, 2]
    assert after == 2
