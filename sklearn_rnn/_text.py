"""Character vocabularies: texts to integer ids and back (NumPy only).

Ids 0, 1 and 2 are reserved: the start of a text (the first input, so that
the first character is predicted too), the end of a text (the last target)
and unknown characters (rare in training, or never seen).
"""

from collections import Counter
from collections.abc import Mapping, Set

import numpy as np

BOS, EOS, UNK = 0, 1, 2
N_SPECIAL = 3


def check_texts(texts, what="X"):
    """``texts`` as a list of str, or a ``TypeError``/``ValueError`` saying what is wrong."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"{what} must be a list of strings (one text per sample), got a single "
            f"{type(texts).__name__}; wrap one text as [text]."
        )
    if isinstance(texts, (Mapping, Set)):
        raise TypeError(
            f"{what} must be a list of strings (one text per sample), got a "
            f"{type(texts).__name__}: its iteration order or values would be lost."
        )
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        raise ValueError(f"{what} must be a 1-D list of strings, got an array of shape {texts.shape}.")
    try:
        texts = list(texts)
    except TypeError:
        raise TypeError(
            f"{what} must be a list of strings, got {type(texts).__name__}."
        ) from None
    if not texts:
        raise ValueError(f"{what} is empty: at least one text is required.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"{what} must hold strings only, but {what}[{i}] is a {type(text).__name__}: "
                f"{text!r:.60}."
            )
    return texts


class CharVocabulary:
    """The characters of a corpus, each with an id after the reserved ones.

    Parameters
    ----------
    texts : list of str
        The training texts.
    min_frequency : int
        Characters seen fewer times become the unknown character, so that the
        model learns a probability for characters it has not seen.
    """

    def __init__(self, texts, min_frequency=1):
        counts = Counter()
        for text in texts:
            counts.update(text)
        self.chars = sorted(char for char, count in counts.items() if count >= min_frequency)
        self.index = {char: N_SPECIAL + i for i, char in enumerate(self.chars)}

    def __len__(self):
        return N_SPECIAL + len(self.chars)

    def encode(self, text):
        """``[BOS] + ids of text + [EOS]`` as an int64 array of length ``len(text) + 2``."""
        ids = np.fromiter(
            (self.index.get(char, UNK) for char in text), dtype=np.int64, count=len(text)
        )
        return np.concatenate([[BOS], ids, [EOS]])

    def decode(self, ids):
        """The text of ``ids`` (special ids are dropped, unknown shown as U+FFFD)."""
        return "".join(
            self.chars[i - N_SPECIAL] if i >= N_SPECIAL else ("\ufffd" if i == UNK else "")
            for i in ids
        )
