"""Validation of per-step targets: one label or value for every time step (NumPy only).

The many-to-many aligned estimators take ``y`` with a target per time step of
each sequence, in the same formats as ``X``:

* a list (or 1-D object array) of ``(T_i,)`` label or value sequences, or of
  ``(T_i, n_outputs)`` arrays (one vector per step) where vectors are allowed;
* a 2-D array ``(n_samples, n_timesteps)`` for sequences of equal length;
* a 3-D array ``(n_samples, n_timesteps, n_outputs)`` where vectors are allowed.

:func:`check_step_targets` splits ``y`` into one array per sequence,
:func:`check_step_lengths` checks that each has its sequence's length, and
:func:`pad_steps` pads them into one array with a marker (``IGNORE`` for
labels, NaN for values) that the losses and metrics skip.
"""

import numpy as np
import scipy.sparse as sp

from ._validation import NON_NUMERIC_KINDS, cast_float

# Padded label codes: torch's default ``ignore_index`` of the cross-entropy.
IGNORE = -100


def as_float32(values, what):
    """Real-valued targets as a float32 array, or a ``ValueError`` naming ``what``.

    Strings and dates are refused (NumPy would parse or count them), and so are
    finite values too large for float32 (NumPy would make them infinite).
    """
    try:
        array = np.asarray(values)
        if array.dtype.kind in NON_NUMERIC_KINDS or np.iscomplexobj(array):
            raise TypeError(f"{what} has dtype {array.dtype}")
        array = array.astype(np.float64, copy=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{what} must hold numbers for regression: {exc}") from exc
    return cast_float(array, np.float32, what)


def _one_per_sequence_hint(alternative):
    return f" For one target per sequence, use {alternative}." if alternative else ""


def check_step_targets(y, *, vectors=False, input_name="y", alternative=None):
    """``y`` as one array per sequence, and the length of each.

    Parameters
    ----------
    y : list of array-like of shape (T_i,) or (T_i, n_outputs), or array-like \
            of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_outputs)
        Per-step targets.
    vectors : bool, default=False
        Whether a step's target may be a vector (``(T_i, n_outputs)`` items,
        3-D arrays). All steps must then have the same ``n_outputs``.
    input_name : str, default="y"
        Name used in error messages.
    alternative : str or None, default=None
        The estimator to suggest when ``y`` has one target per sequence.

    Returns
    -------
    arrays : list of ndarray
        One ``(T_i,)`` or ``(T_i, n_outputs)`` array per sequence (views where
        possible: copy before writing).
    lengths : ndarray of shape (n_samples,), dtype int64
        ``T_i`` of each sequence.
    """
    max_ndim = 2 if vectors else 1
    shape_text = "(T_i,) or (T_i, n_outputs)" if vectors else "(T_i,)"
    if y is None:
        raise ValueError(f"{input_name} is None; expected one target per time step.")
    if sp.issparse(y):
        raise TypeError(f"{input_name} is a sparse matrix; per-step targets must be dense.")
    is_list = isinstance(y, (list, tuple)) or (
        isinstance(y, np.ndarray) and y.dtype == object and y.ndim == 1
    )
    if is_list and len(y) and np.ndim(y[0]) == 0:
        is_list = False  # a flat list: one target per sequence, rejected below
    if is_list:
        if len(y) == 0:
            raise ValueError(f"{input_name} is empty: at least one target sequence is required.")
        arrays = []
        for i, seq in enumerate(y):
            try:
                array = np.asarray(seq)
            except ValueError as exc:
                raise ValueError(f"{input_name}[{i}] could not be read as an array: {exc}") from exc
            if array.ndim == 0 or array.ndim > max_ndim:
                raise ValueError(
                    f"{input_name}[{i}] has shape {array.shape}, but each target sequence must "
                    f"be {shape_text}: one target per time step of X[{i}]."
                    + _one_per_sequence_hint(alternative)
                )
            if len(array) == 0:
                raise ValueError(
                    f"{input_name}[{i}] is a sequence of length 0; every sequence needs at "
                    "least one time step."
                )
            arrays.append(array)
    else:
        try:
            array = np.asarray(y)
        except ValueError as exc:
            raise ValueError(f"{input_name} could not be read as an array: {exc}") from exc
        if array.ndim < 2 or array.ndim > max_ndim + 1:
            expected = "(n_samples, n_timesteps)" + (
                " or (n_samples, n_timesteps, n_outputs)" if vectors else ""
            )
            raise ValueError(
                f"{input_name} has shape {array.shape}, but per-step targets must be a list "
                f"of {shape_text} sequences or an array of shape {expected}."
                + _one_per_sequence_hint(alternative)
            )
        if array.shape[0] == 0 or array.shape[1] == 0:
            raise ValueError(
                f"{input_name} has shape {array.shape}: at least one sequence of at least "
                "one time step is required."
            )
        arrays = list(array)
    if vectors:
        widths = [1 if a.ndim == 1 else a.shape[1] for a in arrays]
        odd = next((i for i, w in enumerate(widths) if w != widths[0]), None)
        if odd is not None:
            raise ValueError(
                f"The target sequences have different numbers of outputs: {input_name}[0] "
                f"has {widths[0]} and {input_name}[{odd}] has {widths[odd]}."
            )
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    return arrays, lengths


def check_step_lengths(x_lengths, y_lengths, *, x_name="X", y_name="y"):
    """Raise a ``ValueError`` naming the first sequence whose target count is not its length."""
    if len(x_lengths) != len(y_lengths):
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{x_name} has {len(x_lengths)} sequences but {y_name} has {len(y_lengths)}."
        )
    bad = np.flatnonzero(np.asarray(x_lengths) != np.asarray(y_lengths))
    if len(bad):
        i = bad[0]
        raise ValueError(
            f"{y_name}[{i}] has {y_lengths[i]} targets but {x_name}[{i}] has {x_lengths[i]} "
            f"time steps: every time step needs exactly one target ({len(bad)} of "
            f"{len(x_lengths)} sequences differ)."
        )


def pad_steps(arrays, lengths, *, fill, dtype):
    """Stack ``arrays`` into ``(n_samples, max_length, ...)``, ``fill`` after each length."""
    tail = arrays[0].shape[1:]
    padded = np.full((len(arrays), int(lengths.max()), *tail), fill, dtype=dtype)
    for i, array in enumerate(arrays):
        padded[i, : lengths[i]] = array
    return padded


def padded_lengths(padded):
    """The lengths of a :func:`pad_steps` array, from its marker (``IGNORE`` or NaN)."""
    if padded.dtype.kind == "f":
        real = ~np.isnan(padded)
    else:
        real = padded != IGNORE
    real = real.reshape(real.shape[0], real.shape[1], -1).all(axis=2)  # (N, T)
    return real.sum(axis=1)
