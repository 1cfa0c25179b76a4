"""Many-to-one regression: one value or one vector per sequence."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context

from .._targets import as_float32
from . import _docs
from ._base import BaseRecurrent
from ._embedding import FinalStateMixin
from ._onnx_export import OnnxExportMixin

_DOC = """Recurrent neural network regressor: one value or vector per sequence.

    Reads each sequence with a (stacked, optionally bidirectional) recurrent
    network and regresses from the final state with a squared-error loss.
    Sequences may be a 3-D array, a 2-D array of univariate sequences, or a
    list of sequences of different lengths; padding never changes a
    prediction. Targets are not rescaled: wrap the estimator in
    :class:`~sklearn.compose.TransformedTargetRegressor` with a
    :class:`~sklearn.preprocessing.StandardScaler` when they are far from unit
    scale.

    Parameters
    ----------
    {architecture}

    {training}

    {runtime}

    Attributes
    ----------
    n_outputs_ : int
        Number of target values per sequence.

    {fitted}

    See Also
    --------
    RecurrentClassifier : The same network for class labels.
    LSTMRegressor, GRURegressor, RNNRegressor, BiRNNRegressor : Presets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import {name}
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(5, 15), 2)) for _ in range(40)]
    >>> y = np.array([x[:, 0].sum() for x in X])
    >>> reg = {name}(hidden_size=8, max_iter=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """


class RecurrentRegressor(RegressorMixin, FinalStateMixin, OnnxExportMixin, BaseRecurrent):
    __doc__ = _DOC.format(
        name="RecurrentRegressor",
        architecture=_docs.ARCHITECTURE.format(cell="lstm", bidirectional="False"),
        training=_docs.TRAINING.format(),
        runtime=_docs.RUNTIME,
        fitted=_docs.FITTED,
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        {X}

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            One value or one vector per sequence.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Train one epoch on ``X``, ``y``, keeping the current weights.

        Parameters
        ----------
        {X}

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            One value or one vector per sequence.

        Returns
        -------
        self : object
            The regressor.
        """
        return self._fit(X, y, incremental=True)

    def _encode_targets(self, y, *, reset, classes=None):
        y = as_float32(y, "y")
        if y.ndim not in (1, 2) or y.size == 0 and y.ndim == 2:
            raise ValueError(
                f"y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), got shape {y.shape}."
            )
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity; targets must be finite.")
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_outputs
            self._target_is_1d = y.ndim == 1
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} outputs, but the regressor was fitted with {self.n_outputs_}."
            )
        return y.reshape(len(y), n_outputs)

    def _n_outputs(self):
        return self.n_outputs_

    def _criterion(self, y_encoded):
        import torch

        return torch.nn.MSELoss, {}

    def predict(self, X):
        """Predict the target of each sequence.

        Parameters
        ----------
        {X}

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, 1-D if the model was fitted on a 1-D ``y``.
        """
        outputs = self._predict_outputs(X).astype(np.float64)  # (n_samples, n_outputs)
        return outputs[:, 0] if self._target_is_1d else outputs

    def predict_step(self, x_t, state):
        """Feed one time step of each stream and predict the targets so far.

        Feeding a whole sequence step by step gives the same final prediction as
        :meth:`predict` on the sequence. Unidirectional models only. A call for
        one stream costs 7-8.5 us on the numba backend (what ``"auto"`` picks on
        the CPU), of which the numba kernel is about 1 us, and 63-155 us on
        ``backend="torch"`` (hidden size 32, docs/benchmarks.md).

        Parameters
        ----------
        x_t : array-like of shape (n_streams, n_features)
            The next time step of each stream.
        state : StreamState
            From :meth:`init_state` or the previous call.

        Returns
        -------
        y : ndarray of shape (n_streams,) or (n_streams, n_outputs)
            Prediction for each stream given all steps fed so far.
        state : StreamState
            The state to pass with the next step.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_rnn import GRURegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(40, 6, 2))
        >>> reg = GRURegressor(hidden_size=8, max_iter=5, random_state=0).fit(X, X[:, :, 0].sum(axis=1))
        >>> state = reg.init_state(n_streams=2)
        >>> for t in range(6):
        ...     pred, state = reg.predict_step(X[:2, t], state)
        >>> bool(np.allclose(pred, reg.predict(X[:2]), atol=1e-4))
        True
        """
        outputs, state = self._step_outputs(x_t, state)
        outputs = outputs.astype(np.float64)  # (n_streams, n_outputs)
        return (outputs[:, 0] if self._target_is_1d else outputs), state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


_docs.fill_input_doc(RecurrentRegressor)
