"""Fits that joblib runs side by side: their torch threads and their reproducibility.

See docs/user_guide.md, "Threads and parallel jobs", and docs/reliability.md, "Fits in
threads".
"""

import threading

import numpy as np
import pytest
import torch
from joblib import Parallel, cpu_count, delayed, parallel_config
from skorch.callbacks import Callback
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_rnn import (
    CharLanguageModel,
    GRUClassifier,
    LSTMRegressor,
    RecurrentRegressor,
    Seq2SeqRegressor,
    SequenceGenerator,
    SequenceTagger,
    StepwiseRegressor,
)

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


# --- reproducibility of threaded fits ---------------------------------------------------------


def _regression():
    X, _ = ragged_problem()
    return X, np.array([x[:, 0].sum() for x in X])


def _tagging():
    X, _ = ragged_problem()
    return X, [(x[:, 0] > 0).astype(int) for x in X]


def _reversal():
    X, _ = ragged_problem()
    return X, [x[::-1, 0] for x in X]


def _texts():
    return ["abcab", "bcad", "dcba", "abba", "cab", "dab"] * 4, None


def _features():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.2, 1.0, size=(24, 2))
    return X, np.sin(X[:, :1] * np.arange(5) + X[:, 1:])


SMALL = dict(hidden_size=6, max_iter=3, batch_size=6)

# name -> (estimator class, parameters, data, what is compared): every family, each with
# some of dropout, recurrent dropout, teacher forcing, early stopping, on both backends;
# the batches are shuffled in all of them (batch_size < n_samples).
THREADED_CASES = {
    "gru-classifier-dropout-recurrent-dropout": (
        GRUClassifier, dict(dropout=0.3, recurrent_dropout=0.3, num_layers=2), ragged_problem,
        "predict_proba",
    ),
    "gru-classifier-numba-dropout": (
        GRUClassifier, dict(backend="numba", dropout=0.3, num_layers=2, bidirectional=True),
        ragged_problem, "predict_proba",
    ),
    "lstm-regressor-dropout-early-stopping": (
        LSTMRegressor, dict(dropout=0.3, num_layers=2, early_stopping=True), _regression,
        "predict",
    ),
    "tagger": (SequenceTagger, dict(dropout=0.3, num_layers=2), _tagging, "predict_proba"),
    "stepwise-regressor": (
        StepwiseRegressor, dict(dropout=0.3, num_layers=2, recurrent_dropout=0.2), _tagging,
        "predict",
    ),
    "seq2seq-teacher-forcing": (
        Seq2SeqRegressor, dict(teacher_forcing=0.5, dropout=0.3, num_layers=2), _reversal,
        "predict",
    ),
    "generator-teacher-forcing": (
        SequenceGenerator, dict(teacher_forcing=0.5, dropout=0.3, num_layers=2), _features,
        "predict",
    ),
    "char-language-model": (
        CharLanguageModel, dict(dropout=0.3, num_layers=2, batch_size=4), _texts, "score",
    ),
    "plugin-cell": (
        RecurrentRegressor, dict(cell="direct", dropout=0.3, num_layers=2), _regression,
        "predict",
    ),
}


def _fit_and_predict(name, seed, meet=False):
    cls, params, data, method = THREADED_CASES[name]
    X, y = data()
    callbacks = [RecordThreads(meet=True)] if meet else None
    estimator = cls(**{**SMALL, **params}, random_state=seed, callbacks=callbacks)
    estimator.fit(X, y) if y is not None else estimator.fit(X)
    result = getattr(estimator, method)(X)
    if isinstance(result, list):  # ragged outputs (the tagger, seq2seq)
        return [np.asarray(r) for r in result]
    return np.asarray(result)


def _four_fits(name, threaded):
    """Fits with random_state 0..3: one after the other, or two at a time in threads."""
    if not threaded:
        return [_fit_and_predict(name, seed) for seed in range(4)]
    MEETING.reset()
    with parallel_config(backend="threading", n_jobs=2):
        return Parallel()(delayed(_fit_and_predict)(name, seed, True) for seed in range(4))


def _assert_identical(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, list):
            _assert_identical(x, y)
        else:
            assert np.shape(x) == np.shape(y) and np.array_equal(x, y, equal_nan=True), (x, y)


@pytest.mark.parametrize("name", list(THREADED_CASES))
def test_threaded_fits_are_bitwise_those_of_serial_fits(name):
    """Bug: fits in threads shared torch's global generator, so their initialisation,
    dropout, batch order and teacher forcing interleaved and the results depended on the
    scheduling. Each fit now draws from its own generators."""
    if name == "plugin-cell":
        pytest.importorskip("sklearn_rnn_feedback")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the thread count changes the rounding, not the draws
    try:
        serial = _four_fits(name, threaded=False)
        threaded = _four_fits(name, threaded=True)
    finally:
        torch.set_num_threads(before)
    _assert_identical(serial, threaded)


def test_threaded_grid_search_scores_are_those_of_a_serial_search():
    """A GridSearchCV under the threading backend gives the serial search's scores, bit for bit."""
    X, y = ragged_problem()

    def search(n_jobs, callbacks):
        return GridSearchCV(
            GRUClassifier(dropout=0.3, recurrent_dropout=0.3, num_layers=2, **SMALL,
                          random_state=0, callbacks=callbacks),
            {"learning_rate": [0.01, 0.05]},
            cv=2,
            n_jobs=n_jobs,
            scoring="neg_log_loss",
            refit=False,
        )

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        serial = search(None, None).fit(X, y).cv_results_
        MEETING.reset()
        with parallel_config(backend="threading", n_jobs=2):
            threaded = search(2, [RecordThreads(meet=True)]).fit(X, y).cv_results_
    finally:
        torch.set_num_threads(before)
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(threaded[key], serial[key])
