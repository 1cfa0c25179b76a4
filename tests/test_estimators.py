"""Behaviour of the recurrent estimators beyond scikit-learn's generic checks."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

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

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_size=8, max_iter=3, random_state=0)

PRESETS = {
    RNNClassifier: {"cell": "rnn", "bidirectional": False},
    LSTMClassifier: {"cell": "lstm", "bidirectional": False},
    GRUClassifier: {"cell": "gru", "bidirectional": False},
    BiRNNClassifier: {"cell": "lstm", "bidirectional": True},
    RNNRegressor: {"cell": "rnn", "bidirectional": False},
    LSTMRegressor: {"cell": "lstm", "bidirectional": False},
    GRURegressor: {"cell": "gru", "bidirectional": False},
    BiRNNRegressor: {"cell": "lstm", "bidirectional": True},
}


def ragged_problem(n_samples=60, n_features=3, min_len=3, max_len=12, seed=0):
    """Ragged sequences labelled by the sign of the mean of their first feature."""
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(min_len, max_len + 1), n_features)) for _ in range(n_samples)]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    return X, y


# --- parameters, presets, cloning, persistence ------------------------------


@pytest.mark.parametrize("preset, expected", PRESETS.items(), ids=lambda p: getattr(p, "__name__", ""))
def test_preset_defaults_are_searchable_parameters(preset, expected):
    """Presets only change defaults; cell and bidirectional stay in get_params."""
    params = preset().get_params()
    assert {k: params[k] for k in expected} == expected
    base = RecurrentClassifier if issubclass(preset, RecurrentClassifier) else RecurrentRegressor
    assert issubclass(preset, base)
    assert set(params) == set(base().get_params())


def test_preset_rejects_positional_and_unknown_arguments():
    """Presets keep scikit-learn's keyword-only signature and reject typos."""
    with pytest.raises(TypeError):
        LSTMClassifier(16)
    with pytest.raises(TypeError):
        LSTMClassifier(hiden_size=16)


def test_preset_set_params_overrides_cell():
    """set_params(cell=...) on a preset changes the network that is fitted."""
    X, y = ragged_problem()
    clf = LSTMClassifier(**FAST).set_params(cell="gru").fit(X, y)
    assert isinstance(clf.net_.module_.encoder.layers[0][0], __import__("torch").nn.GRU)


def test_clone_keeps_parameters_and_drops_fit():
    """clone copies hyperparameters and nothing fitted."""
    X, y = ragged_problem()
    clf = GRUClassifier(hidden_size=5, bidirectional=True, max_iter=2).fit(X, y)
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "net_")


@pytest.mark.parametrize("dump_load", ["pickle", "joblib"])
def test_persistence_round_trip_gives_identical_predictions(dump_load, tmp_path):
    """A pickled or joblib-dumped model predicts exactly as before."""
    X, y = ragged_problem()
    clf = BiRNNClassifier(**FAST).fit(X, y)
    if dump_load == "pickle":
        loaded = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert type(loaded) is BiRNNClassifier


def test_pickle_does_not_keep_validation_data():
    """The held-out validation set is not pickled with the model."""
    X, y = ragged_problem(n_samples=200)
    clf = LSTMClassifier(early_stopping=True, **FAST).fit(X, y)
    assert clf.net_.train_split is None
    assert len(pickle.dumps(clf)) < 200_000


# --- learning ----------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_learns_a_ragged_problem(cell, bidirectional):
    """Every cell, one- and bidirectional, learns a simple ragged task."""
    X, y = ragged_problem(n_samples=160)
    clf = RecurrentClassifier(
        cell=cell, bidirectional=bidirectional, hidden_size=16, max_iter=30,
        learning_rate=1e-2, random_state=0,
    ).fit(X[:120], y[:120])
    assert clf.score(X[120:], y[120:]) >= 0.8


def test_regressor_learns_ragged_sums_with_two_outputs():
    """The regressor fits a 2-D target (sum and length of each sequence)."""
    rng = np.random.RandomState(0)
    X = [rng.uniform(0, 1, size=(rng.randint(2, 10), 1)) for _ in range(200)]
    y = np.array([[x.sum(), len(x)] for x in X]) / 5
    reg = LSTMRegressor(hidden_size=16, max_iter=60, learning_rate=1e-2, random_state=0)
    reg.fit(X[:150], y[:150])
    pred = reg.predict(X[150:])
    assert pred.shape == (50, 2)
    assert reg.score(X[150:], y[150:]) > 0.8
    assert reg.n_outputs_ == 2


