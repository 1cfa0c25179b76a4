"""An int random_state makes CPU training bitwise reproducible, in one process and across processes.

Covers both backends, dropout and recurrent dropout, the validation split of
early stopping, the batch shuffling, and teacher forcing. See
docs/reliability.md, "Determinism".
"""

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_rnn import CharLanguageModel, RecurrentClassifier, Seq2SeqRegressor, SequenceTagger


def _data():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(5, 14), 3)).astype(np.float32) for _ in range(40)]
    return X, np.array([int(x[:, 0].mean() > 0) for x in X])


# name -> (estimator class, parameters, targets of the sequences X): each draws
# randomness in a different place (dropout, recurrent dropout, the validation
# split, teacher forcing) on one backend or the other.
CASES = {
    "torch-dropout": (
        RecurrentClassifier,
        dict(backend="torch", dropout=0.3, num_layers=2, bidirectional=True),
        None,
    ),
    "torch-recurrent-dropout-early-stopping": (
        RecurrentClassifier,
        dict(recurrent_dropout=0.3, early_stopping=True),
        None,
    ),
    "numba-dropout-early-stopping": (
        RecurrentClassifier,
        dict(backend="numba", dropout=0.3, num_layers=2, early_stopping=True),
        None,
    ),
    "numba-tagger": (
        SequenceTagger, dict(backend="numba"), lambda X: [(x[:, 0] > 0).astype(int) for x in X]
    ),
    "seq2seq-teacher-forcing": (
        Seq2SeqRegressor,
        dict(teacher_forcing=0.5, dropout=0.2),
        lambda X: [x[::-1, 0] for x in X],
    ),
    "language-model": (CharLanguageModel, dict(dropout=0.2, num_layers=2), None),
}


def make(name, **overrides):
    """The estimator of case ``name`` (with ``overrides``) and its training data."""
    cls, params, targets = CASES[name]
    fast = dict(hidden_size=8, max_iter=4, batch_size=8, random_state=0)
    estimator = cls(**{**fast, **params, **overrides})
    if cls is CharLanguageModel:
        return estimator, ["abcab", "bcad", "dcba"] * 5, None
    X, y = _data()
    return estimator, X, y if targets is None else targets(X)


NAMES = list(CASES)


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short runs
        return estimator.fit(X, y)


def digest(estimator):
    """SHA-256 of every weight's bytes and of the loss curves."""
    sha = hashlib.sha256()
    for name, tensor in estimator.net_.module_.state_dict().items():
        sha.update(name.encode())
        sha.update(tensor.numpy().tobytes())
    sha.update(repr(estimator.loss_curve_).encode())
    sha.update(repr(estimator.validation_loss_curve_).encode())
    return sha.hexdigest()


def assert_same_fit(a, b):
    a_weights, b_weights = a.net_.module_.state_dict(), b.net_.module_.state_dict()
    for name in a_weights:
        assert torch.equal(a_weights[name], b_weights[name]), name
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_loss_curve_ == b.validation_loss_curve_


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_same_weights_in_one_process(name):
    """Two fits with random_state=0 end at identical weights and losses; another seed differs."""
    a = fit(*make(name))
    b = fit(*make(name))
    assert_same_fit(a, b)
    c = fit(*make(name, random_state=1))
    assert digest(c) != digest(a)


def test_global_random_states_do_not_matter():
    """With an int random_state, neither torch's nor NumPy's global random state changes the fit."""
    torch.manual_seed(1)
    np.random.seed(1)
    a = fit(*make("torch-recurrent-dropout-early-stopping"))
    torch.manual_seed(2)
    np.random.seed(2)
    torch.rand(5)
    b = fit(*make("torch-recurrent-dropout-early-stopping"))
    assert_same_fit(a, b)


def test_random_state_none_follows_numpy_seed():
    """random_state=None draws the seed from NumPy's global state, as in scikit-learn."""
    np.random.seed(3)
    a = fit(*make("torch-dropout", random_state=None))
    np.random.seed(3)
    b = fit(*make("torch-dropout", random_state=None))
    assert_same_fit(a, b)


