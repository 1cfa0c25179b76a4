"""Validation of sequence input: the one owner of what ``X`` may be.

Three formats are accepted everywhere:

* a 3-D array ``(n_samples, n_timesteps, n_features)``;
* a 2-D array ``(n_samples, n_timesteps)``: univariate sequences;
* a list, tuple or 1-D object array of ``(T_i, n_features)`` or ``(T_i,)``
  arrays whose lengths ``T_i`` may differ ("ragged").

Every format is turned into one :class:`Sequences` value: a zero-padded 3-D
array plus the true length of each sequence, and the format it came in so that
transformers can hand back what they were given. scikit-learn's
``validate_data`` is deliberately not used on 3-D input: it would take the
number of time steps for the number of features.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

FORMATS = ("3d", "2d", "ragged")

# Array dtypes that are not numbers, although NumPy casts them to float.
NON_NUMERIC_KINDS = {
    "U": "strings",
    "S": "bytes",
    "M": "dates",
    "m": "time differences",
    "V": "raw or structured records",
}


class Sequences(NamedTuple):
    """Validated sequences in one canonical layout.

    Attributes
    ----------
    padded : ndarray of shape (n_samples, max_length, n_features)
        The sequences, zero after each sequence's own length.
    lengths : ndarray of shape (n_samples,), dtype int64
        The number of real time steps of each sequence (all >= 1).
    format : {"3d", "2d", "ragged"}
        How the sequences were given.
    """

    padded: np.ndarray
    lengths: np.ndarray
    format: str

    @property
    def n_samples(self):
        return self.padded.shape[0]

    @property
    def n_features(self):
        return self.padded.shape[2]


def _float_dtype(array, dtype):
    """The floating dtype to convert ``array`` to (``dtype=None`` keeps float32/64)."""
    if dtype is not None:
        return np.dtype(dtype)
    if array.dtype in (np.float32, np.float64):
        return array.dtype
    return np.dtype(np.float64)


def as_float_array(x, dtype, what):
    """Convert one array-like to a float array, with errors that name ``what``."""
    if sp.issparse(x):
        raise TypeError(
            f"{what} is a sparse matrix, but sparse input is not supported: "
            "sequences must be dense. Convert it with X.toarray()."
        )
    try:
        array = np.asarray(x)
    except ValueError as exc:  # inhomogeneous nested lists
        raise ValueError(
            f"{what} could not be read as an array ({exc}). Pass a 3-D array, a "
            "2-D array, or a list of (T_i, n_features) arrays."
        ) from exc
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported: {what} has dtype {array.dtype}.")
    if array.dtype.kind in NON_NUMERIC_KINDS:
        # NumPy would convert these silently ("1.5" -> 1.5, dates -> days since 1970).
        raise TypeError(
            f"{what} has dtype {array.dtype} ({NON_NUMERIC_KINDS[array.dtype.kind]}), but "
            "sequences must hold numbers. Encode non-numeric features as numbers first."
        )
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)  # object: Python numbers
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(
                f"{what} must hold numbers, but it has dtype {array.dtype} and "
                f"converting it failed: {exc}. Encode non-numeric features first."
            ) from exc
    return cast_float(array, _float_dtype(array, dtype), what)


def cast_float(array, dtype, what):
    """``array`` as ``dtype``; finite values too large for it are an error, not infinity."""
    dtype = np.dtype(dtype)
    try:
        with np.errstate(over="raise"):
            return array.astype(dtype, copy=False)
    except FloatingPointError:
        largest = np.nanmax(np.abs(array[np.isfinite(array)]))
        raise ValueError(
            f"{what} holds values too large for {dtype}: the largest magnitude is "
            f"{largest:.3g}, and {dtype} holds at most {np.finfo(dtype).max:.3g}. Rescale "
            "them first."
        ) from None


def _check_finite(array, what):
    if not np.isfinite(array).all():
        kind = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(
            f"Input {what} contains {kind}. Sequences must be finite: drop or "
            "impute the missing values first."
        )


def _check_ragged(X, dtype, input_name):
    """Validate a list of (T_i, n_features) or (T_i,) arrays and pad it."""
    if len(X) == 0:
        raise ValueError(
            f"Found an empty {input_name}: 0 sequences, while at least 1 is required."
        )
    arrays = []
    for i, seq in enumerate(X):
        what = f"{input_name}[{i}]"
        array = as_float_array(seq, dtype, what)
        if array.ndim == 1:
            array = array[:, None]
        elif array.ndim != 2:
            raise ValueError(
                f"{what} has {array.ndim} dimension(s) {array.shape}; each sequence of a "
                "list must be (T_i, n_features) or (T_i,)."
            )
        if array.shape[0] == 0:
            raise ValueError(
                f"{what} is a sequence of length 0; every sequence needs at least "
                "one time step."
            )
        arrays.append(array)
    n_features = {a.shape[1] for a in arrays}
    if len(n_features) > 1:
        counts = [a.shape[1] for a in arrays]
        first_odd = next(i for i, c in enumerate(counts) if c != counts[0])
        raise ValueError(
            f"The sequences in {input_name} have different numbers of features: "
            f"{input_name}[0] has {counts[0]} and {input_name}[{first_odd}] has "
            f"{counts[first_odd]}. All time steps of all sequences need the same "
            "features."
        )
    out_dtype = np.result_type(*[a.dtype for a in arrays]) if dtype is None else dtype
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    padded = np.zeros((len(arrays), lengths.max(), arrays[0].shape[1]), dtype=out_dtype)
    for i, array in enumerate(arrays):
        padded[i, : lengths[i]] = array
    return padded, lengths


def check_sequences(X, *, dtype=np.float32, input_name="X", n_features=None):
    """Validate sequence input in any accepted format.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_timesteps), or list of array-like of shape (T_i, n_features)
        The sequences.
    dtype : dtype or None, default=np.float32
        Floating dtype of the result; None keeps float32/float64 input as it is
        and converts anything else to float64.
    input_name : str, default="X"
        Name used in error messages.
    n_features : int or None, default=None
        If given, the number of features per time step the sequences must have
        (the ``n_features_in_`` of a fitted estimator).

    Returns
    -------
    sequences : Sequences
        The padded array, the lengths and the input format. ``padded`` may be
        ``X`` itself or a view of it: copy before writing into it.
    """
    if X is None:
        raise ValueError(f"{input_name} is None; expected sequences.")
    if not isinstance(X, np.ndarray) and getattr(X, "ndim", None) == 1 and X.dtype == object:
        X = np.asarray(X)  # a pandas Series of sequences: a 1-D object array
    is_list = isinstance(X, (list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    )
    if is_list and len(X) > 0 and np.ndim(X[0]) == 0:
        # A flat list of numbers is 1-D data, rejected below with a reshape hint.
        is_list = False
    if is_list:
        padded, lengths = _check_ragged(X, dtype, input_name)
        fmt = "ragged"
    else:
        array = as_float_array(X, dtype, input_name)
        if array.ndim not in (2, 3):
            hint = (
                " Reshape your data: X.reshape(1, -1) if it is one univariate "
                "sequence, X.reshape(-1, 1) if it is one value per sample (sequences "
                "of length 1)."
                if array.ndim == 1
                else ""
            )
            raise ValueError(
                f"Expected a 2-D array (n_samples, n_timesteps), a 3-D array "
                f"(n_samples, n_timesteps, n_features) or a list of sequences, but "
                f"{input_name} has {array.ndim} dimension(s) {array.shape}.{hint}"
            )
        fmt = "2d" if array.ndim == 2 else "3d"
        padded = array[:, :, None] if array.ndim == 2 else array
        if padded.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={array.shape}) while a minimum "
                "of 1 is required."
            )
        if padded.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 time step(s) (shape={array.shape}); every "
                "sequence needs at least one time step."
            )
        if padded.shape[2] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={array.shape}) while a "
                "minimum of 1 is required."
            )
        lengths = np.full(padded.shape[0], padded.shape[1], dtype=np.int64)
    _check_finite(padded, input_name)
    if n_features is not None and padded.shape[2] != n_features:
        raise ValueError(
            f"{input_name} has {padded.shape[2]} features per time step, but the "
            f"estimator was fitted with {n_features} features per time step."
        )
    # Writeable too: torch warns about every read-only array it wraps (pandas, mmap input).
    return Sequences(np.require(padded, requirements=["C", "W"]), lengths, fmt)