def test_regressor_1d_target_gives_1d_predictions():
    """A 1-D y gives 1-D predictions."""
    X, y = ragged_problem()
    reg = RecurrentRegressor(**FAST).fit(X, y.astype(float))
    assert reg.predict(X).shape == (len(X),)
    assert reg.n_outputs_ == 1


def test_string_labels_and_classes():
    """Any label type works; classes_ holds the sorted labels."""
    X, y = ragged_problem()
    labels = np.array(["neg", "pos"])[y]
    clf = RNNClassifier(**FAST).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["neg", "pos"])
    assert set(clf.predict(X)) <= {"neg", "pos"}
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_multiclass():
    """Three classes give three probability columns."""
    X, y = ragged_problem(n_samples=90)
    y = np.arange(90) % 3
    clf = GRUClassifier(**FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (90, 3)


# --- input formats -------------------------------------------------------------


def test_three_input_formats_agree():
    """A 3-D array, the equivalent list and (for one feature) a 2-D array give the same model."""
    rng = np.random.RandomState(0)
    X3 = rng.normal(size=(30, 7, 1))
    y = (X3[:, :, 0].mean(axis=1) > 0).astype(int)
    preds = []
    for X in (X3, list(X3), X3[:, :, 0], [x[:, 0] for x in X3]):
        clf = LSTMClassifier(**FAST).fit(X, y)
        preds.append(clf.predict_proba(X))
    for pred in preds[1:]:
        np.testing.assert_allclose(pred, preds[0], rtol=1e-5, atol=1e-6)


def test_predict_accepts_lengths_never_seen_in_fit():
    """predict works on sequences longer and shorter than any seen in fit."""
    X, y = ragged_problem(min_len=5, max_len=8)
    clf = LSTMClassifier(**FAST).fit(X, y)
    rng = np.random.RandomState(1)
    assert clf.predict([rng.normal(size=(1, 3)), rng.normal(size=(50, 3))]).shape == (2,)
    assert clf.predict(rng.normal(size=(4, 30, 3))).shape == (4,)


# --- padding invariance ---------------------------------------------------------


@pytest.mark.parametrize("estimator", [
    RecurrentClassifier(cell="lstm", **FAST),
    RecurrentClassifier(cell="gru", bidirectional=True, num_layers=2, **FAST),
    RecurrentRegressor(cell="rnn", bidirectional=True, **FAST),
    RecurrentRegressor(cell="lstm", bidirectional=True, num_layers=3, dropout=0.3, **FAST),
], ids=["lstm", "bigru-2layers", "birnn", "bilstm-3layers-dropout"])
def test_padding_never_changes_a_prediction(estimator):
    """A sequence predicts the same alone, among short ones, and among long ones."""
    X, y = ragged_problem()
    est = clone(estimator).fit(X, y)
    rng = np.random.RandomState(3)
    target = rng.normal(size=(9, 3))
    short = [rng.normal(size=(rng.randint(1, 5), 3)) for _ in range(5)]
    long = [rng.normal(size=(rng.randint(20, 60), 3)) for _ in range(5)]
    predict = est.predict_proba if hasattr(est, "predict_proba") else est.predict
    alone = predict([target])[0]
    among_short = predict(short + [target] + short)[len(short)]
    among_long = predict(long + [target])[-1]
    np.testing.assert_allclose(among_short, alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(among_long, alone, rtol=1e-5, atol=1e-6)


def test_padding_never_changes_training():
    """Training on a ragged list equals training on each batch padded differently.

    Batches are grouped by length, so the same data arrives padded to different
    lengths depending on the batch; a 3-D copy of the same sequences (all of
    length 6) must train exactly like the list of the same arrays.
    """
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6, 2))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    a = BiRNNClassifier(**FAST).fit(X, y)
    b = BiRNNClassifier(**FAST).fit(list(X), y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5)


# --- reproducibility -------------------------------------------------------------


