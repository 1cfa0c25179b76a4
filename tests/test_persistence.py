"""Pickle-free persistence: ``estimator.save(path)`` and ``sklearn_rnn.load(path)``."""

import json
import os
import pickle
import struct
import warnings
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.numpy import save_file
from sklearn.base import clone

import sklearn_rnn
from sklearn_rnn import (
    BiRNNClassifier,
    BiRNNRegressor,
    CharLanguageModel,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
    SeasonalNaiveForecaster,
    Seq2SeqClassifier,
    Seq2SeqRegressor,
    SequenceGenerator,
    SequenceTagger,
    StepwiseRegressor,
    load,
    register_cell,
)
from sklearn_rnn import _persistence
from sklearn_rnn._io import read_bundle, write_bundle
from sklearn_rnn._torch.cells import GRUCell
from sklearn_rnn.cells import unregister_cell

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DATA = Path(__file__).resolve().parent / "data"
FAST = dict(hidden_size=4, max_iter=2, batch_size=8, random_state=0)

RNG = np.random.RandomState(0)
X = [RNG.normal(size=(RNG.randint(2, 7), 2)) for _ in range(16)]  # ragged
LABELS = np.where([x[:, 0].sum() > 0 for x in X], "up", "down")
TOTALS = np.array([x.sum(axis=0) for x in X])  # (16, 2)
STEP_LABELS = [np.where(x[:, 0] > 0, 1, 0) for x in X]
STEP_VALUES = [np.cumsum(x[:, 0]) for x in X]
FEATURES = pd.DataFrame(RNG.normal(size=(16, 3)), columns=["a", "b", "c"])
SERIES = np.sin(np.arange(40) * 0.5)


def _same(a, b):
    """Bitwise equality of predictions: arrays, lists of arrays or strings, or floats."""
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        np.testing.assert_array_equal(a, b, strict=True)


# name: (estimator, fit arguments, [(method, arguments[, keyword arguments]), ...]),
# for every estimator class.
CASES = {
    "RecurrentClassifier": (
        RecurrentClassifier(**FAST),
        (X, LABELS),
        [("predict_proba", (X,)), ("predict", (X,)), ("transform", (X,))],
    ),
    "RecurrentRegressor": (RecurrentRegressor(**FAST), (X, TOTALS), [("predict", (X,))]),
    **{
        cls.__name__: (cls(**FAST), (X, LABELS), [("predict_proba", (X,))])
        for cls in (RNNClassifier, LSTMClassifier, GRUClassifier, BiRNNClassifier)
    },
    **{
        cls.__name__: (cls(**FAST), (X, TOTALS[:, 0]), [("predict", (X,))])
        for cls in (RNNRegressor, LSTMRegressor, GRURegressor, BiRNNRegressor)
    },
    "SequenceTagger": (
        SequenceTagger(**FAST),
        (X, STEP_LABELS),
        [("predict_proba", (X,)), ("predict", (X,))],
    ),
    "StepwiseRegressor": (StepwiseRegressor(**FAST), (X, STEP_VALUES), [("predict", (X,))]),
    "CharLanguageModel": (
        CharLanguageModel(min_frequency=1, **FAST),
        (["abcab", "bcad", "cabd"],),
        [("score", (["abcd", "zz"],)), ("generate", ("ab",), {"n_chars": 5, "random_state": 0})],
    ),
    "Seq2SeqClassifier": (
        Seq2SeqClassifier(beam_width=2, **FAST),
        (X, ["ab", "b", "", "ba"] * 4),
        [("predict", (X,))],
    ),
    "Seq2SeqRegressor": (  # variable output lengths
        Seq2SeqRegressor(**FAST),
        (X, [x[:2, 0] for x in X]),
        [("predict", (X,))],
    ),
    "SequenceGenerator": (  # a DataFrame: feature_names_in_
        SequenceGenerator(**FAST),
        (FEATURES, TOTALS),
        [("predict", (FEATURES,))],
    ),
    "RNNForecaster": (
        RNNForecaster(window=4, hidden_size=4, max_iter=2, difference=1, random_state=0),
        (SERIES, np.cos(np.arange(40.0))),
        [("predict", (3, np.cos(np.arange(40.0, 43.0))))],
    ),
    "SeasonalNaiveForecaster": (SeasonalNaiveForecaster(3), (SERIES,), [("predict", (5,))]),
}


