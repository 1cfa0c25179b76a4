"""EpochCheckpoint: checkpoint every epoch of fit, resume after a crash at the same weights.

The kill tests run training in a subprocess that SIGKILLs itself (after an
epoch, or in the middle of writing a checkpoint), resume in a fresh process,
and compare every parameter with an uninterrupted run in this process
(``torch.equal``). The in-process tests interrupt with an exception, which is
cheaper and covers every estimator.
"""

import functools
import json
import os
import pickle
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from sklearn_rnn import (
    CharLanguageModel,
    RecurrentClassifier,
    RecurrentRegressor,
    Seq2SeqClassifier,
    Seq2SeqRegressor,
    SequenceGenerator,
    SequenceTagger,
    StepwiseRegressor,
)
from sklearn_rnn._io import read_bundle
from sklearn_rnn.callbacks import EpochCheckpoint

FAST = dict(hidden_size=6, max_iter=5, batch_size=8, random_state=0)


def _sequences(n=30, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(rng.randint(5, 12), 2)).astype(np.float32) for _ in range(n)]


def _labels(X):
    return np.array([int(x[:, 0].mean() > 0) for x in X])


# name -> (estimator class, parameters, X, y); one per estimator deriving from BaseRecurrent.
X = _sequences()
CASES = {
    "classifier": (
        RecurrentClassifier,
        dict(early_stopping=True, dropout=0.3, num_layers=2, backend="torch"),
        X,
        _labels(X),
    ),
    "classifier-numba": (
        RecurrentClassifier, dict(early_stopping=True, backend="numba"), X, _labels(X)
    ),
    "regressor": (RecurrentRegressor, dict(recurrent_dropout=0.2), X, _labels(X).astype(float)),
    "tagger-numba": (
        SequenceTagger, dict(backend="numba"), X, [(x[:, 0] > 0).astype(int) for x in X]
    ),
    "stepwise": (StepwiseRegressor, dict(), X, [2 * x[:, 0] for x in X]),
    "seq2seq-classifier": (
        Seq2SeqClassifier,
        dict(),
        X,
        [(x[::-1, 0] > 0).astype(int)[:4] for x in X],
    ),
    "seq2seq-regressor": (Seq2SeqRegressor, dict(early_stopping=True), X, [x[::-1, 0] for x in X]),
    "generator": (SequenceGenerator, dict(), np.array([x[0] for x in X]), [x[:, 0] for x in X]),
    "language-model": (
        CharLanguageModel,
        dict(dropout=0.2, num_layers=2),
        ["abcabd", "bcad", "dcba"] * 6,
        None,
    ),
}


def make(name, callbacks=None, **overrides):
    """The estimator of case ``name`` with ``callbacks``, and its data."""
    cls, params, X, y = CASES[name]
    return cls(**{**FAST, **params, **overrides}, callbacks=callbacks), X, y


class CrashAfter(Callback):
    """Raise at the end of epoch ``epoch``, after EpochCheckpoint has written it."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise RuntimeError("simulated crash")


class CountEpochs(Callback):
    def initialize(self):
        self.epochs = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short runs
        return estimator.fit(X, y)


def assert_same_weights(a, b):
    a, b = a.net_.module_.state_dict(), b.net_.module_.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def crash_then_resume(name, directory, at, **overrides):
    estimator, X, y = make(name, [EpochCheckpoint(directory), CrashAfter(at)], **overrides)
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(estimator, X, y)
    resumed, X, y = make(name, [EpochCheckpoint(directory)], **overrides)
    return fit(resumed, X, y)


# --- resuming in the same process ------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_resume_after_crash_matches_uninterrupted_run(name, tmp_path):
    """Every estimator, both backends: crash after epoch 3 of 5, resume: same weights, bitwise."""
    reference = fit(*make(name))
    resumed = crash_then_resume(name, tmp_path, at=3)
    assert resumed.callbacks[0].resumed_from_ == 3
    assert_same_weights(reference, resumed)
    assert resumed.n_iter_ == reference.n_iter_ == 5
    assert resumed.loss_curve_ == reference.loss_curve_


@pytest.mark.parametrize(
    "optimizer",
    ["sgd", "rmsprop", "adamw", functools.partial(torch.optim.SGD, momentum=0.9)],
    ids=["sgd", "rmsprop", "adamw", "sgd-momentum"],
)
def test_resume_restores_every_optimizer(tmp_path, optimizer):
    """Each optimizer's state (momentum buffers, running averages, steps) is resumed exactly."""
    params = dict(optimizer=optimizer, learning_rate=0.05)
    reference = fit(*make("classifier", **params))
    resumed = crash_then_resume("classifier", tmp_path, at=2, **params)
    assert_same_weights(reference, resumed)


