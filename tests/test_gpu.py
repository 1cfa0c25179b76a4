"""Training and prediction on a CUDA GPU (``device="cuda"``).

The tests marked ``gpu`` are skipped without CUDA; run them on a machine with a
GPU: ``pytest -m gpu tests/test_gpu.py``. Every
path that moves tensors between NumPy and the network is exercised on the
device: batches in training (skorch), ``predict_outputs`` (predict,
predict_proba, transform), streaming (predict_step), seq2seq decoding (greedy
and beam search) and scoring, the language model's scoring and generation,
truncated BPTT, the gradient-flow recorder, checkpoints and saving.
"""

import pickle

import numpy as np
import pytest
import torch

from sklearn_rnn import (
    CharLanguageModel,
    LSTMClassifier,
    Seq2SeqClassifier,
    Seq2SeqRegressor,
    SequenceTagger,
    load,
)
from sklearn_rnn.callbacks import EpochCheckpoint



def needs_gpu(test):
    """Mark ``test`` as a GPU test, skipped where CUDA is not available."""
    test = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")(test)
    return pytest.mark.gpu(test)


FAST = dict(hidden_size=8, max_iter=3, batch_size=8, random_state=0, device="cuda")


def _ragged(n=24, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(rng.randint(3, 9), 2)).astype(np.float32) for _ in range(n)]


def _labels(X):
    return np.array([int(x[:, 0].mean() > 0) for x in X])


def _on_cuda(estimator):
    return all(p.device.type == "cuda" for p in estimator.net_.module_.parameters())


def _stream(estimator, X):
    """predict_step over the first sequence, one step at a time."""
    state = estimator.init_state(1)
    for x_t in X[0]:
        out, state = estimator.predict_step(x_t[None], state)
    return out


@needs_gpu
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_classifier_trains_and_predicts_on_the_gpu(cell, tmp_path):
    """fit, predict, predict_proba, transform, predict_step and score run on CUDA; the
    saved model loads on the CPU and predicts the same."""
    X = _ragged()
    y = _labels(X)
    clf = LSTMClassifier(**{**FAST, "device": "cuda"}, cell=cell, early_stopping=True)
    clf.fit(X, y)
    assert _on_cuda(clf)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and isinstance(proba, np.ndarray)
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.transform(X).shape == (len(X), 8)
    _stream(clf, X)
    clf.score(X, y)
    clf.partial_fit(X, y)
    clf.save(tmp_path / "model")
    on_cpu = load(tmp_path / "model", device="cpu")
    assert on_cpu.device == "cpu"
    assert all(p.device.type == "cpu" for p in on_cpu.net_.module_.parameters())
    np.testing.assert_allclose(on_cpu.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(on_cpu.transform(X), clf.transform(X), atol=1e-5)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-6)


@needs_gpu
def test_tbptt_and_gradient_flow_on_the_gpu():
    """Truncated BPTT carries its state on the device; the gradient-flow recorder reads it."""
    X = _ragged()
    clf = LSTMClassifier(**FAST, tbptt_steps=2, record_gradient_flow=1).fit(X, _labels(X))
    assert _on_cuda(clf)
    assert np.isfinite(clf.loss_curve_).all()


@needs_gpu
def test_regularised_cells_on_the_gpu():
    """The step-loop cells (recurrent dropout, layer norm) build their states on the device."""
    X = _ragged()
    clf = LSTMClassifier(**FAST, recurrent_dropout=0.2, layer_norm=True).fit(X, _labels(X))
    clf.predict_proba(X)
    _stream(clf, X)


@needs_gpu
def test_checkpoint_resumes_on_the_gpu(tmp_path):
    """EpochCheckpoint writes the CUDA random state and resumes on the device."""
    X = _ragged()
    y = _labels(X)
    first = LSTMClassifier(**FAST, callbacks=[EpochCheckpoint(tmp_path)]).fit(X, y)
    again = LSTMClassifier(**FAST, callbacks=[EpochCheckpoint(tmp_path)]).fit(X, y)
    assert again.callbacks[0].resumed_from_ == first.n_iter_
    np.testing.assert_allclose(again.predict_proba(X), first.predict_proba(X), atol=1e-6)


