"""What ``verbose`` shows while training: tqdm bars when interactive, table lines otherwise."""

import pickle
import re

import numpy as np
import pytest
from skorch.callbacks import Callback

from sklearn_rnn import (
    CharLanguageModel,
    LSTMClassifier,
    RNNForecaster,
    Seq2SeqRegressor,
    SequenceTagger,
    load,
)
from sklearn_rnn._torch import progress
from sklearn_rnn.callbacks import EpochCheckpoint

FAST = dict(hidden_size=4, max_iter=3, batch_size=8, random_state=0)


def _data(n=24, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5, 2)).astype(np.float32)
    return X, (X[:, :, 0].mean(axis=1) > 0).astype(int)


@pytest.fixture
def interactive(monkeypatch):
    """Pretend stderr is a terminal."""
    monkeypatch.setattr(progress, "interactive", lambda: True)


def _bar_counts(text):
    """The ``n/total`` counters drawn by tqdm in ``text``."""
    return re.findall(r"\| (\d+)/(\d+) \[", text)


def test_verbose_zero_prints_nothing(capsys, interactive):
    """verbose=0 prints nothing, on stdout or stderr, even where bars could be drawn."""
    X, y = _data()
    LSTMClassifier(verbose=0, early_stopping=True, **FAST).fit(X, y).partial_fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("verbose", [1, 2])
def test_not_interactive_prints_lines_without_bars(capsys, verbose):
    """Not on a terminal (logs, CI, pytest), verbose>0 prints a table line per epoch and no bar."""
    assert not progress.interactive()  # pytest captures stderr
    X, y = _data()
    LSTMClassifier(verbose=verbose, **FAST).fit(X, y)
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err
    assert captured.err == ""
    rows = [line for line in captured.out.splitlines() if re.match(r"\s+\d+\s", line)]
    assert len(rows) == FAST["max_iter"]
    assert "train_loss" in captured.out


def test_interactive_draws_an_epoch_bar(capsys, interactive):
    """On a terminal, verbose=1 draws one bar over max_iter epochs with the loss, and no table."""
    X, y = _data()
    clf = LSTMClassifier(verbose=1, **FAST).fit(X, y)
    captured = capsys.readouterr()
    assert "\r" in captured.err
    assert "LSTMClassifier" in captured.err
    counts = _bar_counts(captured.err)
    assert counts[0] == ("0", "3") and counts[-1] == ("3", "3")
    assert f"train_loss={clf.loss_curve_[-1]:.4g}" in captured.err
    assert "epoch" in captured.err and "batch" not in captured.err
    assert captured.out == ""  # the losses are in the bar, not in a table


def test_interactive_early_stopping_shows_validation_loss_and_stop(capsys, interactive):
    """With early stopping the bar shows valid_loss, counts the stopping epoch, and the
    stop and restore messages are printed."""
    X, y = _data(40)
    clf = LSTMClassifier(
        verbose=1, early_stopping=True, n_iter_no_change=1, tol=10.0,
        **{**FAST, "max_iter": 20},
    ).fit(X, y)
    captured = capsys.readouterr()
    assert clf.n_iter_ < 20
    assert "valid_loss=" in captured.err
    assert _bar_counts(captured.err)[-1] == (str(clf.n_iter_), "20")
    assert "Stopping: valid_loss has not improved" in captured.out


def test_interactive_verbose_two_adds_batch_bar_and_table(capsys, interactive):
    """verbose=2 adds a bar over each epoch's batches (training and validation) and the table."""
    X, y = _data(40)
    LSTMClassifier(verbose=2, early_stopping=True, validation_fraction=0.25, **FAST).fit(X, y)
    captured = capsys.readouterr()
    # 30 training sequences in batches of 8, then 10 validation ones.
    assert ("6", "6") in _bar_counts(captured.err)
    assert "batches" in captured.err
    assert "train_loss" in captured.out and "valid_loss" in captured.out


