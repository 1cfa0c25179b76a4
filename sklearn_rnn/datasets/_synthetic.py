"""The classic long-memory tasks as data generators (NumPy only).

Both tasks need a dependency over the whole sequence, which plain recurrent
networks fail to learn as the sequences grow: the reason LSTM and GRU exist.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state


def _check_positive(value, name, minimum=1):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def make_adding_problem(n_samples=1000, n_timesteps=100, *, random_state=None):
    """The adding problem: the sum of two marked numbers in a long sequence.

    Each sequence has two features per step: a value drawn uniformly from
    ``[0, 1)`` and a marker that is 1 at exactly two steps, one in the first
    half of the sequence and one in the second, and 0 elsewhere. The target
    is the sum of the two marked values (Hochreiter & Schmidhuber 1997; the
    variant of Le et al. 2015). Predicting 1.0, the target's mean, gives a
    mean squared error of about 0.167 (1/6): a model must beat that to have
    learned anything.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    n_timesteps : int, default=100
        Length of every sequence, at least 2.
    random_state : int, RandomState instance or None, default=None
        Seeds the values and the marker positions.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, 2), float32
        Values and markers.
    y : ndarray of shape (n_samples,), float32
        The sums, in ``[0, 2)``.

    References
    ----------
    S. Hochreiter and J. Schmidhuber, "Long short-term memory", Neural
    Computation 9(8), 1997. Q. V. Le, N. Jaitly and G. E. Hinton, "A simple way
    to initialize recurrent networks of rectified linear units",
    arXiv:1504.00941, 2015.

    Examples
    --------
    >>> from sklearn_rnn.datasets import make_adding_problem
    >>> X, y = make_adding_problem(n_samples=3, n_timesteps=10, random_state=0)
    >>> X.shape, y.shape
    ((3, 10, 2), (3,))
    >>> bool(((X[:, :, 1] == 1).sum(axis=1) == 2).all())
    True
    >>> bool(abs(y[0] - X[0, X[0, :, 1] == 1, 0].sum()) < 1e-6)
    True
    """
    n_samples = _check_positive(n_samples, "n_samples")
    n_timesteps = _check_positive(n_timesteps, "n_timesteps", minimum=2)
    rng = check_random_state(random_state)
    values = rng.uniform(0.0, 1.0, size=(n_samples, n_timesteps))
    half = n_timesteps // 2
    first = rng.randint(0, half, size=n_samples)
    second = rng.randint(half, n_timesteps, size=n_samples)
    markers = np.zeros((n_samples, n_timesteps))
    rows = np.arange(n_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=2).astype(np.float32)  # (n, T, 2)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return X, y


def make_copy_task(n_samples=1000, n_symbols=3, *, sequence_length=5, delay=30, random_state=None):
    """The copy (memory) task: recall a few symbols after a long blank stretch.

    Each input sequence shows ``sequence_length`` symbols drawn from
    ``n_symbols``, then ``delay`` blank steps, then a recall marker, and stays
    blank while the symbols are to be recalled: ``sequence_length + delay +
    1 + sequence_length`` steps in all, one-hot over ``n_symbols + 2`` features
    (the symbols, blank, marker). The target is a label per step (for
    :class:`~sklearn_rnn.SequenceTagger`): blank (label ``n_symbols``)
    everywhere except the last ``sequence_length`` steps, which must repeat
    the symbols. What matters is the accuracy on those recall steps; chance is
    ``1 / n_symbols``. The published protocol (Hochreiter & Schmidhuber 1997;
    Arjovsky et al. 2016) uses 8 symbols, 10 positions and delays of 100 to
    2000 steps.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    n_symbols : int, default=3
        Size of the alphabet, at least 2.
    sequence_length : int, default=5
        Symbols to remember.
    delay : int, default=30
        Blank steps between the symbols and the recall marker.
    random_state : int, RandomState instance or None, default=None
        Seeds the symbols.

    Returns
    -------
    X : ndarray of shape (n_samples, sequence_length + delay + 1 + sequence_length, n_symbols + 2)
        One-hot inputs, float32.
    y : ndarray of shape (n_samples, sequence_length + delay + 1 + sequence_length), int64
        Per-step labels: ``n_symbols`` (blank), then the symbols, in
        ``0 .. n_symbols - 1``, over the last ``sequence_length`` steps.

    References
    ----------
    S. Hochreiter and J. Schmidhuber, "Long short-term memory", 1997.
    M. Arjovsky, A. Shah and Y. Bengio, "Unitary evolution recurrent neural
    networks", ICML 2016.

    Examples
    --------
    >>> from sklearn_rnn.datasets import make_copy_task
    >>> X, y = make_copy_task(n_samples=2, n_symbols=3, sequence_length=4, delay=10, random_state=0)
    >>> X.shape, y.shape
    ((2, 19, 5), (2, 19))
    >>> bool((X[:, :4, :3].argmax(axis=2) == y[:, -4:]).all())
    True
    """
    n_samples = _check_positive(n_samples, "n_samples")
    n_symbols = _check_positive(n_symbols, "n_symbols", minimum=2)
    sequence_length = _check_positive(sequence_length, "sequence_length")
    delay = _check_positive(delay, "delay", minimum=0)
    rng = check_random_state(random_state)
    symbols = rng.randint(0, n_symbols, size=(n_samples, sequence_length))
    n_steps = 2 * sequence_length + delay + 1
    blank, marker = n_symbols, n_symbols + 1
    codes = np.full((n_samples, n_steps), blank)
    codes[:, :sequence_length] = symbols
    codes[:, sequence_length + delay] = marker
    X = np.eye(n_symbols + 2, dtype=np.float32)[codes]  # (n, T, n_symbols + 2)
    y = np.full((n_samples, n_steps), blank, dtype=np.int64)
    y[:, -sequence_length:] = symbols
    return X, y
