"""Forecasting time series with a recurrent network, and a seasonal-naive baseline.

:class:`RNNForecaster` owns no network code: it cuts the series into windows
with :func:`~sklearn_rnn.preprocessing.make_windows` and fits a private
:class:`~sklearn_rnn.RecurrentRegressor` on them, whose output is the next
step (``strategy="recursive"``) or the next ``horizon`` steps
(``strategy="direct"``).
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ._estimators._base import BaseRecurrent
from ._persistence import PersistenceMixin
from ._windows import check_series, make_windows, step_inputs

__all__ = ["RNNForecaster", "SeasonalNaiveForecaster", "mean_absolute_scaled_error"]

# The RecurrentRegressor parameters that RNNForecaster passes through.
_NETWORK_PARAMS = (
    "cell",
    "hidden_size",
    "num_layers",
    "bidirectional",
    "dropout",
    "max_iter",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "device",
    "backend",
    "random_state",
    "verbose",
)


def _check_horizon(horizon):
    if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}.")
    return int(horizon)


def _check_y(estimator, y):
    series, was_1d = check_series(y, name="y")
    estimator.n_series_ = series.shape[1]
    estimator._y_is_1d = was_1d
    return series


def _check_exog(X, n_timesteps, name="X"):
    exog, _ = check_series(X, name=name)
    if len(exog) != n_timesteps:
        raise ValueError(
            f"{name} has {len(exog)} time steps but y has {n_timesteps}; the exogenous "
            "features must be aligned with y, one row per time step."
        )
    return exog


def _network_input(values, name, *moments):
    """``values`` (differenced and standardised) if the float32 network can read them and
    the ``moments`` they were standardised with are finite."""
    readable = (np.abs(values) <= np.finfo(np.float32).max).all()  # NaN fails too
    if not (readable and all(np.isfinite(moment).all() for moment in moments)):
        raise ValueError(
            f"{name} holds values too large for the network: differenced and standardised "
            "(with the training data's mean and scale), some overflow or exceed float32's "
            f"range of +-3.4e38. Rescale {name} first."
        )
    return values


def _as_given(estimator, forecast):
    """``(horizon, n_series)`` -> ``(horizon,)`` when the model was fitted on a 1-D ``y``."""
    return forecast[:, 0] if estimator._y_is_1d else forecast


class RNNForecaster(PersistenceMixin, BaseEstimator):
    """Recurrent neural network forecaster of one or several time series.

    Cuts the series into windows of ``window`` steps and trains a
    :class:`~sklearn_rnn.RecurrentRegressor` to predict what follows each
    window, then forecasts from the last window of the series:

    * ``strategy="recursive"``: the network predicts one step; ``predict``
      feeds each prediction back as the newest step of the window, so any
      horizon can be asked for. Errors can compound over long horizons.
    * ``strategy="direct"``: the network's output layer predicts all
      ``horizon`` steps at once from the same window (a multi-output head).
      No prediction is fed back, but ``horizon`` is fixed at fit, and
      ``predict`` gives at most that many steps.

    Series are standardised internally (``standardize=True``), and
    forecasts come back on the original scale. A network extrapolates a
    trend badly (its inputs leave the range it was trained on): for a
    trending series set ``difference=1``, so that it learns the step-to-step
    changes, which are summed back onto the last value. A series whose
    seasonal swing grows with its level (multiplicative seasonality, such as
    airline passengers) is best fitted on its logarithm: ``fit(np.log(y))``,
    then ``np.exp(predict(horizon))``.

    Parameters
    ----------
    window : int, default=12
        Time steps the network reads before forecasting. For a seasonal
        series, one or two seasons.
    horizon : int, default=1
        With ``strategy="direct"``, the number of steps the network predicts
        (``predict`` can ask for at most this many). Ignored by
        ``strategy="recursive"``, which forecasts any horizon one step at a
        time.
    strategy : {"recursive", "direct"}, default="recursive"
        How multi-step forecasts are made (see above).
    standardize : bool, default=True
        Standardise each series and each exogenous feature with its mean and
        standard deviation over the training data before windowing.
    difference : int, default=0
        Lag of the differences the network models: 0 models the series as
        it is; 1 the change from one step to the next (removes a trend, like
        the ``d`` of ARIMA); a season length (12 for monthly data) the change
        from the same step one season earlier. Forecast differences are
        summed back into levels, so ``predict`` returns levels either way.
    cell : str or type, default="lstm"
        Recurrent cell: "rnn", "lstm", "gru", a plugin's name, or a cell class.
    hidden_size : int, default=32
        Units per direction of each recurrent layer.
    num_layers : int, default=1
        Number of stacked recurrent layers.
    bidirectional : bool, default=False
        Whether the network also reads each window backwards.
    dropout : float, default=0.0
        Dropout between layers and before the output layer.
    max_iter : int, default=200
        Maximum number of epochs over the windows.
    batch_size : int, default=32
        Windows per gradient step.
    learning_rate : float, default=1e-2
        Step size of the Adam optimizer.
    weight_decay : float, default=0.0
        L2 penalty (weight decay) of the optimizer.
    device : str, default="cpu"
        Torch device to train and predict on.
    backend : {"auto", "torch", "numba"}, default="auto"
        Who computes the recurrent layers (see :class:`RecurrentRegressor`).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and the order of windows. Pass an int for
        reproducible forecasts.
    verbose : int, default=0
        0 prints nothing. 1: a tqdm progress bar over the epochs when stderr
        is a terminal or in a notebook, else a line of losses per epoch; 2 or
        more also a bar over each epoch's batches and the lines.

    Attributes
    ----------
    regressor_ : RecurrentRegressor
        The fitted network, on standardised windows; its ``loss_curve_`` and
        ``n_iter_`` describe training.
    n_series_ : int
        Number of series in ``y``.
    n_exog_ : int
        Number of exogenous features in ``X`` (0 when fitted without ``X``).
    last_window_ : ndarray of shape (window, n_series)
        The last ``window`` steps the network reads, where forecasts start:
        of ``y``, or of its differences when ``difference > 0``.
    y_mean_, y_scale_ : ndarray of shape (n_series,)
        Mean and standard deviation used to standardise ``y`` (or its
        differences); 0 and 1 when ``standardize=False``.
    X_mean_, X_scale_ : ndarray of shape (n_exog,) or None
        The same for ``X``; None when fitted without ``X``.

    See Also
    --------
    SeasonalNaiveForecaster : The baseline that repeats the last season.
    sklearn_rnn.preprocessing.make_windows : The windows and targets used here.

    Notes
    -----
    Several series ``(n_timesteps, n_series)`` are forecast jointly: each
    window holds all series, and the network outputs every series' next
    step(s). Exogenous features ``X`` are known inputs: the window ending at
    step ``t`` also carries ``X`` of the steps being predicted, so
    ``predict`` needs their future values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn.forecasting import RNNForecaster
    >>> y = np.sin(np.arange(120) * 2 * np.pi / 12)
    >>> forecaster = RNNForecaster(window=12, hidden_size=8, max_iter=20, random_state=0)
    >>> forecaster.fit(y).predict(6).shape
    (6,)
    >>> direct = RNNForecaster(strategy="direct", horizon=6, hidden_size=8, max_iter=20,
    ...                        random_state=0).fit(y)
    >>> direct.predict(3).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"recursive", "direct"})],
        "standardize": ["boolean"],
        "difference": [Interval(Integral, 0, None, closed="left")],
        **{name: BaseRecurrent._parameter_constraints[name] for name in _NETWORK_PARAMS},
    }

    def __init__(
        self,
        window=12,
        *,
        horizon=1,
        strategy="recursive",
        standardize=True,
        difference=0,
        cell="lstm",
        hidden_size=32,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        max_iter=200,
        batch_size=32,
        learning_rate=1e-2,
        weight_decay=0.0,
        device="cpu",
        backend="auto",
        random_state=None,
        verbose=0,
    ):
        self.window = window
        self.horizon = horizon
        self.strategy = strategy
        self.standardize = standardize
        self.difference = difference
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.device = device
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose

    def _steps_out(self):
        """Steps the network predicts from one window."""
        return self.horizon if self.strategy == "direct" else 1

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, y, X=None):
        """Train the network on every window of ``y`` and the steps after it.

        Parameters
        ----------
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
            The series to forecast, oldest first; several aligned series as
            columns.
        X : array-like of shape (n_timesteps,) or (n_timesteps, n_exog), default=None
            Exogenous features aligned with ``y`` (known in advance, e.g.
            calendar features). If given, :meth:`predict` needs their future
            values.

        Returns
        -------
        self : object
            The fitted forecaster.
        """
        from ._estimators import RecurrentRegressor

        levels = _check_y(self, y)
        exog = None if X is None else _check_exog(X, len(levels))
        steps_out, lag = self._steps_out(), self.difference
        if len(levels) < lag + self.window + steps_out:
            raise ValueError(
                f"y has {len(levels)} time steps, too few for difference={lag}, "
                f"window={self.window} and {steps_out} step(s) to predict: it needs at "
                f"least {lag + self.window + steps_out}."
            )
        # The network reads and predicts differences at lag `lag` (or the levels).
        with np.errstate(all="ignore"):  # checked by _network_input
            series = levels[lag:] - levels[:-lag] if lag else levels
            if lag and exog is not None:
                exog = exog[lag:]  # aligned with the differences
            self._last_levels = levels[len(levels) - lag :].copy()  # (lag, S): to sum back onto
            self.y_mean_, self.y_scale_ = self._moments(series)
            self.n_exog_ = 0 if exog is None else exog.shape[1]
            self.X_mean_, self.X_scale_ = (None, None) if exog is None else self._moments(exog)
            scaled_y = _network_input(self._scale_y(series), "y", self.y_mean_, self.y_scale_)
            scaled_X = None
            if exog is not None:
                scaled_X = _network_input(self._scale_X(exog), "X", self.X_mean_, self.X_scale_)
        windows, targets = make_windows(scaled_y, self.window, steps_out, exog=scaled_X)
        self.regressor_ = RecurrentRegressor(
            **{name: getattr(self, name) for name in _NETWORK_PARAMS}
        ).fit(windows, targets)  # targets: (n_windows, steps_out * n_series)
        self.last_window_ = series[-self.window :].copy()
        self._last_exog = None if exog is None else exog[-self.window :].copy()
        return self

    def _moments(self, array):
        if not self.standardize:
            return np.zeros(array.shape[1]), np.ones(array.shape[1])
        mean, scale = array.mean(axis=0), array.std(axis=0)
        # A constant column (up to rounding) is centred but not scaled.
        constant = scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)
        return mean, np.where(constant, 1.0, scale)

    def _scale_y(self, series):
        return (series - self.y_mean_) / self.y_scale_

    def _scale_X(self, exog):
        return (exog - self.X_mean_) / self.X_scale_

    def _future_exog(self, X, n_rows):
        """The scaled exogenous values of the last window and of the ``n_rows`` future steps."""
        if self.n_exog_ == 0:
            if X is not None:
                raise ValueError(
                    "X was passed to predict, but the forecaster was fitted without "
                    "exogenous features. Fit with X to use them."
                )
            return None
        if X is None:
            raise ValueError(
                f"The forecaster was fitted with {self.n_exog_} exogenous feature(s), so "
                f"predict needs their future values: X of shape ({n_rows}, {self.n_exog_})."
            )
        future, _ = check_series(X, name="X", n_columns=self.n_exog_, owner=type(self).__name__)
        if len(future) != n_rows:
            which = (
                f"horizon={self.horizon} set at fit (strategy='direct' reads them all)"
                if self.strategy == "direct"
                else "the horizon asked for"
            )
            raise ValueError(
                f"X has {len(future)} row(s), but predict needs one per forecast step: "
                f"{n_rows}, the {which}."
            )
        with np.errstate(all="ignore"):  # checked by _network_input
            scaled = self._scale_X(np.concatenate([self._last_exog, future]))
        return _network_input(scaled, "X")  # (window + n_rows, E)

    def predict(self, horizon, X=None):
        """Forecast the ``horizon`` steps after the end of the training series.

        Parameters
        ----------
        horizon : int
            Number of steps to forecast. With ``strategy="direct"``, at most
            the ``horizon`` set at fit.
        X : array-like of shape (n_rows, n_exog), default=None
            Future values of the exogenous features, required if and only if
            the forecaster was fitted with ``X``. ``n_rows`` is ``horizon``
            for the recursive strategy, and the ``horizon`` set at fit for the
            direct one (the network reads all of them).

        Returns
        -------
        y_pred : ndarray of shape (horizon,) or (horizon, n_series)
            The forecast on the scale of ``y``, 1-D if the forecaster was
            fitted on a 1-D ``y``.
        """
        check_is_fitted(self)
        horizon = _check_horizon(horizon)
        if self.strategy == "direct" and horizon > self.horizon:
            raise ValueError(
                f"strategy='direct' predicts the horizon={self.horizon} steps set at fit, "
                f"but predict was asked for {horizon}. Refit with horizon={horizon}, or "
                "use strategy='recursive'."
            )
        steps_out = self.horizon if self.strategy == "direct" else horizon
        exog = self._future_exog(X, steps_out)
        with np.errstate(all="ignore"):  # checked by _network_input
            history = _network_input(self._scale_y(self.last_window_), "y")  # (window, S)
        if self.strategy == "direct":
            inputs = step_inputs(history, exog, self.horizon)  # (window, F)
            out = self.regressor_.predict(inputs[None])  # (1, H * S)
            forecast = out.reshape(self.horizon, self.n_series_)[:horizon]
        else:
            forecast = self._predict_recursive(history, exog, horizon)
        with np.errstate(all="ignore"):  # checked below
            forecast = self._undifference(forecast * self.y_scale_ + self.y_mean_)
        if not np.isfinite(forecast).all():
            raise ValueError(
                "The forecast overflows float64 on the scale of y (its values are near the "
                "largest float). Rescale y before fitting."
            )
        return _as_given(self, forecast)

    def _undifference(self, changes):
        """Levels from predicted differences: ``y[t] = change[t] + y[t - lag]``."""
        lag = self.difference
        if not lag:
            return changes
        levels = np.concatenate([self._last_levels, changes])  # (lag + h, S)
        for step in range(len(changes)):
            levels[lag + step] += levels[step]
        return levels[lag:]

    def _predict_recursive(self, history, exog, horizon):
        """Feed each one-step prediction back as the newest step of the window."""
        window = self.window
        path = np.concatenate([history, np.zeros((horizon, self.n_series_))])  # (w + h, S)
        for step in range(horizon):
            lead = None if exog is None else exog[step : step + window + 1]  # (w + 1, E)
            inputs = step_inputs(path[step : step + window], lead, 1)  # (w, F)
            path[window + step] = self.regressor_.predict(inputs[None])  # (1, S)
        return path[window:]  # (h, S)

    def score(self, y, X=None):
        """R² of the forecast of the ``len(y)`` steps that follow the training series.

        With :class:`~sklearn.model_selection.TimeSeriesSplit` (and no gap),
        each test fold follows its training fold, so
        :class:`~sklearn.model_selection.GridSearchCV` can tune the forecaster.

        Parameters
        ----------
        y : array-like of shape (horizon,) or (horizon, n_series)
            The true values of the steps after the training series.
        X : array-like of shape (n_rows, n_exog), default=None
            Future exogenous features, as for :meth:`predict`.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` of the forecast (averaged
            uniformly over several series).
        """
        y_true, _ = check_series(y, name="y")
        return float(r2_score(y_true, self.predict(len(y_true), X).reshape(len(y_true), -1)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.target_tags.required = False
        return tags


class SeasonalNaiveForecaster(PersistenceMixin, BaseEstimator):
    """Forecast by repeating the last observed season: the seasonal-naive baseline.

    The forecast of step ``T + h`` is the value one (or more) whole seasons
    earlier, from the last ``season_length`` steps of the training series.
    ``season_length=1`` is the naive forecast (the last value, repeated).

    Parameters
    ----------
    season_length : int, default=1
        Time steps per season, e.g. 12 for monthly data with a yearly cycle.

    Attributes
    ----------
    last_season_ : ndarray of shape (season_length, n_series)
        The last ``season_length`` steps of ``y``.

    Examples
    --------
    >>> from sklearn_rnn.forecasting import SeasonalNaiveForecaster
    >>> SeasonalNaiveForecaster(season_length=3).fit([1, 2, 3, 4, 5, 6]).predict(4)
    array([4., 5., 6., 4.])
    """

    _parameter_constraints: dict = {"season_length": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, season_length=1):
        self.season_length = season_length

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, y, X=None):
        """Remember the last season of ``y``.

        Parameters
        ----------
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
            The series, oldest first.
        X : None
            Ignored.

        Returns
        -------
        self : object
            The fitted forecaster.
        """
        series = _check_y(self, y)
        if len(series) < self.season_length:
            raise ValueError(
                f"y has {len(series)} time steps, fewer than one season "
                f"(season_length={self.season_length})."
            )
        self.last_season_ = series[-self.season_length :].copy()
        return self

    def predict(self, horizon, X=None):
        """Repeat the last season over ``horizon`` steps.

        Parameters
        ----------
        horizon : int
            Number of steps to forecast.
        X : None
            Ignored.

        Returns
        -------
        y_pred : ndarray of shape (horizon,) or (horizon, n_series)
            The forecast, 1-D if fitted on a 1-D ``y``.
        """
        check_is_fitted(self)
        horizon = _check_horizon(horizon)
        return _as_given(self, np.resize(self.last_season_, (horizon, self.n_series_)))

    def score(self, y, X=None):
        """R² of the forecast of the ``len(y)`` steps after the training series.

        Parameters
        ----------
        y : array-like of shape (horizon,) or (horizon, n_series)
            The true values.
        X : None
            Ignored.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` of the forecast.
        """
        y_true, _ = check_series(y, name="y")
        return float(r2_score(y_true, self.predict(len(y_true)).reshape(len(y_true), -1)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.target_tags.required = False
        return tags


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "y_train": ["array-like"],
        "season_length": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def mean_absolute_scaled_error(y_true, y_pred, *, y_train, season_length=1):
    """Mean absolute scaled error (MASE) of a forecast, Hyndman and Koehler's (2006).

    The forecast's mean absolute error divided by the in-sample mean absolute
    error of the seasonal-naive forecast on the training series (each value
    predicted by the one ``season_length`` steps before). Below 1, the
    forecast beats the one-step seasonal-naive forecast in sample.

    Parameters
    ----------
    y_true : array-like of shape (horizon,) or (horizon, n_series)
        True future values.
    y_pred : array-like of shape (horizon,) or (horizon, n_series)
        Forecast.
    y_train : array-like of shape (n_timesteps,) or (n_timesteps, n_series)
        The training series, which sets the scale.
    season_length : int, default=1
        Seasonal period of the naive forecast that scales the error.

    Returns
    -------
    mase : float
        Averaged over series.

    Examples
    --------
    >>> from sklearn_rnn.forecasting import mean_absolute_scaled_error
    >>> mean_absolute_scaled_error([5, 6], [5, 8], y_train=[1, 2, 3, 4])
    1.0
    """
    y_true, _ = check_series(y_true, name="y_true")
    y_pred, _ = check_series(y_pred, name="y_pred", n_columns=y_true.shape[1])
    y_train, _ = check_series(y_train, name="y_train", n_columns=y_true.shape[1])
    if y_pred.shape != y_true.shape:
        raise ValueError(f"y_pred has shape {y_pred.shape} but y_true has {y_true.shape}.")
    if len(y_train) <= season_length:
        raise ValueError(
            f"y_train needs more than season_length={season_length} steps to set the scale."
        )
    scale = np.abs(y_train[season_length:] - y_train[:-season_length]).mean(axis=0)
    if np.any(scale == 0):
        raise ValueError("y_train is constant over a season: the MASE scale is 0.")
    return float(np.mean(np.abs(y_true - y_pred).mean(axis=0) / scale))
