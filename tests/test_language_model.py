"""CharLanguageModel: learning, likelihood, generation, the estimator contract, bad input.

The real text is CPython's own documentation (``pydoc_data.topics``), which
ships with every Python. X is a list of strings, which scikit-learn's common
checks cannot feed, so the contract (clone, pickling, determinism,
get_params, no mutation of inputs) is tested here directly.
"""

import math
import pickle
from collections import Counter

import numpy as np
import pydoc_data.topics
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_rnn import CharLanguageModel
from sklearn_rnn._text import CharVocabulary

SMALL = dict(hidden_size=16, embedding_dim=8, batch_size=8, max_iter=3, random_state=0)


def doc_paragraphs(n, max_chars=200):
    """``n`` English paragraphs (lowercased) from CPython's documentation."""
    paragraphs = []
    for key in sorted(pydoc_data.topics.topics):
        for paragraph in pydoc_data.topics.topics[key].split("\n\n"):
            text = " ".join(paragraph.lower().split())
            if len(text) > 40 and text.isascii() and ">>>" not in text:
                paragraphs.append(text[:max_chars])
    return paragraphs[:n]


def unigram_log_likelihood(train, test):
    """Mean log-likelihood per symbol of a character-frequency model (add-one smoothing)."""
    counts = Counter("".join(train))
    counts["<end>"] = len(train)
    total = sum(counts.values()) + len(counts) + 1
    symbols = [c for text in test for c in text] + ["<end>"] * len(test)
    return sum(math.log((counts[c] + 1) / total) for c in symbols) / len(symbols)


@pytest.fixture(scope="module")
def corpus():
    paragraphs = doc_paragraphs(500)
    return paragraphs[:400], paragraphs[400:]


@pytest.fixture(scope="module")
def fitted(corpus):
    train, _ = corpus
    return CharLanguageModel(
        hidden_size=64, embedding_dim=16, batch_size=16, max_iter=6, learning_rate=1e-2,
        random_state=0,
    ).fit(train)


def test_learns_english_better_than_character_frequencies(corpus, fitted):
    """Held-out log-likelihood clearly beats the unigram model (about -2.9 nats/char)."""
    train, test = corpus
    baseline = unigram_log_likelihood(train, test)
    score = fitted.score(test)
    assert score > baseline + 0.5, (score, baseline)
    assert fitted.perplexity(test) == pytest.approx(math.exp(-score))
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]


def test_score_is_the_exact_mean_log_likelihood(fitted):
    """score equals the log-probabilities of every character and the end, summed by hand."""
    import torch

    text = "the value of x"
    module = fitted.net_.module_.eval()
    ids = fitted._vocabulary.encode(text)  # BOS, chars, EOS
    x = torch.tensor(ids[:-1], dtype=torch.float32).view(1, -1, 1)
    with torch.no_grad():
        log_p = torch.log_softmax(module(x, torch.tensor([len(ids) - 1])).double(), dim=2)[0]
    expected = float(log_p[np.arange(len(ids) - 1), ids[1:]].mean())
    assert fitted.score([text]) == pytest.approx(expected, rel=1e-9)
    # Two texts: a mean over all symbols, not over texts.
    both = fitted.score([text, "a"])
    assert both != pytest.approx((fitted.score([text]) + fitted.score(["a"])) / 2)


def test_padding_and_batching_do_not_change_the_score(fitted):
    """A text scores the same alone and among texts of other lengths."""
    texts = ["short", "a much longer text about functions and classes", "mid length"]
    alone = [fitted._log_likelihood([t]) for t in texts]
    together = fitted._log_likelihood(texts)
    assert together[1] == sum(count for _, count in alone)
    assert together[0] == pytest.approx(sum(total for total, _ in alone), rel=1e-6)


