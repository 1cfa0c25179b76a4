"""ONNX export: onnxruntime on the exported graphs against predict, predict_proba, predict_step."""

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn_rnn import (
    BiRNNRegressor,
    CharLanguageModel,
    GRUClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    Seq2SeqClassifier,
    SequenceGenerator,
    SequenceTagger,
    StepwiseRegressor,
)
from sklearn_rnn._torch.cells import GRUCell

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ATOL = 1e-5
ARCHITECTURES = [
    (cell, bidirectional, num_layers)
    for cell in ("rnn", "lstm", "gru")
    for bidirectional in (False, True)
    for num_layers in (1, 2)
]
FAST = dict(hidden_size=5, max_iter=2, learning_rate=1e-2, random_state=0)


def make_sequences(n=24, n_features=3, max_length=9, seed=0):
    """Ragged float32 sequences with lengths 1..max_length, length 1 included."""
    rng = np.random.RandomState(seed)
    lengths = np.r_[1, max_length, rng.randint(1, max_length + 1, size=n - 2)]
    return [rng.normal(size=(length, n_features)).astype(np.float32) for length in lengths]


def pad(X, length=None, fill=0.0):
    """``(x, lengths)``: the sequences padded with ``fill`` to ``length`` steps."""
    lengths = np.array([len(s) for s in X], dtype=np.int64)
    length = lengths.max() if length is None else length
    x = np.full((len(X), length, X[0].shape[1]), fill, dtype=np.float32)
    for i, s in enumerate(X):
        x[i, : len(s)] = s
    return x, lengths


def session(estimator, **kwargs):
    """An onnxruntime session of ``estimator.to_onnx(**kwargs)``, after onnx's full check."""
    model = estimator.to_onnx(**kwargs)
    onnx.checker.check_model(model, full_check=True)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options)


def run_padded(sess, X, **pad_kwargs):
    x, lengths = pad(X, **pad_kwargs)
    return sess.run(None, {"x": x, "lengths": lengths})


def class_labels(X, per_step=False):
    if per_step:
        return [np.where(np.cumsum(s[:, 0]) > 0, "up", "down") for s in X]
    return np.array([int(s[:, 0].sum() > 0) for s in X])


def assert_steps_match(padded, ragged, lengths, padded_value):
    """Per-step ``padded`` (B, T, ...) equals the ``ragged`` list on the real steps and
    ``padded_value`` after them."""
    for i, (values, length) in enumerate(zip(ragged, lengths)):
        if padded.dtype.kind == "f":
            np.testing.assert_allclose(padded[i, :length], values, atol=ATOL, rtol=0)
        else:
            np.testing.assert_array_equal(padded[i, :length], values)
        assert (padded[i, length:] == padded_value).all()


@pytest.mark.parametrize(("cell", "bidirectional", "num_layers"), ARCHITECTURES)
def test_classifier_matches_predict_proba(cell, bidirectional, num_layers):
    """Labels and probabilities of a ragged batch equal predict/predict_proba."""
    X = make_sequences()
    clf = RecurrentClassifier(
        cell=cell, bidirectional=bidirectional, num_layers=num_layers, **FAST
    ).fit(X, class_labels(X))
    labels, proba = run_padded(session(clf), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=ATOL, rtol=0)


@pytest.mark.parametrize(("cell", "bidirectional", "num_layers"), ARCHITECTURES)
def test_regressor_matches_predict(cell, bidirectional, num_layers):
    """A multi-output regressor's graph gives predict's (n_samples, n_outputs)."""
    X = make_sequences()
    y = np.array([[s[:, 0].sum(), s[:, 1].mean()] for s in X])
    reg = RecurrentRegressor(
        cell=cell, bidirectional=bidirectional, num_layers=num_layers, **FAST
    ).fit(X, y)
    (predictions,) = run_padded(session(reg), X)
    assert predictions.shape == (len(X), 2)
    np.testing.assert_allclose(predictions, reg.predict(X), atol=ATOL, rtol=0)


def test_regressor_1d_target_shape():
    """A regressor fitted on a 1-D y gives 1-D predictions, as predict does."""
    X = make_sequences()
    reg = BiRNNRegressor(**FAST).fit(X, [s[:, 0].sum() for s in X])
    (predictions,) = run_padded(session(reg), X)
    assert predictions.shape == (len(X),)
    np.testing.assert_allclose(predictions, reg.predict(X), atol=ATOL, rtol=0)


@pytest.mark.parametrize(("cell", "bidirectional", "num_layers"), ARCHITECTURES)
def test_tagger_matches_predict_proba(cell, bidirectional, num_layers):
    """Per-step labels and probabilities equal the tagger's on the real steps;
    padded steps hold classes_[0] and zero probabilities."""
    X = make_sequences()
    tagger = SequenceTagger(
        cell=cell, bidirectional=bidirectional, num_layers=num_layers, **FAST
    ).fit(X, class_labels(X, per_step=True))
    labels, proba = run_padded(session(tagger), X)
    lengths = [len(s) for s in X]
    assert_steps_match(labels, tagger.predict(X), lengths, tagger.classes_[0])
    assert_steps_match(proba, tagger.predict_proba(X), lengths, 0.0)