def test_validation_split_is_reproducible_and_seeded():
    """The early-stopping split depends on random_state only."""
    estimator, X, y = make("numba-dropout-early-stopping")
    fit(estimator, X, y)
    split = estimator._validation_indices(np.asarray(y), estimator._seed(False))
    again = estimator._validation_indices(np.asarray(y), estimator._seed(False))
    np.testing.assert_array_equal(split, again)
    other = estimator.set_params(random_state=1)
    assert not np.array_equal(split, other._validation_indices(np.asarray(y), other._seed(False)))


@pytest.mark.parametrize("name", ["torch-dropout", "numba-tagger", "seq2seq-teacher-forcing"])
def test_deterministic_algorithms_change_nothing_on_cpu(name):
    """torch.use_deterministic_algorithms(True) neither fails nor changes the CPU weights."""
    a = fit(*make(name))
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        b = fit(*make(name))
    finally:
        torch.use_deterministic_algorithms(previous)
    assert_same_fit(a, b)


CHILD = """
import json, sys
import torch

torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
import test_determinism as T

print(json.dumps({{name: T.digest(T.fit(*T.make(name))) for name in T.NAMES}}))
"""


def test_two_processes_train_identical_weights(tmp_path):
    """Two fresh processes and this one give the same weight digests for every configuration."""
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    children = [
        subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env,
        )
        for _ in range(2)
    ]
    results = []
    for child in children:
        stdout, stderr = child.communicate(timeout=600)
        assert child.returncode == 0, stderr
        results.append(json.loads(stdout.splitlines()[-1]))
    here = {name: digest(fit(*make(name))) for name in NAMES}
    assert results[0] == results[1] == here


class GlobalGeneratorWatch(Callback):
    """Fails the fit if torch's global generator moves while it trains."""

    def on_train_begin(self, net, **kwargs):
        self.state = torch.get_rng_state()

    def on_batch_end(self, net, **kwargs):
        assert torch.equal(torch.get_rng_state(), self.state), "a draw from torch's global generator"


@pytest.mark.parametrize("name", NAMES)
def test_training_draws_from_the_fit_generators_only(name):
    """Bug: dropout, batch order and teacher forcing drew from torch's global generator, which
    fits in threads of one process share. No training draw may use it now."""
    estimator, X, y = make(name, callbacks=[GlobalGeneratorWatch()])
    before = torch.get_rng_state()
    fit(estimator, X, y)
    assert torch.equal(torch.get_rng_state(), before)  # and the network's construction restores it


def test_dropout_outside_a_fit_draws_from_the_global_generator():
    """The modules' dropout, used by hand outside a fit, follows torch.manual_seed like nn.Dropout."""
    from sklearn_rnn._torch.randomness import Dropout

    layer = Dropout(0.5)
    torch.manual_seed(0)
    a = layer(torch.ones(4, 6))
    torch.manual_seed(0)
    b = layer(torch.ones(4, 6))
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(layer.eval()(a), a)



class CudaGeneratorWatch(Callback):
    """Fails the fit if torch's global CUDA generator moves while it trains; records the
    devices of the fit's own generators."""

    def on_train_begin(self, net, **kwargs):
        self.state = torch.cuda.get_rng_state()

    def on_batch_end(self, net, **kwargs):
        assert torch.equal(torch.cuda.get_rng_state(), self.state), "a draw from the global CUDA one"

    def on_train_end(self, net, **kwargs):
        from sklearn_rnn._torch.randomness import current_randomness

        self.devices = [device.type for device in current_randomness().generators]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", ["torch-dropout", "torch-recurrent-dropout-early-stopping",
                                  "seq2seq-teacher-forcing", "language-model"])
def test_training_on_a_gpu_draws_from_the_fit_cuda_generator(name):
    """On a GPU, dropout masks and teacher forcing come from the fit's own CUDA generator."""
    watch = CudaGeneratorWatch()
    estimator, X, y = make(name, device="cuda", callbacks=[watch])
    fit(estimator, X, y)
    assert watch.devices == ["cpu", "cuda"]