def test_partial_fit_bar_counts_from_the_epochs_done(capsys, interactive):
    """partial_fit runs one epoch: its bar goes from the epochs done to one more."""
    X, y = _data()
    clf = LSTMClassifier(verbose=1, **FAST).fit(X, y)
    capsys.readouterr()
    clf.partial_fit(X, y)
    counts = _bar_counts(capsys.readouterr().err)
    assert counts[0] == ("3", "4") and counts[-1] == ("4", "4")


class _Crash(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise RuntimeError("killed")


def test_resumed_fit_bar_starts_at_the_checkpoint(capsys, interactive, tmp_path):
    """A fit resumed by EpochCheckpoint continues its bar from the checkpointed epoch."""
    X, y = _data()
    params = dict(verbose=1, **{**FAST, "max_iter": 5})
    with pytest.raises(RuntimeError, match="killed"):
        LSTMClassifier(callbacks=[EpochCheckpoint(tmp_path), _Crash()], **params).fit(X, y)
    capsys.readouterr()
    clf = LSTMClassifier(callbacks=[EpochCheckpoint(tmp_path)], **params).fit(X, y)
    captured = capsys.readouterr()
    assert clf.callbacks[0].resumed_from_ == 2
    counts = _bar_counts(captured.err)
    assert counts[0] == ("2", "5") and counts[-1] == ("5", "5")
    assert "Resumed from" in captured.out


def test_failed_fit_closes_its_bars(capsys, interactive, tmp_path):
    """A fit that raises leaves no open bar behind in the net."""
    X, y = _data()
    clf = LSTMClassifier(verbose=2, callbacks=[_Crash()], **FAST)
    with pytest.raises(RuntimeError, match="killed"):
        clf.fit(X, y)
    assert dict(clf.net_.callbacks_)["progress"]._bars is None


def test_verbose_model_pickles_and_saves(capsys, interactive, tmp_path):
    """A model fitted with bars pickles (no tqdm object inside) and saves; both predict."""
    X, y = _data()
    clf = LSTMClassifier(verbose=2, **FAST).fit(X, y)
    # The state a pickle would see, even of a fit interrupted with bars open.
    callback = dict(clf.net_.callbacks_)["progress"]
    callback._bars = ("a bar",)
    assert callback.__getstate__()["_bars"] is None
    callback._bars = None
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, y)  # the unpickled net trains and draws again
    clf.save(tmp_path / "model")
    np.testing.assert_array_equal(load(tmp_path / "model").predict_proba(X), clf.predict_proba(X))


def test_disabled_bar_falls_back_to_lines(capsys, interactive, monkeypatch):
    """A bar tqdm disables (TQDM_DISABLE=1 in the environment, read when tqdm is
    imported) leaves verbose=1 printing the table instead."""
    from tqdm import tqdm

    monkeypatch.setattr(progress, "_bar", lambda **kwargs: tqdm(disable=True, **kwargs))
    X, y = _data()
    LSTMClassifier(verbose=1, **FAST).fit(X, y)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "train_loss" in captured.out


def _tasks():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 7), 2)).astype(np.float32) for _ in range(12)]
    tags = [(x[:, 0] > 0).astype(int) for x in X]
    values = rng.normal(size=(12, 3, 1))
    series = np.sin(np.arange(60) / 3.0)
    texts = ["abcabcab", "bcabcabc", "cabcabca"]
    return [
        (SequenceTagger(verbose=1, **FAST), (X, tags)),
        (Seq2SeqRegressor(verbose=1, **FAST), (X, values)),
        (CharLanguageModel(verbose=1, **FAST), (texts,)),
        (RNNForecaster(window=6, verbose=1, **FAST), (series,)),
    ]


@pytest.mark.parametrize("estimator, data", _tasks(), ids=lambda v: type(v).__name__)
def test_every_task_draws_a_bar(capsys, interactive, estimator, data):
    """Every estimator trains through the same net: each draws its bar over max_iter epochs."""
    estimator.fit(*data)
    counts = _bar_counts(capsys.readouterr().err)
    assert counts and counts[-1] == ("3", "3")