@needs_gpu
def test_tagger_on_the_gpu(tmp_path):
    """SequenceTagger: per-step fit, predict, predict_proba and predict_step on CUDA."""
    X = _ragged()
    tags = [(x[:, 0] > 0).astype(int) for x in X]
    tagger = SequenceTagger(**FAST, bidirectional=False).fit(X, tags)
    assert _on_cuda(tagger)
    predicted = tagger.predict(X)
    assert [len(p) for p in predicted] == [len(x) for x in X]
    tagger.predict_proba(X)
    _stream(tagger, X)
    tagger.save(tmp_path / "tagger")
    on_cpu = load(tmp_path / "tagger", device="cpu")
    for a, b in zip(on_cpu.predict(X), predicted):
        np.testing.assert_array_equal(a, b)


@needs_gpu
@pytest.mark.parametrize("beam_width", [1, 3])
def test_seq2seq_classifier_on_the_gpu(beam_width, tmp_path):
    """Seq2SeqClassifier: teacher-forced training, greedy and beam decoding, scoring on CUDA."""
    X = _ragged()
    y = [np.where(x[:, 0] > 0, 1, 0)[::-1] for x in X]
    model = Seq2SeqClassifier(**FAST, beam_width=beam_width).fit(X, y)
    assert _on_cuda(model)
    predicted = model.predict(X)
    assert len(predicted) == len(X)
    model.score(X, y)
    model._log_likelihood(X, y)  # the exact likelihood used by scoring, on the device
    model.save(tmp_path / "s2s")
    on_cpu = load(tmp_path / "s2s", device="cpu")
    for a, b in zip(on_cpu.predict(X), predicted):
        np.testing.assert_array_equal(a, b)


@needs_gpu
def test_seq2seq_regressor_on_the_gpu():
    """Seq2SeqRegressor: fit, partial_fit and autoregressive predict on CUDA."""
    X = _ragged()
    rng = np.random.RandomState(1)
    y = rng.normal(size=(len(X), 3, 1))
    model = Seq2SeqRegressor(**FAST).fit(X, y)
    model.partial_fit(X, y)
    assert np.asarray(model.predict(X)).shape[0] == len(X)


@needs_gpu
def test_language_model_on_the_gpu(tmp_path):
    """CharLanguageModel: fit, perplexity and generate on CUDA; loads on the CPU."""
    texts = ["abcabcabcabc", "bcabcabcabca", "cabcabcabcab"] * 4
    lm = CharLanguageModel(**FAST).fit(texts)
    assert _on_cuda(lm)
    assert np.isfinite(lm.perplexity(texts))
    text = lm.generate("ab", n_chars=20, random_state=0)
    assert isinstance(text, str)
    lm.save(tmp_path / "lm")
    on_cpu = load(tmp_path / "lm", device="cpu")
    assert on_cpu.perplexity(texts) == pytest.approx(lm.perplexity(texts), rel=1e-4)


@needs_gpu
def test_onnx_export_of_a_gpu_model(tmp_path):
    """to_onnx copies the weights of a CUDA model to the CPU."""
    pytest.importorskip("onnxruntime")
    X = _ragged()
    clf = LSTMClassifier(**FAST).fit(X, _labels(X))
    clf.to_onnx(tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").stat().st_size > 0


# --- without a GPU ----------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_fitted_model_runs_where_its_weights_are(cell):
    """Bug: after set_params(device="cuda") on a CPU-fitted model, streaming and seq2seq
    decoding moved inputs to CUDA while the weights stayed on the CPU (and backend
    "auto" chose by the parameter). Prediction now follows the weights' device, so
    mixing devices is caught here without a GPU: "cuda" tensors cannot be made."""
    X = _ragged()
    y = _labels(X)
    cpu = {**FAST, "device": "cpu"}
    clf = LSTMClassifier(**cpu, cell=cell).fit(X, y)
    expected_proba, expected_step = clf.predict_proba(X), _stream(clf, X)
    clf.set_params(device="cuda")  # a parameter only: fit would move the weights
    np.testing.assert_array_equal(clf.predict_proba(X), expected_proba)
    np.testing.assert_array_equal(_stream(clf, X), expected_step)
    clf.transform(X)

    y_seq = [np.where(x[:, 0] > 0, 1, 0)[::-1] for x in X]
    model = Seq2SeqClassifier(**cpu, cell=cell).fit(X, y_seq)
    expected = model.predict(X)
    model.set_params(device="cuda")
    for a, b in zip(model.predict(X), expected):
        np.testing.assert_array_equal(a, b)
    model.score(X, y_seq)

    texts = ["abcabcab", "bcabcabc"]
    lm = CharLanguageModel(**cpu, cell=cell).fit(texts)
    perplexity = lm.perplexity(texts)
    lm.set_params(device="cuda")
    assert lm.perplexity(texts) == perplexity
    lm.generate("a", n_chars=5, random_state=0)