def test_same_random_state_gives_identical_predictions():
    """Two fits with the same random_state give bit-identical predictions."""
    X, y = ragged_problem()
    a = BiRNNClassifier(dropout=0.2, num_layers=2, **FAST).fit(X, y).predict_proba(X)
    b = BiRNNClassifier(dropout=0.2, num_layers=2, **FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = BiRNNClassifier(dropout=0.2, num_layers=2, **{**FAST, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a, c.predict_proba(X))


def test_fit_leaves_torch_global_random_state_alone():
    """fit seeds torch in a forked generator, not the caller's."""
    import torch

    X, y = ragged_problem()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LSTMClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


# --- training controls ------------------------------------------------------------


def test_partial_fit_needs_classes_then_continues():
    """partial_fit requires classes first, then trains one epoch per call."""
    X, y = ragged_problem()
    clf = LSTMClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:10], y[:10], classes=[0, 1])
    assert clf.n_iter_ == 1
    before = clf.predict_proba(X)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2
    assert not np.allclose(before, clf.predict_proba(X))
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X[:2], [0, 7])


def test_partial_fit_regressor_and_feature_mismatch():
    """partial_fit on a regressor continues; a different feature count is an error."""
    X, y = ragged_problem()
    reg = GRURegressor(**FAST).partial_fit(X, y.astype(float)).partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 2
    with pytest.raises(ValueError, match="features per time step"):
        reg.partial_fit([x[:, :2] for x in X], y)


def test_warm_start_continues_training():
    """warm_start=True keeps the weights and adds epochs; False starts over."""
    X, y = ragged_problem()
    clf = LSTMClassifier(warm_start=True, n_iter_no_change=100, **FAST).fit(X, y)
    weights = clf.net_.module_.head.weight.detach().clone()
    clf.fit(X, y)
    assert clf.n_iter_ == 6
    assert clf.history_[:, "epoch"] == [1, 2, 3, 4, 5, 6]
    assert not np.allclose(weights, clf.net_.module_.head.weight.detach())
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.n_iter_ == 3


def test_warm_start_uses_new_training_hyperparameters():
    """A warm-started fit trains with the current learning rate and clipping."""
    X, y = ragged_problem()
    clf = LSTMClassifier(warm_start=True, **FAST).fit(X, y)
    steps = float(clf.net_.optimizer_.state_dict()["state"][0]["step"])
    clf.set_params(learning_rate=0.5, dropout=0.3, clip_grad_norm=None).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.5
    assert clf.net_.module_.dropout.p == 0.3
    assert dict(clf.net_.callbacks_)["gradient_guard"].max_norm is None  # clipping off
    # Adam's moment estimates carried over rather than restarting from zero.
    assert float(clf.net_.optimizer_.state_dict()["state"][0]["step"]) == 2 * steps


@pytest.mark.parametrize("change", [{"hidden_size": 9}, {"cell": "gru"}, {"bidirectional": True}, {"num_layers": 2}])
def test_continuing_with_another_architecture_is_an_error(change):
    """warm_start and partial_fit refuse to change the network's shape."""
    X, y = ragged_problem()
    clf = LSTMClassifier(warm_start=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="different architecture"):
        clf.set_params(**change).fit(X, y)
    with pytest.raises(ValueError, match="different architecture"):
        clf.partial_fit(X, y)


def test_continued_training_draws_new_randomness():
    """Successive partial_fit calls with an int random_state use different seeds."""
    X, y = ragged_problem()
    clf = LSTMClassifier(**FAST).partial_fit(X, y, classes=[0, 1])
    first = clf._seed(continuing=True)
    clf.partial_fit(X, y)
    assert clf._seed(continuing=True) != first
    assert clf._seed(continuing=False) == LSTMClassifier(**FAST)._seed(continuing=False)


def test_balanced_class_weight_with_partial_fit_is_refused():
    """partial_fit cannot compute balanced weights from one chunk; the error says what to do."""
    X, y = ragged_problem()
    with pytest.raises(ValueError, match="compute_class_weight"):
        LSTMClassifier(class_weight="balanced", **FAST).partial_fit(X, y, classes=[0, 1])


def test_optimizer_partial_with_extra_settings():
    """A functools.partial of a torch optimizer passes extra settings such as momentum."""
    import functools

    import torch

    X, y = ragged_problem()
    clf = LSTMClassifier(optimizer=functools.partial(torch.optim.SGD, momentum=0.9), **FAST)
    clf.fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["momentum"] == 0.9