def _fitted(name):
    estimator, args, _ = CASES[name]
    return clone(estimator).fit(*args)


def _round_trip(estimator, tmp_path, **kwargs):
    path = tmp_path / "model.skrnn"
    estimator.save(path)
    return load(path, **kwargs)


def _check_calls(original, loaded, calls):
    for method, args, *kwargs in calls:
        kwargs = kwargs[0] if kwargs else {}
        _same(getattr(loaded, method)(*args, **kwargs), getattr(original, method)(*args, **kwargs))


def _public_state(estimator):
    """The fitted attributes, by value (net_ and caches aside)."""
    return {
        k: v
        for k, v in vars(estimator).items()
        if k not in ("net_", "_streaming", "regressor_", "history_", "_vocabulary")
    }


def _assert_same_state(original, loaded):
    assert type(loaded) is type(original)
    assert loaded.get_params(deep=False).keys() == original.get_params(deep=False).keys()
    for name, value in original.get_params(deep=False).items():
        assert repr(loaded.get_params(deep=False)[name]) == repr(value), name
    state, loaded_state = _public_state(original), _public_state(loaded)
    assert loaded_state.keys() == state.keys()
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(loaded_state[name], value, strict=True)
            assert loaded_state[name].dtype == value.dtype
        else:
            assert type(loaded_state[name]) is type(value), name
            assert repr(loaded_state[name]) == repr(value), name


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_predicts_identically(name, tmp_path):
    """Every estimator loads with its parameters and fitted state, predicting bitwise alike."""
    original = _fitted(name)
    loaded = _round_trip(original, tmp_path)
    _assert_same_state(original, loaded)
    _check_calls(original, loaded, CASES[name][2])
    if hasattr(original, "net_"):
        assert loaded.history_ is loaded.net_.history
        assert list(loaded.history_) == list(original.history_)
        assert loaded.loss_curve_ == original.loss_curve_
    if name == "RNNForecaster":
        _assert_same_state(original.regressor_, loaded.regressor_)
    if name == "CharLanguageModel":
        assert loaded.vocabulary_ == original.vocabulary_


def test_file_holds_what_the_docs_say(tmp_path):
    """The document has the format, versions, class, parameters, cell and fitted attributes."""
    clf = _fitted("GRUClassifier")
    clf.save(tmp_path / "m")
    arrays, document = read_bundle(tmp_path / "m")
    assert document["format"] == "sklearn-rnn model"
    assert document["format_version"] == _persistence.FORMAT_VERSION == 1
    assert document["sklearn_rnn_version"] == sklearn_rnn.__version__
    assert {"numpy", "scikit-learn", "torch", "skorch"} <= set(document["library_versions"])
    estimator = document["estimator"]
    assert estimator["class"] == "GRUClassifier"
    assert estimator["params"]["hidden_size"] == 4
    assert estimator["cell"] == {
        "name": "gru",
        "given": "name",
        "source": "built-in",
        "version": sklearn_rnn.__version__,
        "reference": "sklearn_rnn._torch.cells:GRUCell",
    }
    assert estimator["attributes"]["classes_"]["data"] == ["down", "up"]
    assert set(estimator["net"]) == {"module", "criterion", "optimizer"}
    weights = {k for k in arrays if k.startswith("estimator/net/module/")}
    assert weights == {f"estimator/net/module/{k}" for k in clf.net_.module_.state_dict()}
    assert all(a.dtype == np.float32 for k, a in arrays.items() if k in weights)


@pytest.mark.parametrize("labels", ["int", "object", "float"])
def test_label_types_survive(labels, tmp_path):
    """Integer, Python-object and float class labels come back with their dtype and types."""
    y = {
        "int": (LABELS == "up").astype(np.int32) * 7,
        "object": LABELS.astype(object),  # e.g. strings from a pandas column
        "float": np.where(LABELS == "up", 2.0, -1.0),
    }[labels]
    clf = GRUClassifier(**FAST).fit(X, y)
    loaded = _round_trip(clf, tmp_path)
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert [type(c) for c in loaded.classes_] == [type(c) for c in clf.classes_]
    _same(loaded.predict(X), clf.predict(X))