def test_chunking_covers_every_character_once():
    """Training chunks: every (input, next character) pair once, at most seq_length steps."""
    lm = CharLanguageModel(seq_length=4)
    lm._vocabulary = CharVocabulary(["abcdefghij"])
    sequences, targets = lm._encode(["abcdefghij", "xy"], chunk=4)
    assert sequences.lengths.tolist() == [4, 4, 3, 3]  # 11 targets of the first text, 3 of "xy"
    assert (sequences.lengths <= 4).all()
    ids = lm._vocabulary.encode("abcdefghij")
    pairs = [
        (int(sequences.padded[i, t, 0]), int(targets[i, t]))
        for i in range(3)
        for t in range(sequences.lengths[i])
    ]
    assert pairs == list(zip(ids[:-1].tolist(), ids[1:].tolist()))
    assert targets[3, :3].tolist() == [2, 2, 1]  # x, y unknown, then the end


def test_generate(fitted):
    text = fitted.generate("the ", n_chars=50, temperature=0.5, random_state=0)
    assert text.startswith("the ")
    assert len(text) <= 54
    assert set(text[4:]) <= set(fitted.vocabulary_)
    # Seeded: the same text twice; another seed, another text (almost surely).
    assert fitted.generate("the ", 50, 0.5, random_state=0) == text
    assert fitted.generate("the ", 50, 1.0, random_state=1) != fitted.generate(
        "the ", 50, 1.0, random_state=2
    )
    # Without stopping at the end, exactly n_chars are added.
    assert len(fitted.generate("", n_chars=30, stop_at_end=False, random_state=0)) == 30
    # Unknown characters in the prefix are read, not rejected.
    assert fitted.generate("\u00e9t\u00e9 ", n_chars=5, random_state=0).startswith("\u00e9t\u00e9 ")


def test_greedy_generation_follows_the_most_likely_character():
    """Near-zero temperature on a deterministic corpus reproduces it."""
    lm = CharLanguageModel(hidden_size=16, batch_size=8, max_iter=40, random_state=0)
    lm.fit(["abcabc", "abcab", "bcabca"] * 10)
    assert lm.generate("ab", n_chars=4, temperature=1e-3, random_state=0) == "abcabc"


def test_generation_is_the_same_on_both_backends(fitted):
    """Generation steps on torch or on the numba kernels with the same weights, same text."""
    on_torch = pickle.loads(pickle.dumps(fitted)).set_params(backend="torch")
    on_numba = pickle.loads(pickle.dumps(fitted)).set_params(backend="numba")
    a = on_torch.generate("the ", 40, temperature=0.3, random_state=0)
    assert a == on_numba.generate("the ", 40, temperature=0.3, random_state=0)
    assert on_torch.score(["the value"]) == pytest.approx(on_numba.score(["the value"]), abs=1e-5)


def test_plugin_and_class_cells():
    """A cell class works as the cell of a language model."""
    from sklearn_rnn._torch.cells import GRUCell

    class PlainGRU(GRUCell):  # a subclass runs through the generic step loop
        pass

    lm = CharLanguageModel(cell=PlainGRU, **SMALL).fit(["hello world"] * 4)
    assert np.isfinite(lm.score(["hello"]))


def test_estimator_contract():
    texts = ["hello there", "general kenobi"]
    frozen = list(texts)
    lm = CharLanguageModel(**SMALL)
    assert clone(lm).get_params() == lm.get_params()
    lm.fit(texts)
    assert texts == frozen  # inputs untouched
    again = CharLanguageModel(**SMALL).fit(texts)
    assert lm.score(texts) == again.score(texts)  # random_state makes fits reproducible
    restored = pickle.loads(pickle.dumps(lm))
    assert restored.score(texts) == lm.score(texts)
    assert restored.generate("he", 10, random_state=0) == lm.generate("he", 10, random_state=0)
    assert not hasattr(clone(lm), "net_")
    assert lm.vocabulary_ == sorted(set("".join(texts)) - {c for c, n in Counter("".join(texts)).items() if n < 2})
    assert "bidirectional" not in lm.get_params()


