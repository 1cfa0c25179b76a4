"""Many-to-one classification: one label per sequence."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from . import _docs
from ._base import BaseRecurrent
from ._embedding import FinalStateMixin
from ._onnx_export import OnnxExportMixin

_DOC = """Recurrent neural network classifier: one label per sequence.

    Reads each sequence with a (stacked, optionally bidirectional) recurrent
    network and classifies it from the final state. Sequences may be a 3-D
    array, a 2-D array of univariate sequences, or a list of sequences of
    different lengths; padding never changes a prediction.

    Parameters
    ----------
    {architecture}

    {training}

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as ``{{label: weight}}``;
        ``"balanced"`` weights classes inversely to their frequency.

    {runtime}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    {fitted}

    See Also
    --------
    RecurrentRegressor : The same network for real-valued targets.
    LSTMClassifier, GRUClassifier, RNNClassifier, BiRNNClassifier : Presets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import {name}
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(5, 15), 2)) for _ in range(40)]
    >>> y = np.array([int(x[:, 0].mean() > 0) for x in X])
    >>> clf = {name}(hidden_size=8, max_iter=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """


def _softmax(logits):
    """Probabilities of float32 ``logits`` (n, n_classes), computed in float64."""
    logits = logits.astype(np.float64)
    # NumPy's softmax: scipy.special.softmax costs 7 us, twice this, per call.
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class RecurrentClassifier(ClassifierMixin, FinalStateMixin, OnnxExportMixin, BaseRecurrent):
    __doc__ = _DOC.format(
        name="RecurrentClassifier",
        architecture=_docs.ARCHITECTURE.format(cell="lstm", bidirectional="False"),
        training=_docs.TRAINING.format(),
        runtime=_docs.RUNTIME,
        fitted=_docs.FITTED,
    )

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        orthogonal_init=True,
        forget_bias=1.0,
        recurrent_dropout=0.0,
        layer_norm=False,
        max_iter=100,
        batch_size=32,
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        tbptt_steps=None,
        record_gradient_flow=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        class_weight=None,
        warm_start=False,
        device="cpu",
        backend="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            orthogonal_init=orthogonal_init,
            forget_bias=forget_bias,
            recurrent_dropout=recurrent_dropout,
            layer_norm=layer_norm,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            clip_grad_norm=clip_grad_norm,
            tbptt_steps=tbptt_steps,
            record_gradient_flow=record_gradient_flow,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            device=device,
            backend=backend,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to sequences ``X`` and labels ``y``.

        Parameters
        ----------
        {X}

        y : array-like of shape (n_samples,)
            One class label per sequence (any hashable labels, e.g. strings).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Train one epoch on ``X``, ``y``, keeping the current weights.

        Parameters
        ----------
        {X}

        y : array-like of shape (n_samples,)
            One class label per sequence.

        classes : array-like of shape (n_classes,), default=None
            All labels that may ever appear. Required on the first call and
            ignored afterwards.

        Returns
        -------
        self : object
            The classifier.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which sees one "
                "chunk of the data at a time. Compute the weights over all the data with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', classes=classes, "
                "y=y) and pass them as a dict."
            )
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "network's output layer needs every label that may appear."
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def _encode_targets(self, y, *, reset, classes=None):
        y = column_or_1d(y, warn=True)
        if len(y) == 0:
            raise ValueError("y is empty: at least one label per sequence is required.")
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y) if classes is None else np.unique(classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    "the data, but the data contains "
                    + (f"only one class: {self.classes_[0]}." if len(self.classes_) else "none.")
                )
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not among the classes "
                f"{self.classes_.tolist()} the classifier was set up with."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _n_outputs(self):
        return len(self.classes_)

    def _stratify(self, y_encoded):
        return y_encoded

    def _criterion(self, y_encoded):
        import torch

        if self.class_weight is None:
            return torch.nn.CrossEntropyLoss, {}
        missing = np.setdiff1d(np.arange(len(self.classes_)), y_encoded)
        if self.class_weight == "balanced" and len(missing):
            raise ValueError(
                "class_weight='balanced' needs every class in y, but "
                f"{self.classes_[missing].tolist()} do not occur. Pass class_weight as a dict."
            )
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self.classes_[y_encoded]
        )
        return torch.nn.CrossEntropyLoss, {"weight": torch.as_tensor(weights, dtype=torch.float32)}

    def predict_proba(self, X):
        """Class probabilities of each sequence.

        Parameters
        ----------
        {X}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return _softmax(self._predict_outputs(X))  # (n_samples, n_classes)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each sequence.

        Parameters
        ----------
        {X}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        logits = self._predict_outputs(X).astype(np.float64)
        return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)

    def predict(self, X):
        """Predict one class label per sequence.

        Parameters
        ----------
        {X}

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        outputs = self._predict_outputs(X)  # checks the fitted state first
        return self.classes_[np.argmax(outputs, axis=1)]

    def predict_step(self, x_t, state):
        """Feed one time step of each stream and predict the labels so far.

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
        y : ndarray of shape (n_streams,)
            Predicted label of each stream given all steps fed so far.
        state : StreamState
            The state to pass with the next step.

        See Also
        --------
        predict_proba_step : The class probabilities instead of the labels.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_rnn import LSTMClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(40, 6, 2))
        >>> y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
        >>> clf = LSTMClassifier(hidden_size=8, max_iter=5, random_state=0).fit(X, y)
        >>> state = clf.init_state(n_streams=1)
        >>> for x_t in X[0]:
        ...     label, state = clf.predict_step(x_t[None, :], state)
        >>> bool(label[0] == clf.predict(X[:1])[0])
        True
        """
        outputs, state = self._step_outputs(x_t, state)  # (n_streams, n_classes)
        return self.classes_[outputs.argmax(axis=1)], state

    def predict_proba_step(self, x_t, state):
        """Feed one time step of each stream and give the class probabilities so far.

        The streaming form of :meth:`predict_proba`: after each step, the
        probabilities are those of :meth:`predict_proba` on the sequence up to
        that step (to float32 round-off), and the most probable class is the
        label :meth:`predict_step` gives. Both methods take and return the same
        states, so a stream may alternate between them. Unidirectional models
        only. A call costs that of :meth:`predict_step` and about 5 us more
        for the softmax.

        Parameters
        ----------
        x_t : array-like of shape (n_streams, n_features)
            The next time step of each stream.
        state : StreamState
            From :meth:`init_state` or the previous call.

        Returns
        -------
        proba : ndarray of shape (n_streams, n_classes)
            Probabilities of each stream given all steps fed so far, in the
            order of ``classes_``.
        state : StreamState
            The state to pass with the next step.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_rnn import GRUClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(40, 6, 2))
        >>> y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
        >>> clf = GRUClassifier(hidden_size=8, max_iter=5, random_state=0).fit(X, y)
        >>> state = clf.init_state(n_streams=1)
        >>> for t in range(1, 7):  # the probabilities of each prefix X[:1, :t]
        ...     proba, state = clf.predict_proba_step(X[:1, t - 1], state)
        ...     assert np.allclose(proba, clf.predict_proba(X[:1, :t]), atol=1e-5)
        >>> proba.shape
        (1, 2)
        """
        outputs, state = self._step_outputs(x_t, state)  # (n_streams, n_classes)
        return _softmax(outputs), state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


_docs.fill_input_doc(RecurrentClassifier)