def test_streaming_after_load(tmp_path):
    """init_state/predict_step of a loaded model give the same outputs, step by step."""
    for estimator, y in (
        (LSTMClassifier(**FAST), LABELS),
        (SequenceTagger(bidirectional=False, **FAST), STEP_LABELS),
        (StepwiseRegressor(bidirectional=False, cell="rnn", **FAST), STEP_VALUES),
    ):
        original = estimator.fit(X, y)
        loaded = _round_trip(original, tmp_path)
        states = [original.init_state(2), loaded.init_state(2)]
        for t in range(2):
            x_t = np.stack([X[0][t], X[1][t]])
            (a, states[0]), (b, states[1]) = (
                original.predict_step(x_t, states[0]),
                loaded.predict_step(x_t, states[1]),
            )
            _same(b, a)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_numba_backend(cell, tmp_path):
    """A model on the numba backend loads on it and predicts and streams identically."""
    clf = RecurrentClassifier(cell=cell, backend="numba", **FAST).fit(X, LABELS)
    loaded = _round_trip(clf, tmp_path)
    assert loaded.backend == "numba"
    _same(loaded.predict_proba(X), clf.predict_proba(X))
    a, _ = clf.predict_step(X[0][:1], clf.init_state(1))
    b, _ = loaded.predict_step(X[0][:1], loaded.init_state(1))
    _same(b, a)


@pytest.mark.parametrize("cell", ["direct", "indirect", "full"])
def test_plugin_cells(cell, tmp_path):
    """A plugin's cell is stored with its package and version, and resolved through the registry."""
    from sklearn_rnn_feedback import cells as feedback

    clf = RecurrentClassifier(cell=cell, **FAST).fit(X, LABELS)
    clf.save(tmp_path / "m")
    _, document = read_bundle(tmp_path / "m")
    assert document["estimator"]["cell"]["source"] == "sklearn-rnn-feedback"
    assert document["estimator"]["cell"]["version"] == sklearn_rnn.available_cells()[cell].version
    loaded = load(tmp_path / "m")
    _same(loaded.predict_proba(X), clf.predict_proba(X))
    a, _ = clf.predict_step(X[0][:2], clf.init_state(2))
    b, _ = loaded.predict_step(X[0][:2], loaded.init_state(2))
    _same(b, a)
    # Given as a class (registered by the plugin), it comes back as that class.
    cls = sklearn_rnn.get_cell(cell)
    assert cls.__module__ == feedback.__name__
    by_class = RecurrentClassifier(cell=cls, **FAST).fit(X, LABELS)
    again = _round_trip(by_class, tmp_path)
    assert again.cell is cls
    _same(again.predict(X), by_class.predict(X))


@contextmanager
def _registered(name):
    """The built-in GRU cell registered under ``name`` at runtime, for the duration."""
    register_cell(name, GRUCell)
    try:
        yield
    finally:
        unregister_cell(name)


def test_plugin_missing_names_the_package(tmp_path):
    """A model whose plugin is not installed gets an error naming the package to install."""
    with _registered("my_gru"):
        RecurrentClassifier(cell="my_gru", **FAST).fit(X, LABELS).save(tmp_path / "m")
    _rewrite(
        tmp_path / "m",
        lambda d: d["estimator"]["cell"].update(source="sklearn-rnn-extra", version="1.2"),
    )
    expected = r"package sklearn-rnn-extra 1\.2.*pip install 'sklearn-rnn-extra==1\.2'"
    with pytest.raises(ValueError, match=expected):
        load(tmp_path / "m")


def test_plugin_version_change_warns(tmp_path):
    """A plugin cell of another version than the saved one loads, with a warning."""
    clf = RecurrentClassifier(cell="direct", **FAST).fit(X, LABELS)
    clf.save(tmp_path / "m")
    _rewrite(tmp_path / "m", lambda d: d["estimator"]["cell"].update(version="0.0.1"))
    with pytest.warns(UserWarning, match="0.0.1.*weights may not fit"):
        loaded = load(tmp_path / "m")
    _same(loaded.predict(X), clf.predict(X))


def test_runtime_cell_must_be_registered(tmp_path):
    """A cell registered with register_cell loads only where it is registered again."""
    with _registered("my_gru"):
        clf = RecurrentClassifier(cell="my_gru", **FAST).fit(X, LABELS)
        clf.save(tmp_path / "m")
        _same(load(tmp_path / "m").predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match=r"registered with register_cell.*register_cell\('my_gru'"):
        load(tmp_path / "m")
    with _registered("my_gru"):
        _same(load(tmp_path / "m").predict_proba(X), clf.predict_proba(X))