def test_resume_restores_the_stop_rule(tmp_path):
    """The stop rule's state survives: best epoch 5, crash at 6, stop at 8, epoch 5's weights."""
    params = dict(
        early_stopping=True, learning_rate=0.1, n_iter_no_change=3, validation_fraction=0.3,
        max_iter=12,
    )
    reference = fit(*make("classifier-numba", **params))
    stopper = dict(reference.net_.callbacks_)["early_stopping"]
    assert (stopper.best_epoch_, reference.n_iter_) == (5, 8)  # the scenario this test needs
    resumed = crash_then_resume("classifier-numba", tmp_path, at=6, **params)
    assert resumed.n_iter_ == 8
    assert_same_weights(reference, resumed)
    assert resumed.validation_loss_curve_ == reference.validation_loss_curve_


def test_finished_fit_is_not_trained_again(tmp_path):
    """Resuming a finished fit trains no epoch and gives the finished model."""
    first, X, y = make("classifier", [EpochCheckpoint(tmp_path)])
    fit(first, X, y)
    counter = CountEpochs()
    again, _, _ = make("classifier", [EpochCheckpoint(tmp_path), counter])
    fit(again, X, y)
    assert counter.epochs == 0
    assert again.callbacks[0].resumed_from_ == 5
    assert_same_weights(first, again)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))


def test_killed_after_the_last_epoch_finishes_on_resume(tmp_path):
    """A checkpoint of the last epoch, not yet marked finished, resumes into no epoch."""
    params = dict(early_stopping=True, n_iter_no_change=50)  # best weights restored at the end
    reference = fit(*make("classifier", **params))
    resumed = crash_then_resume("classifier", tmp_path, at=5, **params)
    assert resumed.callbacks[0].resumed_from_ == 5
    assert_same_weights(reference, resumed)


def test_resume_false_starts_over(tmp_path):
    """resume=False deletes the checkpoint and trains from scratch."""
    estimator, X, y = make("classifier", [EpochCheckpoint(tmp_path), CrashAfter(2)])
    with pytest.raises(RuntimeError):
        fit(estimator, X, y)
    counter = CountEpochs()
    again, _, _ = make("classifier", [EpochCheckpoint(tmp_path, resume=False), counter])
    fit(again, X, y)
    assert again.callbacks[0].resumed_from_ is None and counter.epochs == 5
    assert read_bundle(tmp_path / "checkpoint.safetensors")[1]["epochs"] == 5


# --- refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(hidden_size=7), r"hidden_size=7 \(checkpoint: 6\)"),
        (dict(learning_rate=0.01), r"learning_rate=0.01 \(checkpoint: 0.001\)"),
        (dict(X=X[:20]), r"the training data have 20 samples \(checkpoint: 30\)"),
        (dict(X=_sequences(seed=1)), "the training data differ"),
        (dict(estimator=RecurrentRegressor), "written by sklearn_rnn.*RecurrentClassifier, not"),
    ],
)
def test_checkpoint_of_another_fit_is_refused(tmp_path, change, message):
    """A different estimator, hyperparameter or training data: ValueError saying what differs."""
    estimator, X, y = make("classifier", [EpochCheckpoint(tmp_path), CrashAfter(2)])
    with pytest.raises(RuntimeError):
        fit(estimator, X, y)
    change = dict(change)
    cls = change.pop("estimator", RecurrentClassifier)
    X_new = change.pop("X", X)
    params = {**FAST, **CASES["classifier"][1], **change}
    other = cls(**params, callbacks=[EpochCheckpoint(tmp_path)])
    y_new = _labels(X_new).astype(float if cls is RecurrentRegressor else int)
    with pytest.raises(ValueError, match=message) as error:
        fit(other, X_new, y_new)
    assert "resume=False" in str(error.value)


def test_settings_that_do_not_change_training_may_differ(tmp_path):
    """verbose and the other callbacks may change between the crash and the resume."""
    resumed = crash_then_resume("classifier", tmp_path, at=2)  # CrashAfter is gone on resume
    again, X, y = make("classifier", [EpochCheckpoint(tmp_path), CountEpochs()], verbose=1)
    fit(again, X, y)
    assert_same_weights(resumed, again)


def test_partial_fit_and_warm_start_are_refused(tmp_path):
    """partial_fit, and a warm start of a fitted network, cannot be resumed: ValueError."""
    estimator, X, y = make("classifier", [EpochCheckpoint(tmp_path)])
    with pytest.raises(ValueError, match="not partial_fit"):
        estimator.partial_fit(X, y, classes=[0, 1])
    warm, _, _ = make("classifier", [EpochCheckpoint(tmp_path)], warm_start=True)
    fit(warm, X, y)  # a warm start of an unfitted estimator is a fresh fit
    with pytest.raises(ValueError, match="warm_start=True"):
        fit(warm, X, y)
    with pytest.raises(ValueError, match="2 EpochCheckpoint"):
        fit(*make("classifier", [EpochCheckpoint(tmp_path), ("again", EpochCheckpoint(tmp_path))]))


def test_corrupted_checkpoint_is_a_clear_error(tmp_path):
    """A damaged checkpoint file gives a ValueError naming it, never a crash or a silent restart."""
    estimator, X, y = make("classifier", [EpochCheckpoint(tmp_path)])
    fit(estimator, X, y)
    path = tmp_path / "checkpoint.safetensors"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    again, _, _ = make("classifier", [EpochCheckpoint(tmp_path)])
    with pytest.raises(ValueError, match="corrupted"):
        fit(again, X, y)
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(ValueError, match="truncated"):
        fit(again, X, y)


