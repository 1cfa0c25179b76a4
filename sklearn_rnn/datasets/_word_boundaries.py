"""Word-boundary tagging on English text that ships with Python (NumPy only)."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state


def _prose_paragraphs():
    """The prose paragraphs of CPython's documentation, whitespace-normalised and lowercased."""
    import pydoc_data.topics  # ships with CPython: about 700 KB of documentation text

    paragraphs = []
    for key in sorted(pydoc_data.topics.topics):
        for paragraph in pydoc_data.topics.topics[key].split("\n\n"):
            text = " ".join(paragraph.lower().split())
            # Code samples and tables are not prose: skip prompts and symbol-heavy text.
            if len(text) < 40 or not text.isascii() or ">>>" in text:
                continue
            if sum(c.isalpha() or c == " " for c in text) < 0.85 * len(text):
                continue
            paragraphs.append(text)
    return paragraphs


def make_word_boundaries(n_samples=None, *, min_words=4, max_words=12, random_state=None):
    """Texts with their spaces removed, and a label per character: does a word start here?

    The prose of CPython's own documentation (``pydoc_data.topics``, which
    ships with every Python, so nothing is downloaded), lowercased, is cut
    into snippets of ``min_words`` to ``max_words`` consecutive words (fewer
    at the end of a paragraph), and repeated snippets are dropped. Each
    snippet's words are joined without spaces ("thevalueofx"), and character
    ``t`` is labelled 1 if a word starts there (the first character always
    does), else 0. Words are the text's whitespace-separated tokens, so
    punctuation stays attached ("value," is one word). About one character in
    five starts a word.

    Parameters
    ----------
    n_samples : int or None, default=None
        Number of snippets to return, drawn at random; None returns all of
        them (5,269).
    min_words, max_words : int, default=4, 12
        Range of the number of words per snippet (inclusive).
    random_state : int, RandomState instance or None, default=None
        Seeds the snippet lengths and the order of the snippets.

    Returns
    -------
    texts : list of str
        The snippets without spaces.
    y : list of ndarray of shape (len(text),), dtype int64
        1 where a word starts, 0 elsewhere.

    Examples
    --------
    >>> from sklearn_rnn.datasets import make_word_boundaries
    >>> texts, y = make_word_boundaries(n_samples=100, random_state=0)
    >>> len(texts), len(y[0]) == len(texts[0])
    (100, True)
    >>> " " in texts[0], int(y[0][0])  # no spaces; the first character starts a word
    (False, 1)
    """
    if not isinstance(min_words, Integral) or not isinstance(max_words, Integral):
        raise TypeError("min_words and max_words must be integers.")
    if not 1 <= min_words <= max_words:
        raise ValueError(
            f"Need 1 <= min_words <= max_words, got min_words={min_words}, max_words={max_words}."
        )
    if n_samples is not None and (
        not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive integer or None, got {n_samples!r}.")
    rng = check_random_state(random_state)
    texts, labels, seen = [], [], set()
    for paragraph in _prose_paragraphs():
        words = paragraph.split()
        start = 0
        while start < len(words):
            snippet = words[start : start + rng.randint(min_words, max_words + 1)]
            start += len(snippet)
            text = "".join(snippet)
            if text in seen:  # a repeated phrase would be in both a train and a test split
                continue
            seen.add(text)
            starts = np.zeros(len(text), dtype=np.int64)
            starts[np.cumsum([0] + [len(w) for w in snippet[:-1]])] = 1
            texts.append(text)
            labels.append(starts)
    order = rng.permutation(len(texts))
    if n_samples is not None:
        if n_samples > len(texts):
            raise ValueError(f"n_samples={n_samples} exceeds the {len(texts)} snippets available.")
        order = order[:n_samples]
    return [texts[i] for i in order], [labels[i] for i in order]