def test_unregistered_cell_class_is_refused_at_save(tmp_path):
    """A cell class outside the registry cannot be named in the file: TypeError at save."""

    class Private(GRUCell):
        pass

    clf = RecurrentClassifier(cell=Private, **FAST).fit(X, LABELS)
    with pytest.raises(TypeError, match="not in the cell registry.*register_cell.*pickle"):
        clf.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_training_continues_after_load(tmp_path):
    """The optimizer state is saved: partial_fit and warm_start continue bitwise alike."""
    clf = LSTMClassifier(**FAST).fit(X, LABELS)
    loaded = _round_trip(clf, tmp_path)
    restored = loaded.net_.optimizer_.state_dict()["state"][0]
    for name, tensor in clf.net_.optimizer_.state_dict()["state"][0].items():
        torch.testing.assert_close(restored[name], tensor, rtol=0, atol=0)
    clf.partial_fit(X, LABELS)
    loaded.partial_fit(X, LABELS)
    _same(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.n_iter_ == clf.n_iter_ == 3
    clf.set_params(warm_start=True, max_iter=1).fit(X, LABELS)
    loaded.set_params(warm_start=True, max_iter=1).fit(X, LABELS)
    _same(loaded.predict_proba(X), clf.predict_proba(X))


def test_parameters_that_need_pickle_are_refused(tmp_path):
    """callbacks objects and custom optimizer classes get a TypeError naming the parameter."""
    from skorch.callbacks import EpochTimer

    clf = GRUClassifier(callbacks=[("timer", EpochTimer())], **FAST).fit(X, LABELS)
    expected = r"parameter 'callbacks'.*set_params\(callbacks=None\).*pickle"
    with pytest.raises(TypeError, match=expected):
        clf.save(tmp_path / "m")

    class MyAdam(torch.optim.Adam):
        pass

    clf = GRUClassifier(optimizer=MyAdam, **FAST).fit(X, LABELS)
    with pytest.raises(TypeError, match="parameter 'optimizer'"):
        clf.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_sklearn_rnn_callbacks_are_stored_by_parameters(tmp_path):
    """Callbacks of sklearn_rnn.callbacks (EpochCheckpoint) are stored by their parameters."""
    callbacks = pytest.importorskip("sklearn_rnn.callbacks")
    checkpoint = callbacks.EpochCheckpoint(tmp_path / "checkpoints", resume=False)
    clf = GRUClassifier(callbacks=[("checkpoint", checkpoint)], **FAST).fit(X, LABELS)
    loaded = _round_trip(clf, tmp_path)
    [(name, restored)] = loaded.callbacks
    assert name == "checkpoint" and type(restored) is callbacks.EpochCheckpoint
    assert restored is not checkpoint
    assert (restored.directory, restored.resume) == (tmp_path / "checkpoints", False)
    _same(loaded.predict_proba(X), clf.predict_proba(X))


def test_storable_special_parameters(tmp_path):
    """A torch.optim class, a RandomState and a dict of class weights with int keys are stored."""
    clf = GRUClassifier(
        optimizer=torch.optim.RMSprop,
        class_weight={0: 1.0, 1: 3.0},
        **{**FAST, "random_state": np.random.RandomState(3)},
    ).fit(X, (LABELS == "up").astype(int))
    loaded = _round_trip(clf, tmp_path)
    assert loaded.optimizer is torch.optim.RMSprop
    assert loaded.class_weight == {0: 1.0, 1: 3.0}
    assert loaded.random_state.randint(1000) == clf.random_state.randint(1000)
    _same(loaded.predict_proba(X), clf.predict_proba(X))
    torch.testing.assert_close(loaded.net_.criterion_.weight, clf.net_.criterion_.weight)


def test_only_sklearn_rnn_classes_are_saved(tmp_path):
    """A subclass defined elsewhere cannot be recreated by name: TypeError at save."""

    class Mine(GRUClassifier):
        pass

    with pytest.raises(TypeError, match="sklearn-rnn's own estimator classes.*pickle"):
        Mine(**FAST).fit(X, LABELS).save(tmp_path / "m")


def test_value_codec_round_trip():
    """Values of the closed type table come back equal and of the same types."""
    writer = _persistence._Writer()
    value = {
        "a/b": np.zeros(2, np.float16),  # its array key collides with the next one's
        "a": {"b": np.ones((0, 2), np.int8), "c": np.array(3.5)},  # empty and 0-d arrays
        "t": (1, np.float32(2.5), np.int64(-3), np.str_("x"), True, None, float("nan")),
        3: [np.array([["ab", "c"]]), np.array(["x", 2, None], dtype=object)],
        (1, "k"): Path("some/dir"),
        "__type__": "not a type tag",
    }
    document = json.loads(json.dumps(writer.value(value, "k")))
    decoded = _persistence._Reader(writer.arrays, "p", None).value(document, "k")
    assert repr(decoded) == repr(value)
    np.testing.assert_array_equal(decoded["a/b"], value["a/b"], strict=True)
    for name in ("b", "c"):
        np.testing.assert_array_equal(decoded["a"][name], value["a"][name], strict=True)
    assert [type(v) for v in decoded["t"]] == [type(v) for v in value["t"]]


def test_unfitted_estimator_round_trip(tmp_path):
    """An unfitted estimator saves its parameters only, and loads unfitted."""
    loaded = _round_trip(Seq2SeqClassifier(hidden_size=5, cell="direct"), tmp_path)
    assert loaded.get_params() == Seq2SeqClassifier(hidden_size=5, cell="direct").get_params()
    assert not hasattr(loaded, "net_")


def test_load_keeps_torch_random_state(tmp_path):
    """Loading builds the network without drawing from the caller's torch generator."""
    clf = _fitted("GRUClassifier")
    clf.save(tmp_path / "m")
    before = torch.get_rng_state()
    load(tmp_path / "m")
    assert torch.equal(torch.get_rng_state(), before)


# --- devices ----------------------------------------------------------------------------------


def test_gpu_model_loads_on_cpu(tmp_path):
    """A model whose device is "cuda" loads on the CPU with a warning where CUDA is missing.

    No GPU here: the model is trained on the CPU and its device parameter set to
    "cuda" before saving, which is what the file of a GPU model holds (its
    tensors are always copied to the CPU when saved).
    """
    assert not torch.cuda.is_available()
    clf = _fitted("BiRNNClassifier")
    proba = clf.predict_proba(X)
    clf.set_params(device="cuda:0").save(tmp_path / "m")
    _, document = read_bundle(tmp_path / "m")
    assert document["estimator"]["params"]["device"] == "cuda:0"
    with pytest.warns(UserWarning, match=r"device='cuda:0', which is not available here.*CPU"):
        loaded = load(tmp_path / "m")
    assert loaded.device == "cpu"
    assert loaded.net_.device == "cpu"
    _same(loaded.predict_proba(X), proba)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load(tmp_path / "m", device="cpu").device == "cpu"
    with pytest.raises(ValueError, match="CUDA is not available"):
        load(tmp_path / "m", device="cuda")


def test_forecaster_device_falls_back_once(tmp_path):
    """The forecaster and its network fall back together, with one warning."""
    forecaster = _fitted("RNNForecaster")
    forecaster.device = forecaster.regressor_.device = "cuda"
    forecaster.save(tmp_path / "m")
    with pytest.warns(UserWarning) as record:
        loaded = load(tmp_path / "m")
    assert len(record) == 1
    assert loaded.device == loaded.regressor_.device == "cpu"


# --- format versions -----------------------------------------------------------------------------


def _fixture(version):
    path = DATA / f"classifier_v{version}.skrnn"
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return path, [np.array(x) for x in expected["X"]], expected


@pytest.mark.parametrize("version", [1])
def test_saved_files_of_every_format_version_load(version):
    """The model saved with format version ``version`` (tests/data) predicts what it did."""
    path, X_saved, expected = _fixture(version)
    assert path.stat().st_size < 16_000
    model = load(path)
    assert type(model) is GRUClassifier
    assert model.predict(X_saved).tolist() == expected["predict"]
    # Equal to float32 round-off: another torch build may order operations differently.
    proba = model.predict_proba(X_saved)
    np.testing.assert_allclose(proba, expected["predict_proba"], rtol=1e-5, atol=1e-7)


def test_older_formats_are_upgraded_step_by_step(monkeypatch):
    """A reader of a later format passes old files through each upgrade function in turn."""
    calls = []

    def upgrade(version):
        def step(document, arrays):
            calls.append((version, document["format_version"]))
            return document, arrays

        return step

    monkeypatch.setattr(_persistence, "FORMAT_VERSION", 3)
    monkeypatch.setattr(_persistence, "UPGRADES", {1: upgrade(1), 2: upgrade(2)})
    path, X_saved, expected = _fixture(1)
    assert load(path).predict(X_saved).tolist() == expected["predict"]
    assert calls == [(1, 1), (2, 2)]


def test_future_format_version_is_refused(tmp_path):
    """A file from a newer sklearn-rnn gets a ValueError asking to upgrade."""
    _fitted("GRUClassifier").save(tmp_path / "m")
    _rewrite(tmp_path / "m", lambda d: d.update(format_version=2))
    with pytest.raises(ValueError, match="format version 2.*reads format versions up to 1.*Upgr"):
        load(tmp_path / "m")


# --- atomic writes ------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["replace", "fsync", "interrupt"])
def test_failed_save_leaves_previous_file(failing, tmp_path, monkeypatch):
    """A save that fails midway leaves the previous model intact and no temporary file."""
    path = tmp_path / "model.skrnn"
    first = _fitted("GRUClassifier")
    first.save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt if failing == "interrupt" else OSError("disk full")

    monkeypatch.setattr(os, "replace" if failing != "fsync" else "fsync", fail)
    second = GRUClassifier(**{**FAST, "random_state": 1}).fit(X, LABELS)
    with pytest.raises(KeyboardInterrupt if failing == "interrupt" else OSError):
        second.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.skrnn"]
    _same(load(path).predict_proba(X), first.predict_proba(X))


def test_saved_file_permissions(tmp_path):
    """A new file gets the usual permissions (not mkstemp's 0600); a replaced one keeps its own."""
    umask = os.umask(0o022)
    try:
        clf = _fitted("GRUClassifier")
        clf.save(tmp_path / "m")
        assert (tmp_path / "m").stat().st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "m", 0o600)
        clf.save(tmp_path / "m")
        assert (tmp_path / "m").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


