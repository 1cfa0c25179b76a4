"""Texts as sequences of one-hot characters, for the sequence estimators."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._text import CharVocabulary, check_texts


class CharOneHotEncoder(TransformerMixin, BaseEstimator):
    """Encode each text as a sequence of one-hot characters.

    ``fit`` learns the characters of the training texts; ``transform`` turns
    every text of ``T_i`` characters into a ``(T_i, n_chars)`` float32 array
    with a single 1 per row, the list format that every sklearn-rnn estimator
    accepts. It is the first step of a pipeline that tags or classifies text
    character by character, such as ``make_pipeline(CharOneHotEncoder(),
    SequenceTagger())``.

    Parameters
    ----------
    lowercase : bool, default=False
        Whether to lowercase the texts first (fewer characters to learn).
    min_frequency : int, default=1
        Characters seen fewer times in ``fit`` are not in the vocabulary.

    Attributes
    ----------
    vocabulary_ : list of str
        The known characters, sorted; column ``j`` of the output is
        ``vocabulary_[j]``. Unknown characters (rare in ``fit`` or never seen)
        get a row of zeros, like ``OneHotEncoder(handle_unknown="ignore")``.

    See Also
    --------
    SequenceTagger : A label for every character.
    sklearn.preprocessing.OneHotEncoder : One-hot encoding of tabular data.

    Examples
    --------
    >>> from sklearn_rnn.preprocessing import CharOneHotEncoder
    >>> encoder = CharOneHotEncoder().fit(["abba", "cab"])
    >>> encoder.vocabulary_
    ['a', 'b', 'c']
    >>> encoder.transform(["cad"])[0]
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 0., 0.]], dtype=float32)
    """

    _parameter_constraints: dict = {
        "lowercase": ["boolean"],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, lowercase=False, min_frequency=1):
        self.lowercase = lowercase
        self.min_frequency = min_frequency

    def _texts(self, X):
        texts = check_texts(X)
        for i, text in enumerate(texts):
            if not text:
                raise ValueError(
                    f"X[{i}] is an empty string; every sequence needs at least one character."
                )
        return [text.lower() for text in texts] if self.lowercase else texts

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the characters of ``X``.

        Parameters
        ----------
        X : list of str
            Texts.
        y : None
            Ignored (a pipeline passes its targets through to the next step).

        Returns
        -------
        self : object
            The fitted encoder.
        """
        self.vocabulary_ = CharVocabulary(self._texts(X), self.min_frequency).chars
        return self

    def transform(self, X):
        """One-hot characters of each text.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        X_new : list of ndarray of shape (T_i, n_chars)
            One float32 array per text, a row per character.
        """
        check_is_fitted(self)
        n_chars = len(self.vocabulary_)
        index = {char: j for j, char in enumerate(self.vocabulary_)}
        table = np.eye(n_chars + 1, n_chars, dtype=np.float32)  # the last row (unknown) is zero
        return [
            table[np.fromiter((index.get(c, n_chars) for c in text), np.int64, len(text))]
            for text in self._texts(X)
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