@pytest.mark.parametrize("target_is_1d", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_stepwise_regressor_matches_predict(bidirectional, target_is_1d):
    """Per-step predictions equal StepwiseRegressor.predict, in its shapes; 0 at padding."""
    X = make_sequences()
    y = [s[:, 0] if target_is_1d else s[:, :2] for s in X]
    reg = StepwiseRegressor(cell="gru", bidirectional=bidirectional, num_layers=2, **FAST)
    reg.fit(X, y)
    (predictions,) = run_padded(session(reg), X)
    assert predictions.ndim == (2 if target_is_1d else 3)
    assert_steps_match(predictions, reg.predict(X), [len(s) for s in X], 0.0)


def test_padding_and_batch_are_dynamic():
    """One session serves any batch size and padded length, and padding values never
    change an output (bidirectional, 2 layers)."""
    X = make_sequences()
    clf = GRUClassifier(bidirectional=True, num_layers=2, **FAST).fit(X, class_labels(X))
    sess = session(clf)
    expected = clf.predict_proba(X)
    for rows, length, fill in [
        (slice(0, 1), 1, 0.0),  # a single sequence of length 1, no padding
        (slice(1, 2), 20, 0.0),  # one sequence, padded far beyond its length
        (slice(0, 7), 15, 1e3),  # garbage in the padding
        (slice(None), None, -7.0),
    ]:
        _, proba = run_padded(sess, X[rows], length=length, fill=fill)
        np.testing.assert_allclose(proba, expected[rows], atol=ATOL, rtol=0)


def test_tagger_padding_is_dynamic():
    """The per-step graph gives the same real steps whatever the padding."""
    X = make_sequences()
    tagger = SequenceTagger(cell="lstm", **FAST).fit(X, class_labels(X, per_step=True))
    sess = session(tagger)
    _, proba = run_padded(sess, X)
    _, wider = run_padded(sess, X, length=proba.shape[1] + 5, fill=3.0)
    np.testing.assert_allclose(wider[:, : proba.shape[1]], proba, atol=ATOL, rtol=0)
    assert (wider[:, proba.shape[1] :] == 0).all()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_step_graph_matches_predict_step(cell, num_layers):
    """Stepping the graph from zero states follows predict_step over a stream."""
    X = np.random.RandomState(1).normal(size=(4, 6, 3)).astype(np.float32)  # 4 streams
    y = class_labels(list(X))
    y[:2] = [0, 1]
    clf = RecurrentClassifier(cell=cell, num_layers=num_layers, **FAST).fit(X, y)
    sess = session(clf, step=True)
    state_names = [i.name for i in sess.get_inputs()[1:]]
    assert state_names == (["h", "c"] if cell == "lstm" else ["h"])
    shape = (num_layers, len(X), clf.hidden_size)
    onnx_state = {name: np.zeros(shape, np.float32) for name in state_names}
    state = clf.init_state(n_streams=len(X))
    for k, leaves in enumerate(state.layers):  # init_state is the zero state
        for name, leaf in zip(state_names, leaves):
            np.testing.assert_array_equal(leaf, onnx_state[name][k])
    for t in range(X.shape[1]):
        labels, proba, *new_state = sess.run(None, {"x_t": X[:, t], **onnx_state})
        expected, state = clf.predict_step(X[:, t], state)
        np.testing.assert_array_equal(labels, expected)
        onnx_state = dict(zip(state_names, new_state))
        for k, leaves in enumerate(state.layers):
            for name, leaf in zip(state_names, leaves):
                np.testing.assert_allclose(onnx_state[name][k], leaf, atol=ATOL, rtol=0)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=ATOL, rtol=0)


@pytest.mark.parametrize("estimator", [LSTMRegressor(**FAST), StepwiseRegressor(
    bidirectional=False, num_layers=2, **FAST)], ids=["LSTMRegressor", "StepwiseRegressor"])
def test_step_graph_of_regressors(estimator):
    """The step graph of a many-to-one and of a per-step regressor follows predict_step."""
    X = np.random.RandomState(2).normal(size=(3, 4, 3)).astype(np.float32)  # 3 streams
    y = X[:, :, 0].sum(axis=1) if isinstance(estimator, LSTMRegressor) else X[:, :, 0]
    estimator.fit(X, y)
    sess = session(estimator, step=True)
    shape = (estimator.num_layers, len(X), estimator.hidden_size)
    onnx_state = {"h": np.zeros(shape, np.float32), "c": np.zeros(shape, np.float32)}
    state = estimator.init_state(n_streams=len(X))
    for t in range(X.shape[1]):
        predictions, h, c = sess.run(None, {"x_t": X[:, t], **onnx_state})
        expected, state = estimator.predict_step(X[:, t], state)
        assert predictions.shape == expected.shape == (len(X),)
        np.testing.assert_allclose(predictions, expected, atol=ATOL, rtol=0)
        onnx_state = {"h": h, "c": c}