# --- bad files -----------------------------------------------------------------------------------


def _rewrite(path, edit):
    """Apply ``edit`` to the document of the file at ``path`` (a valid checksum is recomputed)."""
    arrays, document = read_bundle(path)
    edit(document)
    write_bundle(path, arrays, document)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The bytes of a small saved model."""
    path = tmp_path_factory.mktemp("saved") / "m"
    GRUClassifier(hidden_size=2, max_iter=1, random_state=0).fit(X, LABELS).save(path)
    return path.read_bytes()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty or truncated"),
        (b"\x00" * 3, "empty or truncated"),
        (np.random.RandomState(0).bytes(5000), "not a readable sklearn-rnn file"),
        (b"PK\x03\x04" + b"\x00" * 100, "not a readable sklearn-rnn file"),  # a zip (e.g. an .npz)
        (pickle.dumps({"a": 1}), "not a readable sklearn-rnn file"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"[[[[[[[[" * 2, "not valid JSON"),
    ],
    ids=["empty", "short", "random", "zip", "pickle", "bad-json"],
)
def test_foreign_bytes(content, message, tmp_path):
    """Empty, random and foreign files get a ValueError saying what is wrong."""
    (tmp_path / "m").write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "m")


def test_deeply_nested_header(tmp_path):
    """A header nested beyond the JSON parser's recursion limit is a ValueError."""
    header = b"[" * 200_000 + b"]" * 200_000
    (tmp_path / "m").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match="not valid JSON"):
        load(tmp_path / "m")


