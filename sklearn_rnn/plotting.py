"""Plots of a fitted estimator's training: learning curves and gradient flow.

matplotlib is an optional dependency, imported when a plot is drawn.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install matplotlib."
        ) from exc
    return plt.subplots()[1]


def plot_learning_curve(estimator, *, ax=None):
    """Plot the training (and validation) loss of each epoch.

    Parameters
    ----------
    estimator : fitted sklearn-rnn estimator
        Reads ``loss_curve_`` and ``validation_loss_curve_``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes if None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_rnn import GRURegressor, plot_learning_curve
    >>> X = np.random.RandomState(0).normal(size=(30, 8, 1))
    >>> reg = GRURegressor(hidden_size=4, max_iter=5, random_state=0).fit(X, X[:, -1, 0])
    >>> ax = plot_learning_curve(reg)
    >>> len(ax.lines)
    1
    """
    check_is_fitted(estimator)
    ax = _axes(ax)
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    ax.plot(epochs, estimator.loss_curve_, marker="o", label="training loss")
    if estimator.validation_loss_curve_ is not None:
        ax.plot(epochs, estimator.validation_loss_curve_, marker="s", label="validation loss")
        ax.legend()
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    return ax


def gradient_flow(estimator, epoch=-1):
    """The recorded gradient norms of one epoch, position 0 at each sequence's end.

    Parameters
    ----------
    estimator : fitted sklearn-rnn estimator
        Fitted with ``record_gradient_flow`` set.
    epoch : int, default=-1
        Index into the training history (``-1``: the last epoch).

    Returns
    -------
    norms : ndarray of shape (n_positions,)
        ``norms[j]`` is the mean norm of ``dLoss/dh`` at ``j`` steps before
        the sequences' last steps.
    """
    check_is_fitted(estimator)
    history = estimator.history_
    if not len(history) or "gradient_flow" not in history[epoch]:
        raise ValueError(
            "No gradient flow was recorded: fit the estimator with record_gradient_flow=1 "
            "(or every n-th batch)."
        )
    return np.asarray(history[epoch]["gradient_flow"])


def plot_gradient_flow(estimator, *, epochs=(0, -1), ax=None, label=None):
    """Plot ``||dLoss/dh_t||`` against the number of steps before the sequence end.

    A gradient that vanishes over time falls off to the right (log scale):
    the early steps of a sequence barely affect the loss, so the network
    cannot learn from them.

    Parameters
    ----------
    estimator : fitted sklearn-rnn estimator
        Fitted with ``record_gradient_flow`` set.
    epochs : sequence of int, default=(0, -1)
        Which epochs of the history to draw (indices; default the first and
        the last).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes if None.
    label : str, default=None
        Prefix of the legend entries (e.g. the cell's name).

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_rnn import RNNRegressor, plot_gradient_flow
    >>> from sklearn_rnn.datasets import make_adding_problem
    >>> X, y = make_adding_problem(64, 30, random_state=0)
    >>> reg = RNNRegressor(hidden_size=8, max_iter=2, record_gradient_flow=1, random_state=0)
    >>> ax = plot_gradient_flow(reg.fit(X, y), label="rnn")
    >>> len(ax.lines)
    2
    """
    ax = _axes(ax)
    n_epochs = len(estimator.history_) if hasattr(estimator, "history_") else 0
    for epoch in dict.fromkeys(epochs):  # unique, in order
        norms = gradient_flow(estimator, epoch)
        number = epoch % n_epochs + 1 if n_epochs else epoch
        name = f"epoch {number}" if label is None else f"{label}, epoch {number}"
        ax.semilogy(np.arange(len(norms)), norms, label=name)
    ax.set_xlabel("steps before the end of the sequence")
    ax.set_ylabel("mean gradient norm at the step")
    ax.legend()
    return ax