def test_stopper_restores_the_lowest_loss_not_the_last_tol_improvement():
    """Early stopping restores the epoch with the lowest validation loss, as MLP does."""
    import torch
    from skorch.history import History

    from sklearn_rnn._torch.net import StopWhenNoImprovement

    class FakeNet:
        module_ = torch.nn.Linear(1, 1, bias=False)
        history = History()

    net = FakeNet()
    stopper = StopWhenNoImprovement("valid_loss", patience=3, tol=0.1, restore_best=True, sink=print)
    stopper.on_train_begin(net)
    with pytest.raises(KeyboardInterrupt):
        for epoch, loss in enumerate([1.0, 0.5, 0.45, 0.44, 0.6], start=1):
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("valid_loss", loss)
            with torch.no_grad():
                net.module_.weight.fill_(epoch)
            stopper.on_epoch_end(net)
    assert stopper.stopped_ and net.history[-1, "epoch"] == 5
    stopper.on_train_end(net)
    assert net.module_.weight.item() == 4  # lowest loss 0.44, though it beat 0.45 by < tol


def test_early_stopping_holds_out_data_and_restores_best():
    """early_stopping records validation losses and stops before max_iter."""
    X, y = ragged_problem(n_samples=100)
    y = np.random.RandomState(0).randint(0, 2, size=100)  # nothing to learn
    clf = LSTMClassifier(
        early_stopping=True, n_iter_no_change=3, max_iter=100, learning_rate=1e-2,
        hidden_size=8, random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ < 100
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert sum(clf.history_[:, "train_batch_count"]) < 100 / 32 * clf.n_iter_ + clf.n_iter_
    assert len(clf.loss_curve_) == clf.n_iter_


def test_training_loss_plateau_stops_without_validation():
    """Without early_stopping, a plateau of the training loss stops training."""
    X, y = ragged_problem()
    clf = LSTMClassifier(hidden_size=8, max_iter=200, tol=10.0, n_iter_no_change=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert clf.validation_loss_curve_ is None


def test_convergence_warning_when_max_iter_reached():
    """Reaching max_iter warns as scikit-learn's MLP does."""
    X, y = ragged_problem()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        LSTMClassifier(**FAST).fit(X, y)


def test_class_weight_changes_the_loss():
    """class_weight='balanced' and dicts become the loss weights."""
    X, y = ragged_problem()
    y = np.where(np.arange(len(y)) < 50, 0, 1)
    clf = LSTMClassifier(class_weight="balanced", **FAST).fit(X, y)
    np.testing.assert_allclose(
        clf.net_.criterion_.weight.numpy(), [60 / (2 * 50), 60 / (2 * 10)], rtol=1e-6
    )
    clf = LSTMClassifier(class_weight={0: 1.0, 1: 3.0}, **FAST).fit(X, y)
    np.testing.assert_allclose(clf.net_.criterion_.weight.numpy(), [1.0, 3.0])


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop"])
def test_optimizers_and_weight_decay(optimizer):
    """Each optimizer name maps to its torch optimizer, with the learning rate and decay."""
    import torch

    X, y = ragged_problem()
    clf = LSTMClassifier(optimizer=optimizer, weight_decay=0.01, learning_rate=0.05, **FAST)
    clf.fit(X, y)
    expected = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}[optimizer]
    assert type(clf.net_.optimizer_) is expected
    group = clf.net_.optimizer_.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01


def test_optimizer_class_is_accepted():
    """A torch optimizer class can be passed directly."""
    import torch

    X, y = ragged_problem()
    clf = LSTMClassifier(optimizer=torch.optim.Adagrad, **FAST).fit(X, y)
    assert type(clf.net_.optimizer_) is torch.optim.Adagrad


def test_gradient_clipping_is_applied():
    """clip_grad_norm bounds the gradient norm seen by the optimizer."""
    from skorch.callbacks import Callback

    norms = []

    class RecordNorm(Callback):
        def on_batch_end(self, net, **kwargs):
            grads = [p.grad.norm() for p in net.module_.parameters() if p.grad is not None]
            norms.append(float(sum(g**2 for g in grads) ** 0.5))

    X, y = ragged_problem()
    LSTMClassifier(clip_grad_norm=1e-3, callbacks=[RecordNorm()], **FAST).fit(X, y)
    assert norms and max(norms) <= 1e-3 * 1.01


def test_callbacks_are_run():
    """User skorch callbacks see every epoch."""
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X, y = ragged_problem()
    clf = LSTMClassifier(callbacks=[("count", CountEpochs())], **FAST).fit(X, y)
    assert dict(clf.net_.callbacks_)["count"].epochs == 3


def test_verbose_zero_prints_nothing_and_one_prints_epochs(capsys):
    """verbose=0 is silent; verbose=1 prints one line per epoch."""
    X, y = ragged_problem()
    LSTMClassifier(verbose=0, **FAST).fit(X, y)
    assert capsys.readouterr().out == ""
    LSTMClassifier(verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out
    assert sum(line.strip().startswith(str(k)) for line in out.splitlines() for k in (1, 2, 3)) >= 3


def test_unavailable_cuda_is_a_clear_error():
    """device='cuda' without CUDA fails before training, naming the fix."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, y = ragged_problem()
    with pytest.raises(ValueError, match="CUDA is not available"):
        LSTMClassifier(device="cuda", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="not a torch device"):
        LSTMClassifier(device="gpu9", **FAST).fit(X, y)


@pytest.mark.parametrize("params, match", [
    ({"cell": "transformer"}, "cell"),
    ({"hidden_size": 0}, "hidden_size"),
    ({"dropout": 1.0}, "dropout"),
    ({"max_iter": 0}, "max_iter"),
    ({"optimizer": "adamax"}, "optimizer"),
    ({"clip_grad_norm": -1.0}, "clip_grad_norm"),
    ({"class_weight": "uniform"}, "class_weight"),
])
def test_invalid_hyperparameters_are_rejected_in_fit(params, match):
    """Bad hyperparameters fail in fit with a message naming them."""
    X, y = ragged_problem()
    clf = LSTMClassifier(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


# --- bad input ----------------------------------------------------------------------


def _bad_inputs():
    X, y = ragged_problem(n_samples=20)
    nan_seq = [x.copy() for x in X]
    nan_seq[3][1, 0] = np.nan
    inf_seq = [x.copy() for x in X]
    inf_seq[4][0, 2] = np.inf
    return [
        ("nan", nan_seq, y, ValueError, "NaN"),
        ("inf", inf_seq, y, ValueError, "infinity"),
        ("nan-3d", np.full((20, 4, 3), np.nan), y, ValueError, "NaN"),
        ("empty-list", [], [], ValueError, "empty"),
        ("empty-array", np.zeros((0, 4, 3)), [], ValueError, "0 sample"),
        ("zero-length", X[:5] + [np.zeros((0, 3))] + X[6:], y, ValueError, r"X\[5\].*length 0"),
        ("1-d", np.arange(20.0), y, ValueError, "Reshape your data"),
        ("4-d", np.zeros((20, 2, 2, 3)), y, ValueError, "4 dimension"),
        ("mixed-features", X[:3] + [np.zeros((4, 2))] + X[4:], y, ValueError, "different numbers of features"),
        ("len-mismatch", X, y[:-1], ValueError, "inconsistent numbers of samples"),
        ("one-class", X, np.zeros(20), ValueError, "only one class"),
        ("strings", [np.array([["a", "b", "c"]] * 4)] * 20, y, TypeError, "must hold numbers"),
        ("object", np.array([[{"a": 1}] * 3] * 20, dtype=object), y, TypeError, "must hold numbers"),
        ("y-none", X, None, ValueError, "requires y"),
        ("y-nan", X, np.where(np.arange(20) == 2, np.nan, 1.0), ValueError, None),
    ]


@pytest.mark.parametrize("case", _bad_inputs(), ids=lambda c: c[0])
def test_bad_input_is_a_clear_error(case):
    """Each kind of bad input raises ValueError/TypeError naming the problem."""
    _, X, y, error, match = case
    with pytest.raises(error, match=match):
        LSTMClassifier(**FAST).fit(X, y)


def test_bad_regression_targets():
    """Non-finite or non-numeric regression targets are clear errors."""
    X, _ = ragged_problem(n_samples=5)
    with pytest.raises(ValueError, match="NaN or infinity"):
        LSTMRegressor(**FAST).fit(X, [1.0, np.inf, 0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="numbers"):
        LSTMRegressor(**FAST).fit(X, ["a", "b", "c", "d", "e"])


def test_predict_checks_features_and_fitted_state():
    """predict before fit is NotFittedError; wrong features is a clear ValueError."""
    X, y = ragged_problem()
    clf = LSTMClassifier(**FAST)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="3 features per time step"):
        clf.predict([x[:, :2] for x in X])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict([np.full((3, 3), np.nan)])


def test_sparse_input_is_rejected():
    """Sparse matrices get a TypeError that says sparse input is unsupported."""
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="sparse"):
        LSTMClassifier(**FAST).fit(sp.csr_matrix(np.ones((4, 3))), [0, 1, 0, 1])


# --- composition with scikit-learn ------------------------------------------------


def test_grid_search_over_cell_and_bidirectional_on_ragged_pipeline():
    """GridSearchCV over cell x bidirectional runs on ragged data in a pipeline."""
    X, y = ragged_problem(n_samples=48)
    pipe = make_pipeline(SequenceScaler(), LSTMClassifier(**FAST))
    search = GridSearchCV(
        pipe,
        {"lstmclassifier__cell": ["rnn", "lstm", "gru"], "lstmclassifier__bidirectional": [False, True]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert search.predict(X).shape == (48,)


def test_grid_search_over_preset_cell():
    """GridSearchCV(LSTMClassifier(), {'cell': [...]}) searches the cell."""
    X, y = ragged_problem(n_samples=40)
    search = GridSearchCV(LSTMClassifier(**FAST), {"cell": ["rnn", "lstm", "gru"]}, cv=2).fit(X, y)
    assert [p["cell"] for p in search.cv_results_["params"]] == ["rnn", "lstm", "gru"]


def test_cross_val_score_on_ragged_data_in_parallel():
    """cross_val_score splits ragged lists and object arrays, also across processes."""
    X, y = ragged_problem(n_samples=60)
    scores = cross_val_score(LSTMRegressor(**FAST), X, y.astype(float), cv=3, n_jobs=2)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    scores = cross_val_score(LSTMClassifier(**FAST), np.array(X, dtype=object), y, cv=3)
    assert scores.shape == (3,)


def test_joblib_workers_do_not_oversubscribe_torch_threads():
    """Under joblib's default backend, workers' torch threads add up to at most the cores."""
    import os

    from joblib import Parallel, delayed

    X, y = ragged_problem()

    def fit_and_report(seed):
        import torch

        LSTMClassifier(**{**FAST, "random_state": seed}).fit(X, y)
        return torch.get_num_threads()

    threads = Parallel(n_jobs=2)(delayed(fit_and_report)(s) for s in range(2))
    assert sum(threads) <= max(os.cpu_count(), 2)


def test_import_does_not_import_torch():
    """import sklearn_rnn keeps torch, skorch and numba out of sys.modules."""
    code = (
        "import sys, sklearn_rnn; "
        "print(sorted(m for m in ('torch', 'skorch', 'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_sorted_and_documented():
    """Every public name is in a sorted __all__ and has a docstring with an example."""
    assert sklearn_rnn.__all__ == sorted(sklearn_rnn.__all__)
    for name in sklearn_rnn.__all__:
        doc = getattr(sklearn_rnn, name).__doc__
        assert "Parameters\n    ----------" in doc and "Examples\n    --------" in doc, name


def test_training_flushes_denormals_and_restores_the_default():
    """Training runs with denormals flushed (5.6x faster on long sequences), then turns it off."""
    import torch
    from skorch.callbacks import Callback

    from sklearn_rnn._torch.net import flushed_denormals

    tiny = torch.tensor([1e-39], dtype=torch.float32)  # a float32 denormal
    seen = []

    class RecordFlush(Callback):
        def on_batch_end(self, net, **kwargs):
            seen.append(float(tiny * 1.0) == 0.0)

    X, y = ragged_problem()
    LSTMClassifier(callbacks=[RecordFlush()], **FAST).fit(X, y)
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU cannot flush denormals")
    assert seen and all(seen)
    assert float(tiny * 1.0) != 0.0
    with flushed_denormals():
        assert float(tiny * 1.0) == 0.0
    assert float(tiny * 1.0) != 0.0