def test_safetensors_without_document(tmp_path):
    """A valid safetensors file that sklearn-rnn did not write is refused."""
    save_file({"weight": np.zeros((2, 2), np.float32)}, str(tmp_path / "m"), metadata={"x": "y"})
    with pytest.raises(ValueError, match="safetensors file without sklearn-rnn's document"):
        load(tmp_path / "m")


def test_other_sklearn_rnn_files_are_refused(tmp_path):
    """A file of _io that is not a saved model (e.g. a checkpoint) is refused by load."""
    write_bundle(tmp_path / "m", {"w": np.zeros(2)}, {"format": "sklearn-rnn checkpoint"})
    with pytest.raises(ValueError, match="not a saved model"):
        load(tmp_path / "m")


def test_every_truncation_is_detected(saved, tmp_path):
    """The file cut at any length (every 7th byte) is a ValueError."""
    for length in range(0, len(saved), 7):
        (tmp_path / "m").write_bytes(saved[:length])
        with pytest.raises(ValueError):
            load(tmp_path / "m")


def test_bit_flips_are_detected(saved, tmp_path):
    """A flipped bit in any of ~1900 places (every 4th byte, all over the file) is a ValueError.

    The header (safetensors' and the JSON document) takes most of the file, so
    most flips land there; the checksum covers the document and the arrays.
    """
    assert len(saved) < 8000
    for i, position in enumerate(range(0, len(saved), 4)):
        corrupted = bytearray(saved)
        corrupted[position] ^= 1 << (i % 8)
        (tmp_path / "m").write_bytes(bytes(corrupted))
        with pytest.raises(ValueError):
            load(tmp_path / "m")