def test_clone_and_pickle_with_a_checkpoint(tmp_path):
    """clone gives a fresh callback; a fitted estimator pickles and predicts the same."""
    estimator, X, y = make("classifier", [EpochCheckpoint(tmp_path)])
    fresh = clone(estimator)
    assert fresh.callbacks[0] is not estimator.callbacks[0]
    assert fresh.callbacks[0].get_params() == {"directory": tmp_path, "resume": True}
    fit(estimator, X, y)
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.predict_proba(X), estimator.predict_proba(X))


# --- killed processes -----------------------------------------------------------------

CHILD = """
import json, os, signal, sys
import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
import test_checkpoint as T
from sklearn_rnn.callbacks import EpochCheckpoint

resumed = {{}}
for mode, name, directory, at, out in json.loads(sys.argv[1]):
    callbacks = [EpochCheckpoint(directory)]
    if mode == "kill-after-epoch":
        callbacks.append(T.KillAfter(at))
    elif mode == "kill-in-write":  # die between writing epoch at+1's file and renaming it
        replace, writes = os.replace, []

        def dying_replace(source, destination):
            if str(destination).endswith("checkpoint.safetensors"):
                writes.append(destination)
                if len(writes) == at + 1:
                    os.kill(os.getpid(), signal.SIGKILL)
            replace(source, destination)

        os.replace = dying_replace
    estimator, X, y = T.make(name, callbacks)
    T.fit(estimator, X, y)
    np.savez(out, **{{k: v.numpy() for k, v in estimator.net_.module_.state_dict().items()}})
    resumed[directory] = estimator.callbacks[0].resumed_from_
print(json.dumps(resumed))
"""


class KillAfter(Callback):
    """SIGKILL this process at the end of epoch ``epoch``, after EpochCheckpoint wrote it."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


def start_child(script, jobs):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), json.dumps(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


# (test id, mode, case, epoch): killed after epoch 2 of 5, or while writing epoch 3's checkpoint.
KILLS = [
    ("classifier", "kill-after-epoch", "classifier", 2),
    ("tagger-numba", "kill-after-epoch", "tagger-numba", 2),
    ("language-model", "kill-after-epoch", "language-model", 2),
    ("in-write", "kill-in-write", "classifier", 2),
]


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """Each run of KILLS killed in its own process, then all resumed in one fresh process.

    Returns the jobs, each killed process's return code and leftover temporary
    files, and the epoch each run was resumed from, by directory.
    """
    root = tmp_path_factory.mktemp("killed")
    script = root / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent)))
    jobs = {
        key: (mode, name, str(root / key), at, str(root / f"{key}.npz"))
        for key, mode, name, at in KILLS
    }
    children = {key: start_child(script, [job]) for key, job in jobs.items()}  # in parallel
    killed = {}
    for key, child in children.items():
        child.communicate(timeout=600)
        killed[key] = (child.returncode, sorted(Path(jobs[key][2]).glob(".*.tmp")))
    resume = start_child(
        script, [("resume", name, d, 0, out) for _, name, d, _, out in jobs.values()]
    )
    stdout, stderr = resume.communicate(timeout=600)
    assert resume.returncode == 0, stderr
    return jobs, killed, json.loads(stdout.splitlines()[-1])


needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def assert_saved_weights_equal(out, reference):
    weights = np.load(out)
    for key, value in reference.net_.module_.state_dict().items():
        assert torch.equal(torch.from_numpy(weights[key]), value), key


@needs_sigkill
@pytest.mark.parametrize("key", ["classifier", "tagger-numba", "language-model"])
def test_resume_in_a_new_process_after_sigkill(key, killed_and_resumed):
    """Killed (SIGKILL) after epoch 2 of 5; a fresh process resumes to the uninterrupted weights."""
    jobs, killed, resumed_from = killed_and_resumed
    assert killed[key][0] == -signal.SIGKILL
    mode, name, directory, at, out = jobs[key]
    assert resumed_from[directory] == 2
    assert read_bundle(Path(directory) / "checkpoint.safetensors")[1]["finished"]
    assert_saved_weights_equal(out, fit(*make(name)))


@needs_sigkill
def test_kill_during_a_checkpoint_write_keeps_the_previous_one(killed_and_resumed):
    """Killed while writing epoch 3's checkpoint: epoch 2's stayed in place and resumed exactly."""
    jobs, killed, resumed_from = killed_and_resumed
    returncode, temporaries = killed["in-write"]
    assert returncode == -signal.SIGKILL
    assert len(temporaries) == 1  # the unfinished write, next to the intact checkpoint
    directory = Path(jobs["in-write"][2])
    assert resumed_from[str(directory)] == 2
    assert not list(directory.glob(".*.tmp"))  # cleaned up when resuming
    assert_saved_weights_equal(jobs["in-write"][4], fit(*make("classifier")))
