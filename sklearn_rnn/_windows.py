"""Sliding windows over time series: the one owner of windowing (NumPy only).

A *series* here is one stretch of time, ``(n_timesteps,)`` or
``(n_timesteps, n_series)``: rows are time steps. Windows of it are
sequences in the package's 3-D format, ``(n_windows, window, n_features)``,
ready for the recurrent estimators.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._validation import NON_NUMERIC_KINDS


def check_series(series, *, name="series", n_columns=None, owner=None):
    """Validate one time series; return ``(array of shape (n_timesteps, n_columns), was_1d)``.

    Float64, finite, at least one time step; ``n_columns``, if given, is the
    number of columns it must have (``owner`` names who expects them).
    """
    if sp.issparse(series):
        raise TypeError(f"{name} is a sparse matrix; pass a dense array (series.toarray()).")
    array = np.asarray(series)
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}.")
    if array.dtype.kind in NON_NUMERIC_KINDS:  # NumPy would parse strings and count dates
        raise ValueError(
            f"{name} has dtype {array.dtype} ({NON_NUMERIC_KINDS[array.dtype.kind]}), but a "
            "series must hold numbers. Encode it as numbers first."
        )
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise (TypeError if isinstance(exc, TypeError) else ValueError)(
            f"{name} must be an array of numbers of shape (n_timesteps,) or "
            f"(n_timesteps, n_columns), but converting it to float failed: {exc}"
        ) from exc
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n_timesteps,) or 2-D (n_timesteps, n_columns), with time "
            f"steps as rows, but has shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is "
            f"required: {name} has no time steps."
        )
    if array.ndim == 2 and array.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={array.shape}) while a minimum of 1 is "
            f"required: {name} has no columns."
        )
    was_1d = array.ndim == 1
    array = array.reshape(len(array), -1)  # (T, n_columns)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity; impute or drop those steps first.")
    if n_columns is not None and array.shape[1] != n_columns:
        owner = owner or "the estimator"
        if was_1d:
            raise ValueError(
                f"{name} is 1-D (one series), but {owner} was fitted on {n_columns} columns. "
                f"Reshape your data to (n_timesteps, {n_columns})."
            )
        raise ValueError(
            f"{name} has {array.shape[1]} features, but {owner} is expecting {n_columns} "
            "features as input (one column per series)."
        )
    return array, was_1d


def sliding(steps, window):
    """Runs of ``window`` consecutive rows of ``steps`` (T, F): ``(T - window + 1, window, F)``."""
    view = np.lib.stride_tricks.sliding_window_view(steps, window, axis=0)  # (n, F, window)
    return np.ascontiguousarray(view.transpose(0, 2, 1))  # (n, window, F)


def step_inputs(series, exog, horizon):
    """The network's input at each step ``s``: ``series[s]`` beside ``exog[s+1 : s+1+horizon]``.

    ``series`` is ``(n, S)`` and ``exog`` ``(n + horizon, E)`` or None; the
    result is ``(n, S + horizon * E)``. The exogenous values of the steps
    being predicted are known (they are inputs), so a window ending at ``s``
    carries those of ``s+1, ..., s+horizon``.
    """
    if exog is None:
        return series
    leads = sliding(exog[1:], horizon)  # (n, horizon, E)
    return np.concatenate([series, leads.reshape(len(series), -1)], axis=1)  # (n, S + H*E)


def _check_window(window, n_timesteps, name, needed):
    if n_timesteps < needed:
        raise ValueError(
            f"{name} has {n_timesteps} time steps, too few for one window: window={window} "
            f"needs at least {needed}. Use a smaller window or a longer series."
        )


@validate_params(
    {
        "series": ["array-like"],
        "window": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "exog": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(series, window, horizon=1, *, exog=None):
    """Training pairs ``(X, y)`` for forecasting: each window and the steps after it.

    Window ``i`` is ``series[i : i + window]``; its target is the next
    ``horizon`` steps, ``series[i + window : i + window + horizon]``. Every
    window with a full target is made, ``n_timesteps - window - horizon + 1``
    of them. ``X`` is in the 3-D sequence format of the recurrent estimators,
    so ``RecurrentRegressor().fit(X, y)`` learns to forecast.

    Parameters
    ----------
    series : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
        One or several aligned series, time steps as rows.
    window : int
        Time steps per input window.
    horizon : int, default=1
        Time steps to predict after each window.
    exog : array-like of shape (n_timesteps, n_exog), default=None
        Exogenous features aligned with ``series`` (a 1-D array is one
        feature). They are known ahead, so the input step at time ``s`` holds
        ``series[s]`` followed by ``exog[s + 1], ..., exog[s + horizon]``
        (flattened step by step): the last step of a window carries the
        exogenous values of the ``horizon`` steps being predicted.

    Returns
    -------
    X : ndarray of shape (n_windows, window, n_series + horizon * n_exog)
        The input windows, float64.
    y : ndarray of shape (n_windows,) or (n_windows, horizon * n_series)
        The targets: 1-D for a 1-D series and ``horizon=1``; otherwise the
        ``horizon`` steps one after the other, so that
        ``y.reshape(n_windows, horizon, n_series)`` separates them.

    See Also
    --------
    SlidingWindows : The windows alone, as a transformer.
    RNNForecaster : Forecasting built on these windows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn.preprocessing import make_windows
    >>> X, y = make_windows(np.arange(6.0), window=3)
    >>> X.shape, X[0, :, 0], y
    ((3, 3, 1), array([0., 1., 2.]), array([3., 4., 5.]))
    >>> X, y = make_windows(np.arange(6.0), window=3, horizon=2)
    >>> y
    array([[3., 4.],
           [4., 5.]])
    """
    series, was_1d = check_series(series)
    n_timesteps = len(series)
    _check_window(window, n_timesteps, "series", window + horizon)
    if exog is not None:
        exog, _ = check_series(exog, name="exog")
        if len(exog) != n_timesteps:
            raise ValueError(
                f"exog has {len(exog)} time steps but series has {n_timesteps}; "
                "they must be aligned, one row per time step."
            )
    steps = step_inputs(series[: n_timesteps - horizon], exog, horizon)  # (T - H, F)
    X = sliding(steps, window)  # (n_windows, window, F)
    y = sliding(series[window:], horizon).reshape(len(X), -1)  # (n_windows, H * S)
    return X, (y[:, 0] if was_1d and horizon == 1 else y)


class SlidingWindows(TransformerMixin, BaseEstimator):
    """Turn one time series into all its windows of ``window`` consecutive steps.

    ``transform(series)`` returns ``series[i : i + window]`` for every ``i``,
    including the most recent window, the one to forecast from. The windows
    are sequences in the 3-D format of the recurrent estimators.

    scikit-learn pipelines cannot change ``y``, so this transformer makes no
    targets: use :func:`make_windows` for training pairs ``(X, y)``, and this
    transformer where only windows are needed (at prediction time, or to
    embed windows with a fitted network's ``transform``).

    Parameters
    ----------
    window : int, default=12
        Time steps per window.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns (series) seen in :meth:`fit`.

    See Also
    --------
    make_windows : Windows and the steps that follow each, for training.

    Notes
    -----
    Unlike the rest of sklearn-rnn, the input here is one series with time
    steps as rows: a 2-D ``(n_timesteps, n_series)`` array is several aligned
    series, not several sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn.preprocessing import SlidingWindows
    >>> windows = SlidingWindows(window=3).fit_transform(np.arange(5.0))
    >>> windows.shape
    (3, 3, 1)
    >>> windows[-1, :, 0]
    array([2., 3., 4.])
    """

    _parameter_constraints: dict = {"window": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, window=12):
        self.window = window

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number of series.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
            The series, time steps as rows.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        series, _ = check_series(X, name="X")
        _check_window(self.window, len(series), "X", self.window)
        self.n_features_in_ = series.shape[1]
        return self

    def transform(self, X):
        """All windows of ``window`` consecutive time steps, oldest first.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
            The series, time steps as rows.

        Returns
        -------
        X_windows : ndarray of shape (n_timesteps - window + 1, window, n_series)
            The windows, float64.
        """
        check_is_fitted(self)
        series, _ = check_series(
            X, name="X", n_columns=self.n_features_in_, owner=type(self).__name__
        )
        _check_window(self.window, len(series), "X", self.window)
        return sliding(series, self.window)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
