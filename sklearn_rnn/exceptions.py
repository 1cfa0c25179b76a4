"""The exceptions sklearn-rnn raises beyond ``ValueError`` and ``TypeError``."""


class TrainingDivergedError(ValueError, FloatingPointError):
    """Training produced a non-finite loss or gradient (NaN or infinity).

    Raised by ``fit``/``partial_fit``, which stop at the batch where it
    happened. The estimator stays usable: it keeps the weights from before
    that batch, and ``n_iter_``, ``loss_curve_`` and ``history_`` describe the
    epochs that completed. A subclass of both ``ValueError`` (the data and
    hyperparameters cannot be trained on as given) and ``FloatingPointError``.

    Attributes
    ----------
    epoch : int
        The epoch (1-based, counted over all fits of the estimator) in which
        training diverged.
    batch : int
        The batch of that epoch (1-based).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import RNNRegressor
    >>> from sklearn_rnn.exceptions import TrainingDivergedError
    >>> X, y = np.ones((8, 5, 1)), np.full(8, 1e38)  # squared error overflows float32
    >>> reg = RNNRegressor(hidden_size=4, max_iter=3, random_state=0)
    >>> try:
    ...     reg.fit(X, y)
    ... except TrainingDivergedError as exc:
    ...     print(exc.epoch, exc.batch)
    1 1
    >>> reg.predict(X[:2]).shape  # still usable, with the initial weights
    (2,)
    """

    def __init__(self, message, epoch=None, batch=None):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