def test_warm_start_continues_with_the_same_vocabulary():
    lm = CharLanguageModel(warm_start=True, **SMALL).fit(["abab"] * 8)
    vocabulary, epochs = lm.vocabulary_, lm.n_iter_
    lm.fit(["abcd"] * 8)  # "c", "d" are unknown to the fitted vocabulary
    assert lm.vocabulary_ == vocabulary
    assert lm.n_iter_ == 2 * epochs


def test_pipeline_with_a_text_preprocessor(corpus):
    """A text transformer before the language model: fit, score and generate go through it."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    train, test = corpus
    lower = FunctionTransformer(lambda texts: [text.lower() for text in texts])
    model = make_pipeline(lower, CharLanguageModel(**SMALL)).fit(train[:40])
    assert np.isfinite(model.score(test[:5])) and model.score(test[:5]) < 0
    vocabulary = model[-1].vocabulary_
    assert not any(c.isupper() for c in vocabulary if isinstance(c, str))
    assert model.score([t.upper() for t in test[:5]]) == model.score([t.lower() for t in test[:5]])


def test_grid_search_uses_the_likelihood(corpus):
    train, _ = corpus
    search = GridSearchCV(
        CharLanguageModel(**SMALL), {"cell": ["gru", "rnn"]}, cv=2
    ).fit(train[:40])
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    assert search.best_params_["cell"] in ("gru", "rnn")


@pytest.mark.parametrize(
    "X, error, words",
    [
        ("one text", TypeError, "wrap one text as [text]"),
        ([], ValueError, "empty"),
        (["ok", 3], TypeError, r"X\[1\] is a int"),
        ([["a", "b"]], TypeError, r"X\[0\] is a list"),
        (np.array([["a"], ["b"]]), ValueError, "1-D list of strings"),
        (None, TypeError, "list of strings"),
    ],
)
def test_bad_texts(X, error, words):
    with pytest.raises(error, match=words if words.startswith("X") else None) as excinfo:
        CharLanguageModel(**SMALL).fit(X)
    assert words.replace("\\", "") in str(excinfo.value)


def test_bad_parameters_and_generation_arguments(fitted):
    with pytest.raises(ValueError, match="seq_length"):
        CharLanguageModel(seq_length=0).fit(["abc"])
    with pytest.raises(ValueError, match="min_frequency"):
        CharLanguageModel(min_frequency=0).fit(["abc"])
    with pytest.raises(TypeError, match="prefix must be a str"):
        fitted.generate(3)
    with pytest.raises(ValueError, match="n_chars"):
        fitted.generate("a", n_chars=-1)
    with pytest.raises(ValueError, match="temperature"):
        fitted.generate("a", temperature=0)
    with pytest.raises(ValueError, match="temperature"):
        fitted.generate("a", temperature=float("nan"))
    with pytest.raises(TypeError, match="list of strings"):
        fitted.score("a single string")


@pytest.mark.parametrize("X", [{"abc": 1, "de": 2}, {"abc", "de"}])
def test_dicts_and_sets_of_texts_are_refused(X):
    """Bug (fuzz): a dict trained on its keys (dropping its values), a set in hash order."""
    with pytest.raises(TypeError, match="list of strings"):
        CharLanguageModel(hidden_size=3, max_iter=1).fit(X)


def test_a_tiny_temperature_is_greedy():
    """Bug (fuzz): temperature=5e-324 overflowed the logits to inf - inf = NaN."""
    import warnings

    lm = CharLanguageModel(hidden_size=4, max_iter=1, random_state=0).fit(["abcab", "bca"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        text = lm.generate("a", 6, temperature=5e-324, random_state=0)
    assert text == lm.generate("a", 6, temperature=1e-6, random_state=1)


def test_nothing_to_generate_without_characters():
    """Bug (fuzz): a model fitted on empty texts sampled from NaN with stop_at_end=False."""
    lm = CharLanguageModel(hidden_size=3, max_iter=1, random_state=0).fit([""])
    assert lm.generate("x", 5) == "x"
    with pytest.raises(ValueError, match="knows no characters"):
        lm.generate("x", 5, stop_at_end=False)