HOSTILE_CLASSES = ["os.system", "subprocess.Popen", "builtins.eval", "BaseRecurrent", "_io.load"]


@pytest.mark.parametrize("target", HOSTILE_CLASSES)
def test_only_sklearn_rnn_estimators_are_created(target, tmp_path, monkeypatch):
    """A document naming any other class or callable is refused, and nothing is called."""

    def never(*args, **kwargs):
        raise AssertionError("called")

    monkeypatch.setattr(os, "system", never)
    _fitted("GRUClassifier").save(tmp_path / "m")
    _rewrite(tmp_path / "m", lambda d: d["estimator"].update({"class": target}))
    with pytest.raises(ValueError, match="not an estimator of sklearn-rnn; only these"):
        load(tmp_path / "m")


def _delete(*keys):
    def edit(document):
        for key in keys[:-1]:
            document = document[key]
        del document[keys[-1]]

    return edit


def _set(*keys, value):
    def edit(document):
        for key in keys[:-1]:
            document = document[key]
        document[keys[-1]] = value

    return edit


def _attribute(value, name="x"):
    """An edit that adds the fitted attribute ``name`` holding ``value``."""
    return _set("estimator", "attributes", name, value=value)


def _typed(kind, **fields):
    return {"__type__": kind, **fields}


def _strings(dtype, shape, data):
    return _typed("ndarray", dtype=dtype, shape=shape, data=data)


HOSTILE_CALLBACK = [_typed("callback", **{"class": "os.system", "params": {}})]


@pytest.mark.parametrize(
    "edit, message",
    [
        (_delete("format"), "not a saved model"),
        (_delete("format_version"), "no valid format version"),
        (_set("format_version", value=True), "no valid format version"),
        (_set("format_version", value=0), "no valid format version"),
        (_delete("estimator"), "not an estimator"),
        (_set("estimator", value=[]), "not an estimator"),
        (_delete("estimator", "class"), "'class' is missing"),
        (_delete("estimator", "params"), "'params' is missing"),
        (_delete("estimator", "attributes"), "'attributes' is missing"),
        (_delete("estimator", "cell"), "'cell' is missing"),
        (_set("estimator", "cell", "given", value="code"), "given as 'code'"),
        (_set("estimator", "cell", "name", value="nope"), "'nope' is not in the cell registry"),
        (_delete("estimator", "net", "optimizer"), "'optimizer' is missing"),
        (_set("estimator", "net", "optimizer", "class", value="SGD"), "another optimizer"),
        (
            _set("estimator", "net", "optimizer", "state", value={"state": {}, "param_groups": []}),
            "optimizer state does not fit",
        ),
        (_set("estimator", "net", "module", value=[1, 2]), "'module' is"),
        (_delete("estimator", "net", "module", "head.bias"), "do not fit the network.*head.bias"),
        (_set("estimator", "params", "hidden_size", value=5), "do not fit the network"),
        (_set("estimator", "params", "hidden_size", value=-1), "hidden_size"),
        (_set("estimator", "params", "nonsense", value=1), "no parameter 'nonsense'.*newer"),
        (_set("estimator", "params", "device", value=3), "not a device name"),
        (_set("estimator", "params", "callbacks", value=HOSTILE_CALLBACK), "not a callback of"),
        (_attribute("x", name="__class__"), "not a fitted attribute"),
        (_attribute("x", name="predict"), "not a fitted attribute"),
        (_attribute(9, name="hidden_size"), "not a fitted attribute"),
        (_attribute(_typed("History", epochs=[1]), name="history_"), "not a dict"),
        (_attribute(_typed("pickle")), "unknown value type 'pickle'"),
        (_attribute(_typed("ndarray", key="nope")), "array 'nope' is missing"),
        (_attribute(_strings("O", [1], [1])), "dtype 'O' is not allowed"),
        (_attribute(_strings("object", [3], [1])), "do not fill the shape"),
        (_attribute(_strings("<U99999999", [2], ["a", "b"])), "implausibly large"),
        (_attribute(_strings("<U1", [10**30, 0], [])), "is not a shape"),
        (_attribute(_typed("scalar", dtype="V8", value=1)), "dtype 'V8'"),
        (_attribute(_typed("scalar", dtype="float32x", value=1)), "not allowed"),
        (_attribute(_typed("dict", items=[[[1], 2]])), "not hashable"),
        (_attribute(_typed("torch.optim", name="__builtins__")), "not an optimizer"),
        (_attribute(_typed("RandomState", state=1)), "not the state of a RandomState"),
        (_attribute(_typed("CharVocabulary", chars=["b", "a"])), "sorted and distinct"),
        (_attribute(_typed("estimator", **{"class": "os.system"})), "not an estimator of"),
        (_attribute(_typed("Path")), "'path' is missing"),
    ],
)
def test_malformed_documents(edit, message, tmp_path):
    """Documents with missing, wrong or hostile entries get a ValueError naming the problem."""
    _fitted("GRUClassifier").save(tmp_path / "m")
    _rewrite(tmp_path / "m", edit)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "m")


