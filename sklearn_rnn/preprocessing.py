"""Transformers for sequences: scaling, fixed-length padding, windows of a series.

scikit-learn's own scalers reject 3-D and ragged input, and a
``StandardScaler`` applied to a 2-D ``(n_samples, n_timesteps)`` array would
scale each time step separately. The transformers here accept the three
sequence formats of sklearn-rnn (a 3-D array, a 2-D array of univariate
sequences, a list of sequences of different lengths) and treat the last axis
as the features of one time step.

Neither defines ``get_feature_names_out``: the columns of a 2-D output are
time steps, and a 3-D array or a list cannot become a DataFrame, so
``set_output`` is not offered and ``transform_output="pandas"`` leaves the
output as it is.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._char_encoder import CharOneHotEncoder
from ._sequence import to_format
from ._validation import Sequences, check_sequences
from ._windows import SlidingWindows, make_windows

__all__ = [
    "CharOneHotEncoder",
    "SequencePadder",
    "SequenceScaler",
    "SlidingWindows",
    "make_windows",
]


def _real_steps(sequences):
    """All real time steps as one ``(n_steps, n_features)`` array, padding left out."""
    padded, lengths, _ = sequences
    if np.all(lengths == padded.shape[1]):
        return padded.reshape(-1, padded.shape[2])  # a view: nothing is padded
    return padded[np.arange(padded.shape[1]) < lengths[:, None]]


def _one_d_items(X, sequences):
    """For a ragged ``X``, which sequences were given as 1-D ``(T_i,)`` arrays.

    ``check_sequences`` turns them into ``(T_i, 1)``; this lets a transformer
    hand each sequence back with the number of dimensions it came with.
    """
    if sequences.format != "ragged":
        return None
    return [np.ndim(seq) == 1 for seq in X]


def _as_given(sequences, one_d):
    """``to_format`` that also gives 1-D sequences of a list back as 1-D."""
    out = to_format(sequences)
    if one_d is not None:
        out = [seq[:, 0] if flat else seq for seq, flat in zip(out, one_d)]
    return out


def _sequence_tags(tags, preserves_dtype):
    tags.input_tags.three_d_array = True
    tags.input_tags.allow_nan = False
    tags.transformer_tags.preserves_dtype = preserves_dtype
    return tags


class SequenceScaler(TransformerMixin, BaseEstimator):
    """Standardize each feature over all time steps of all sequences.

    The mean and standard deviation of each feature are taken over every real
    time step of every sequence: the padding that makes a ragged list fit in
    one array never enters them, so a list of sequences is scaled exactly as
    :class:`~sklearn.preprocessing.StandardScaler` would scale the
    concatenation of its time steps. A 2-D ``X`` holds univariate sequences
    ``(n_samples, n_timesteps)``: it has one feature, not ``n_timesteps``.

    Parameters
    ----------
    with_mean : bool, default=True
        If True, center each feature before scaling.
    with_std : bool, default=True
        If True, scale each feature to unit variance.
    copy : bool, default=True
        If False, scale a 2-D or 3-D float array in place where possible. A
        list is always copied (it is padded into a new array).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,) or None
        Mean of each feature over all real time steps. None when both
        ``with_mean`` and ``with_std`` are False.
    var_ : ndarray of shape (n_features,) or None
        Variance of each feature over all real time steps. None when
        ``with_std=False``.
    scale_ : ndarray of shape (n_features,) or None
        Scaling factor of each feature, ``np.sqrt(var_)``, with 1 for
        constant features. None when ``with_std=False``.
    n_features_in_ : int
        Number of features per time step seen in :meth:`fit` (the last axis of
        a 3-D ``X``; 1 for a 2-D ``X`` or a list of 1-D sequences).
    n_samples_seen_ : int
        Number of time steps (not sequences) seen; summed over calls to
        :meth:`partial_fit`.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same for one row per sample.
    SequencePadder : Pad or truncate sequences to one length.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn.preprocessing import SequenceScaler
    >>> X = [np.array([1.0, 3.0, 1.0]), np.array([3.0])]
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_, scaler.scale_, scaler.n_samples_seen_
    (array([2.]), array([1.]), 4)
    >>> scaler.transform(X)
    [array([-1.,  1., -1.]), array([1.])]
    >>> X3 = np.arange(24.0).reshape(2, 4, 3)
    >>> SequenceScaler().fit_transform(X3).shape
    (2, 4, 3)
    """

    _parameter_constraints: dict = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, *, with_mean=True, with_std=True, copy=True):
        self.with_mean = with_mean
        self.with_std = with_std
        self.copy = copy

    def _reset(self):
        for name in ("mean_", "var_", "scale_", "n_samples_seen_", "n_features_in_"):
            if hasattr(self, name):
                delattr(self, name)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the mean and standard deviation of each feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like of shape \
                (T_i, n_features) or (T_i,)
            The sequences.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        self._reset()
        return self.partial_fit(X, y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the mean and standard deviation with more sequences.

        Batches are combined with the pairwise update of Chan, Golub and
        LeVeque (1983), as in :meth:`sklearn.preprocessing.StandardScaler.partial_fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like of shape \
                (T_i, n_features) or (T_i,)
            The sequences.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        first_call = not hasattr(self, "n_samples_seen_")
        sequences = check_sequences(
            X, dtype=None, n_features=None if first_call else self.n_features_in_
        )
        steps = _real_steps(sequences)
        n_old = 0 if first_call else self.n_samples_seen_
        n_new = steps.shape[0]
        n = n_old + n_new

        mean = var = None
        # The mean is needed for the variance even when it is not subtracted.
        if self.with_mean or self.with_std:
            # float64 accumulators, as StandardScaler, also for float32 input.
            batch_mean = steps.mean(axis=0, dtype=np.float64)
            old_mean = self.mean_ if n_old else 0.0
            delta = batch_mean - old_mean
            mean = old_mean + delta * (n_new / n)
            if self.with_std:
                batch_m2 = ((steps - batch_mean) ** 2).sum(axis=0)
                old_m2 = self.var_ * n_old if n_old else 0.0
                var = (old_m2 + batch_m2 + delta**2 * (n_old * n_new / n)) / n

        self.n_features_in_ = sequences.n_features
        self.n_samples_seen_ = int(n)
        self.mean_ = mean
        self.var_ = var
        self.scale_ = None if var is None else _scale(var, mean, n)
        return self

    def transform(self, X, copy=None):
        """Center and scale each feature of every time step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like of shape \
                (T_i, n_features) or (T_i,)
            The sequences.
        copy : bool, default=None
            Copy the input or not; None uses the ``copy`` parameter.

        Returns
        -------
        X_tr : ndarray or list of ndarray
            The scaled sequences in the format of ``X``: a 3-D array, a 2-D
            array, or a list with each sequence's own length and number of
            dimensions. float32 and float64 are kept; other dtypes become
            float64.
        """
        return self._apply(X, copy, inverse=False)

    def inverse_transform(self, X, copy=None):
        """Undo the scaling: multiply by ``scale_`` and add ``mean_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like of shape \
                (T_i, n_features) or (T_i,)
            Scaled sequences.
        copy : bool, default=None
            Copy the input or not; None uses the ``copy`` parameter.

        Returns
        -------
        X_original : ndarray or list of ndarray
            The sequences on their original scale, in the format of ``X``.
        """
        return self._apply(X, copy, inverse=True)

    def _apply(self, X, copy, inverse):
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        sequences = check_sequences(X, dtype=None, n_features=self.n_features_in_)
        padded = sequences.padded
        # A ragged list was padded into a new array, so it is ours to modify.
        in_place = sequences.format == "ragged" or (
            not copy and padded.flags.writeable
        )
        if not in_place:
            padded = padded.copy()
        # The padding is scaled too, but to_format drops it again.
        if inverse:
            if self.with_std:
                padded *= self.scale_.astype(padded.dtype)
            if self.with_mean:
                padded += self.mean_.astype(padded.dtype)
        else:
            if self.with_mean:
                padded -= self.mean_.astype(padded.dtype)
            if self.with_std:
                padded /= self.scale_.astype(padded.dtype)
        sequences = Sequences(padded, sequences.lengths, sequences.format)
        return _as_given(sequences, _one_d_items(X, sequences))

    def __sklearn_tags__(self):
        return _sequence_tags(super().__sklearn_tags__(), ["float64", "float32"])


def _scale(var, mean, n_samples):
    """Standard deviations, with 1 for features indistinguishable from constant.

    The bound on the rounding error of the two-pass variance is the one
    scikit-learn's ``StandardScaler`` uses (Chan, Golub and LeVeque), repeated
    here because scikit-learn's helper is private.
    """
    eps = np.finfo(np.float64).eps
    constant = var <= n_samples * eps * var + (n_samples * mean * eps) ** 2
    scale = np.sqrt(var)
    scale[constant] = 1.0
    return scale


def _pad_or_truncate(padded, lengths, length, padding, truncating, value):
    """Gather every sequence into ``length`` steps, filling the rest with ``value``."""
    n_samples, max_len, _ = padded.shape
    kept = np.minimum(lengths, length)  # (n,)
    src_start = lengths - kept if truncating == "pre" else np.zeros_like(lengths)
    dst_start = length - kept if padding == "pre" else np.zeros_like(lengths)
    offset = np.arange(length)[None, :] - dst_start[:, None]  # (n, length)
    real = (offset >= 0) & (offset < kept[:, None])  # (n, length)
    src = np.clip(src_start[:, None] + offset, 0, max_len - 1)  # (n, length)
    out = padded[np.arange(n_samples)[:, None], src]  # (n, length, n_features)
    out[~real] = value
    return out


class SequencePadder(TransformerMixin, BaseEstimator):
    """Pad or truncate every sequence to the same number of time steps.

    Pre/post padding and truncation follow Keras' ``pad_sequences``. The
    estimators of sklearn-rnn take ragged lists as they are, so they do not
    need this transformer; use it for estimators that need one fixed length.

    .. warning::
        The steps this transformer adds are real time steps for whatever comes
        next: a recurrent network will run over them, so padding changes its
        results (and truncation drops data). To keep the true lengths, give
        the ragged list to sklearn-rnn's estimators directly.

    Parameters
    ----------
    length : int, default=None
        Number of time steps of the output. None uses the longest sequence
        seen in :meth:`fit`.
    padding : {"post", "pre"}, default="post"
        Add the missing steps after ("post") or before ("pre") each sequence.
    truncating : {"post", "pre"}, default="post"
        Drop the extra steps of a long sequence from its end ("post") or its
        beginning ("pre").
    value : float, default=0.0
        Value of every feature at an added step. ``np.nan`` is allowed, for
        a downstream estimator that treats NaN as missing.

    Attributes
    ----------
    length_ : int
        Number of time steps of the output.
    n_features_in_ : int
        Number of features per time step seen in :meth:`fit` (the last axis of
        a 3-D ``X``; 1 for a 2-D ``X`` or a list of 1-D sequences).

    See Also
    --------
    SequenceScaler : Standardize features over all real time steps.

    Notes
    -----
    The output keeps the number of dimensions of the sequences it was given:
    a 3-D array or a list of ``(T_i, n_features)`` sequences gives a 3-D array
    ``(n_samples, length_, n_features)``; a 2-D array or a list of 1-D
    sequences gives a 2-D array ``(n_samples, length_)``. float32 and float64
    are kept; other dtypes become float64.

    Examples
    --------
    >>> from sklearn_rnn.preprocessing import SequencePadder
    >>> X = [[1, 2, 3], [4, 5], [6]]
    >>> SequencePadder().fit_transform(X)
    array([[1., 2., 3.],
           [4., 5., 0.],
           [6., 0., 0.]])
    >>> SequencePadder(2, padding="pre", truncating="pre").fit_transform(X)
    array([[2., 3.],
           [4., 5.],
           [0., 6.]])
    """

    _parameter_constraints: dict = {
        "length": [Interval(Integral, 1, None, closed="left"), None],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "value": [Real],
    }

    def __init__(self, length=None, *, padding="post", truncating="post", value=0.0):
        self.length = length
        self.padding = padding
        self.truncating = truncating
        self.value = value

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the output length and the number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like of shape \
                (T_i, n_features) or (T_i,)
            The sequences.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted padder.
        """
        sequences = check_sequences(X, dtype=None)
        self.n_features_in_ = sequences.n_features
        self.length_ = (
            int(sequences.lengths.max()) if self.length is None else int(self.length)
        )
        return self

    def transform(self, X):
        """Pad or truncate each sequence to ``length_`` time steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of array-like of shape \
                (T_i, n_features) or (T_i,)
            The sequences.

        Returns
        -------
        X_padded : ndarray of shape (n_samples, ``length_``, n_features) or \
                (n_samples, ``length_``)
            2-D if ``X`` is 2-D or a list of 1-D sequences, 3-D otherwise.
        """
        check_is_fitted(self)
        sequences = check_sequences(X, dtype=None, n_features=self.n_features_in_)
        out = _pad_or_truncate(
            sequences.padded,
            sequences.lengths,
            self.length_,
            self.padding,
            self.truncating,
            self.value,
        )
        one_d = _one_d_items(X, sequences)
        if sequences.format == "2d" or (one_d is not None and all(one_d)):
            return out[:, :, 0]
        return out

    def __sklearn_tags__(self):
        return _sequence_tags(super().__sklearn_tags__(), ["float64", "float32"])