def test_tagger_step_graph():
    """A unidirectional tagger's step graph gives predict's label at every step."""
    X = make_sequences(n=12, max_length=5)
    tagger = SequenceTagger(cell="gru", bidirectional=False, **FAST)
    tagger.fit(X, class_labels(X, per_step=True))
    x = np.stack([s for s in X if len(s) == 5])  # (B, 5, 3): streams of equal length
    sess = session(tagger, step=True)
    h = np.zeros((1, len(x), tagger.hidden_size), np.float32)
    expected = tagger.predict(x)  # (B, 5)
    for t in range(x.shape[1]):
        labels, proba, h = sess.run(None, {"x_t": x[:, t], "h": h})
        np.testing.assert_array_equal(labels, expected[:, t])


def test_numba_backend_exports_the_same():
    """A model trained on the numba backend exports, and the graph equals its predict."""
    X = make_sequences()
    clf = RecurrentClassifier(
        cell="lstm", bidirectional=True, num_layers=2, backend="numba", **FAST
    ).fit(X, class_labels(X))
    labels, proba = run_padded(session(clf), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=ATOL, rtol=0)


def test_recurrent_dropout_exports():
    """recurrent_dropout is off at inference: the plain operators reproduce the model."""
    X = make_sequences()
    reg = RecurrentRegressor(cell="gru", recurrent_dropout=0.3, num_layers=2, **FAST)
    reg.fit(X, [s[:, 0].sum() for s in X])
    (predictions,) = run_padded(session(reg), X)
    np.testing.assert_allclose(predictions, reg.predict(X), atol=ATOL, rtol=0)
    (predictions, h) = session(reg, step=True).run(
        None, {"x_t": X[1][:1], "h": np.zeros((2, 1, reg.hidden_size), np.float32)}
    )
    np.testing.assert_allclose(
        predictions, reg.predict_step(X[1][:1], reg.init_state())[0], atol=ATOL, rtol=0
    )


def test_integer_labels_and_written_file(tmp_path):
    """to_onnx(path) writes the model it returns; int64 labels come back as classes_."""
    X = make_sequences()
    y = np.array([10, 20, 30])[np.arange(len(X)) % 3]
    clf = GRUClassifier(**FAST).fit(X, y)
    path = tmp_path / "model.onnx"
    model = clf.to_onnx(path)
    assert onnx.load(path) == model
    sess = ort.InferenceSession(str(path))
    assert [i.name for i in sess.get_inputs()] == ["x", "lengths"]
    assert [o.name for o in sess.get_outputs()] == ["label", "probabilities"]
    labels, _ = run_padded(sess, X)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, clf.predict(X))
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert metadata["estimator"] == "GRUClassifier"
    assert metadata["graph"] == "sequences"
    assert model.opset_import[0].version == 17


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    """The file is replaced atomically: an interrupted export leaves the old model whole."""
    import os

    X = make_sequences()
    y = np.arange(len(X)) % 2
    clf = GRUClassifier(**FAST).fit(X, y)
    path = tmp_path / "model.onnx"
    clf.to_onnx(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        clf.to_onnx(path, step=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


class PlainGRU(GRUCell):
    """A subclass of a built-in cell runs as a plugin cell, in the step loop."""


def test_unsupported_models_raise():
    """Plugin cells, layer_norm and a bidirectional step graph get errors that say
    what is supported; estimators without a many-to-one or per-step network have no
    to_onnx."""
    X = make_sequences(n=8)
    y = class_labels(X)
    y[:2] = [0, 1]
    with pytest.raises(NotFittedError):
        RecurrentClassifier().to_onnx()
    with pytest.raises(ValueError, match="built-in cells 'rnn', 'lstm' and 'gru'.*PlainGRU"):
        RecurrentClassifier(cell=PlainGRU, **FAST).fit(X, y).to_onnx()
    with pytest.raises(ValueError, match="layer_norm=True"):
        RecurrentClassifier(layer_norm=True, **FAST).fit(X, y).to_onnx()
    with pytest.raises(ValueError, match="step=True.*unidirectional"):
        RecurrentClassifier(bidirectional=True, **FAST).fit(X, y).to_onnx(step=True)
    for cls in (Seq2SeqClassifier, SequenceGenerator, CharLanguageModel):
        assert not hasattr(cls(), "to_onnx")


def test_missing_onnx_names_the_extra(monkeypatch):
    """Without onnx installed, to_onnx says how to install it."""
    X = make_sequences(n=8)
    y = class_labels(X)
    y[:2] = [0, 1]
    clf = RecurrentClassifier(**FAST).fit(X, y)
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "sklearn-rnn\[onnx\]"'):
        clf.to_onnx()