def test_missing_file():
    """No file: FileNotFoundError, as open() gives."""
    with pytest.raises(FileNotFoundError):
        load("/nonexistent/model.skrnn")


# --- pickle and joblib ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["direct", "full"])
def test_joblib_with_plugin_cell(cell, tmp_path):
    """joblib keeps working for models with plugin cells (pickle is tested by the plugin)."""
    clf = RecurrentClassifier(cell=cell, **FAST).fit(X, LABELS)
    joblib.dump(clf, tmp_path / "m.joblib")
    _same(joblib.load(tmp_path / "m.joblib").predict_proba(X), clf.predict_proba(X))


def test_loaded_model_pickles_and_refits(tmp_path):
    """A loaded model pickles, clones and refits like a fitted one."""
    clf = _fitted("GRUClassifier")
    loaded = _round_trip(clf, tmp_path)
    _same(pickle.loads(pickle.dumps(loaded)).predict_proba(X), clf.predict_proba(X))
    _same(clone(loaded).fit(X, LABELS).predict_proba(X), clone(clf).fit(X, LABELS).predict_proba(X))


@pytest.mark.parametrize("name", list(CASES))
def test_fitted_attribute_table_matches_a_fit(name):
    """load's table of required attributes is what a fit sets (the optional
    feature_names_in_ aside), so that it cannot drift from the estimators."""
    from sklearn_rnn._persistence import REBUILT, _attribute_types, fitted_attributes

    fitted = _fitted(name)
    unfitted = vars(type(fitted)(**fitted.get_params(deep=False)))
    set_by_fit = {k for k in vars(fitted) if k not in unfitted and k not in REBUILT}
    assert set(fitted_attributes(type(fitted))) == set_by_fit - {"feature_names_in_"}
    for attribute in fitted_attributes(type(fitted)):
        assert isinstance(getattr(fitted, attribute), _attribute_types(attribute)), attribute


def test_a_file_without_a_fitted_attribute_is_refused(tmp_path):
    from sklearn_rnn._io import read_bundle, write_bundle

    path = tmp_path / "model.skrnn"
    _fitted("GRUClassifier").save(path)
    arrays, document = read_bundle(path)
    del document["estimator"]["attributes"]["classes_"]
    write_bundle(path, arrays, document)  # a valid checksum: altered, not corrupted
    with pytest.raises(ValueError, match="lacks the attribute.*classes_"):
        load(path)


def test_a_fitted_attribute_of_the_wrong_type_is_refused(tmp_path):
    from sklearn_rnn._io import read_bundle, write_bundle

    path = tmp_path / "model.skrnn"
    _fitted("RNNForecaster").save(path)
    arrays, document = read_bundle(path)
    document["estimator"]["attributes"]["regressor_"] = {"a": 1}
    write_bundle(path, arrays, document)
    with pytest.raises(ValueError, match="regressor_ of the fitted RNNForecaster holds dict"):
        load(path)
