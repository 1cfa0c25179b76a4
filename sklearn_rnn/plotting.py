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


def _trained_network(estimator):
    """The fitted sklearn-rnn estimator in ``estimator``: itself, a Pipeline's
    last step, or a search's ``best_estimator_`` (recursively)."""
    check_is_fitted(estimator)
    if hasattr(estimator, "best_estimator_"):
        return _trained_network(estimator.best_estimator_)
    if hasattr(estimator, "steps"):
        return _trained_network(estimator.steps[-1][1])
    if not hasattr(estimator, "loss_curve_"):
        raise TypeError(
            f"{type(estimator).__name__} has no training history to plot: pass a fitted "
            "sklearn-rnn estimator, a Pipeline ending in one, or a fitted search over them."
        )
    return estimator


def plot_learning_curve(estimator, *, ax=None, label=None):
    """Plot the training (and validation) loss of each epoch.

    Parameters
    ----------
    estimator : fitted sklearn-rnn estimator, Pipeline or search
        Reads ``loss_curve_`` and ``validation_loss_curve_`` of the estimator,
        of a Pipeline's last step or of a search's ``best_estimator_``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes if None.
    label : str, default=None
        Prefix of the legend entries (e.g. the cell's name), to draw several
        models on one ``ax``. With a label the legend is always shown.

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
    >>> ax = plot_learning_curve(reg, ax=ax, label="gru")
    >>> ax.lines[-1].get_label()
    'gru, training loss'
    """
    estimator = _trained_network(estimator)
    ax = _axes(ax)
    prefix = "" if label is None else f"{label}, "
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    ax.plot(epochs, estimator.loss_curve_, marker="o", label=f"{prefix}training loss")
    if estimator.validation_loss_curve_ is not None:
        ax.plot(
            epochs, estimator.validation_loss_curve_, marker="s", label=f"{prefix}validation loss"
        )
    if label is not None or estimator.validation_loss_curve_ is not None:
        ax.legend()
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    return ax


def gradient_flow(estimator, epoch=-1):
    """The recorded gradient norms of one epoch, position 0 at each sequence's end.

    Parameters
    ----------
    estimator : fitted sklearn-rnn estimator, Pipeline or search
        Fitted with ``record_gradient_flow`` set (a Pipeline's last step, a
        search's ``best_estimator_``).
    epoch : int, default=-1
        Index into the training history (``-1``: the last epoch).

    Returns
    -------
    norms : ndarray of shape (n_positions,)
        ``norms[j]`` is the mean norm of ``dLoss/dh`` at ``j`` steps before
        the sequences' last steps.
    """
    history = _trained_network(estimator).history_
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
    estimator : fitted sklearn-rnn estimator, Pipeline or search
        Fitted with ``record_gradient_flow`` set (a Pipeline's last step, a
        search's ``best_estimator_``).
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
    estimator = _trained_network(estimator)
    ax = _axes(ax)
    n_epochs = len(estimator.history_)
    for epoch in dict.fromkeys(epochs):  # unique, in order
        norms = gradient_flow(estimator, epoch)
        number = epoch % n_epochs + 1 if n_epochs else epoch
        name = f"epoch {number}" if label is None else f"{label}, epoch {number}"
        ax.semilogy(np.arange(len(norms)), norms, label=name)
    ax.set_xlabel("steps before the end of the sequence")
    ax.set_ylabel("mean gradient norm at the step")
    ax.legend()
    return ax
