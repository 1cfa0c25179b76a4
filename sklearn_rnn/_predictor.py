"""The public entry to torch-free prediction; imports numba only when called."""


def load_predictor(path):
    """Load a model exported with ``export_weights`` for prediction without torch.

    The predictor runs the numba kernels on the exported NumPy weights: it
    needs numpy and numba but never imports torch, which suits small
    deployment images and fast start-up. The file is a ``.npz`` of plain
    arrays, so loading it runs no code (unlike a pickle).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file written by ``estimator.export_weights(path)``.

    Returns
    -------
    predictor : NumbaPredictor
        With ``predict`` (and ``predict_proba`` for classifiers) giving the
        exporting estimator's predictions, to float32 round-off; a
        unidirectional model also streams with ``init_state``,
        ``predict_step`` (and ``predict_proba_step``), as the estimator does.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_rnn import BiRNNClassifier, load_predictor
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(3, 9), 2)) for _ in range(30)]
    >>> y = np.array([int(x[:, 0].mean() > 0) for x in X])
    >>> clf = BiRNNClassifier(hidden_size=8, max_iter=3, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> clf.export_weights(path)
    >>> predictor = load_predictor(path)
    >>> bool((predictor.predict(X) == clf.predict(X)).all())
    True
    """
    from ._numba.predictor import load_predictor as _load

    return _load(path)
