"""Per-step regression: a real value or vector for every time step (many-to-many aligned)."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score

from .._targets import as_float32, check_step_targets, pad_steps
from . import _docs
from ._per_step import ARCHITECTURE, BIDIRECTIONAL_NOTE, BasePerStep


def _split_values(y):
    """Per-step targets as float32 ``(T_i, n_outputs)`` arrays, their lengths and whether 1-D."""
    arrays, lengths = check_step_targets(y, vectors=True, alternative="RecurrentRegressor")
    values = []
    for i, array in enumerate(arrays):
        array = as_float32(array, f"y[{i}]")
        if not np.isfinite(array).all():
            raise ValueError(
                f"y[{i}] contains NaN or infinity; every real time step needs a finite target."
            )
        values.append(array.reshape(len(array), -1))
    return values, lengths, arrays[0].ndim == 1


class StepwiseRegressor(RegressorMixin, BasePerStep):
    __doc__ = """Recurrent per-step regressor: a real value or vector for every time step.

    Many-to-many aligned regression: denoising a signal, a target for every
    frame of a recording, the state of a system at each time step. The
    recurrent network reads each sequence and a linear layer maps every
    step's output to the targets, with a squared-error loss over the real
    steps only. Sequences may be a 3-D array, a 2-D array of univariate
    sequences, or a list of sequences of different lengths; the targets come
    the same way, one value (or vector) per time step. Targets are not
    rescaled: standardise them when they are far from unit scale.

    Parameters
    ----------
    {architecture}

    {training}

    {runtime}

    Attributes
    ----------
    n_outputs_ : int
        Number of target values per time step.

    {fitted}

    See Also
    --------
    SequenceTagger : The same network for a class label at every step.
    RecurrentRegressor : One value or vector per sequence.

    Notes
    -----
    {bidirectional}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import StepwiseRegressor
    >>> rng = np.random.RandomState(0)
    >>> clean = [np.sin(np.linspace(0, 6, rng.randint(20, 40)) + rng.uniform(0, 6))
    ...          for _ in range(40)]
    >>> noisy = [c + rng.normal(scale=0.3, size=c.shape) for c in clean]
    >>> reg = StepwiseRegressor(hidden_size=16, max_iter=40, learning_rate=1e-2,
    ...                         random_state=0).fit(noisy, clean)
    >>> [p.shape for p in reg.predict(noisy[:2])] == [c.shape for c in clean[:2]]
    True
    >>> bool(reg.score(noisy, clean) > 0.8)  # R^2 over all real steps
    True
    """.format(
        architecture=ARCHITECTURE,
        training=_docs.TRAINING.format(),
        runtime=_docs.RUNTIME,
        fitted=_docs.FITTED,
        bidirectional=BIDIRECTIONAL_NOTE,
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to sequences ``X`` and their per-step targets ``y``.

        Parameters
        ----------
        {X}

        y : list of array-like of shape (T_i,) or (T_i, n_outputs), or \
array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_outputs)
            One value or vector per time step of each sequence; ``y[i]`` has
            the length of ``X[i]``.

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

        y : list of array-like of shape (T_i,) or (T_i, n_outputs), or \
array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_outputs)
            One value or vector per time step of each sequence.

        Returns
        -------
        self : object
            The regressor.
        """
        return self._fit(X, y, incremental=True)

    # --- hooks of BaseRecurrent -----------------------------------------------------

    def _encode_targets(self, y, *, reset, classes=None):
        values, lengths, is_1d = _split_values(y)
        n_outputs = values[0].shape[1]
        if reset:
            self.n_outputs_ = n_outputs
            self._target_is_1d = is_1d
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} outputs per step, but the regressor was fitted with "
                f"{self.n_outputs_}."
            )
        return pad_steps(values, lengths, fill=np.nan, dtype=np.float32)  # (N, T_max, K)

    def _n_outputs(self):
        return self.n_outputs_

    def _criterion(self, y_encoded):
        from .._torch.per_step import StepMSELoss

        return StepMSELoss, {}

    # --- prediction -----------------------------------------------------------------

    def predict(self, X):
        """Predict the target of every time step.

        Parameters
        ----------
        {X}

        Returns
        -------
        y : list of ndarray of shape (T_i,) or (T_i, n_outputs), or ndarray of \
shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_outputs)
            A list for a list ``X`` (each of its sequence's length), an array
            for an array ``X``; one value per step if the model was fitted on
            one value per step.
        """
        outputs, sequences = self._predict_steps(X)
        outputs = outputs.astype(np.float64)  # (N, T_max, K)
        if self._target_is_1d:
            outputs = outputs[:, :, 0]  # (N, T_max)
        return self._as_input_format(outputs, sequences)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 over all real time steps.

        Parameters
        ----------
        {X}

        y : list of array-like of shape (T_i,) or (T_i, n_outputs), or \
array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_outputs)
            True target of every time step.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence, given to each of its steps.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` of the targets of all real time
            steps against their predictions (averaged uniformly over outputs).
        """

        def split(y):
            values, lengths, _ = _split_values(y)
            return values, lengths

        outputs, values, weights = self._real_steps(X, y, sample_weight, split)
        return float(r2_score(values, outputs.astype(np.float64), sample_weight=weights))

    def predict_step(self, x_t, state):
        """Feed one time step of each stream and predict its target.

        Feeding a sequence step by step gives, at every step, what
        :meth:`predict` gives there. Unidirectional models only
        (``bidirectional=False``).

        Parameters
        ----------
        x_t : array-like of shape (n_streams, n_features)
            The next time step of each stream.
        state : StreamState
            From :meth:`init_state` or the previous call.

        Returns
        -------
        y : ndarray of shape (n_streams,) or (n_streams, n_outputs)
            The prediction for this step of each stream.
        state : StreamState
            The state to pass with the next step.
        """
        outputs, state = self._step_outputs(x_t, state)
        outputs = outputs.astype(np.float64)  # (n_streams, n_outputs)
        return (outputs[:, 0] if self._target_is_1d else outputs), state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


_docs.fill_input_doc(StepwiseRegressor)
