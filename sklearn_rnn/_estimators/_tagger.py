"""Sequence tagging: one class label for every time step (many-to-many aligned)."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets

from .._targets import IGNORE, check_step_targets, pad_steps
from . import _docs
from ._per_step import ARCHITECTURE, BIDIRECTIONAL_NOTE, BasePerStep


def _split_labels(y):
    arrays, lengths = check_step_targets(y, alternative="RecurrentClassifier")
    kinds = {array.dtype.kind for array in arrays}
    if kinds & set("USO") and kinds & set("biuf"):
        raise ValueError(
            "Mix of label input types (string and number) in y: use labels of one type."
        )
    return arrays, lengths


class SequenceTagger(ClassifierMixin, BasePerStep):
    __doc__ = """Recurrent sequence tagger: one class label for every time step.

    Many-to-many aligned classification: part-of-speech or named-entity tags
    of words, a state for every frame of a recording, a word boundary at each
    character. The recurrent network reads each sequence and a linear layer
    classifies every step's output. Sequences may be a 3-D array, a 2-D array
    of univariate sequences, or a list of sequences of different lengths; the
    labels come the same way, one per time step. Padding never enters the
    loss, the predictions or the score.

    Parameters
    ----------
    {architecture}

    {training}

    {runtime}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen at any time step of the training sequences.

    {fitted}

    See Also
    --------
    StepwiseRegressor : The same network for a real value at every step.
    RecurrentClassifier : One label per sequence.
    CharOneHotEncoder : Texts as sequences of one-hot characters.

    Notes
    -----
    {bidirectional}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import SequenceTagger
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(5, 15), 2)) for _ in range(40)]
    >>> y = [np.where(x[:, 0] > 0, "up", "down") for x in X]  # a label per step
    >>> tagger = SequenceTagger(hidden_size=8, max_iter=30, learning_rate=1e-2,
    ...                         random_state=0).fit(X, y)
    >>> tagger.classes_
    array(['down', 'up'], dtype='<U4')
    >>> [labels.shape for labels in tagger.predict(X[:2])] == [x.shape[:1] for x in X[:2]]
    True
    >>> tagger.predict_proba(X[:1])[0].shape  # (T_0, n_classes)
    (10, 2)
    >>> bool(tagger.score(X, y) > 0.9)  # accuracy over all real steps
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
        """Fit the network to sequences ``X`` and their per-step labels ``y``.

        Parameters
        ----------
        {X}

        y : list of array-like of shape (T_i,), or array-like of shape \
(n_samples, n_timesteps)
            One label per time step of each sequence (any hashable labels of
            one type, e.g. strings or integers); ``y[i]`` has the length of
            ``X[i]``.

        Returns
        -------
        self : object
            The fitted tagger.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Train one epoch on ``X``, ``y``, keeping the current weights.

        Parameters
        ----------
        {X}

        y : list of array-like of shape (T_i,), or array-like of shape \
(n_samples, n_timesteps)
            One label per time step of each sequence.

        classes : array-like of shape (n_classes,), default=None
            All labels that may ever appear. Required on the first call and
            ignored afterwards.

        Returns
        -------
        self : object
            The tagger.
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "network's output layer needs every label that may appear."
            )
        return self._fit(X, y, incremental=True, classes=classes)

    # --- hooks of BaseRecurrent -----------------------------------------------------

    def _encode_targets(self, y, *, reset, classes=None):
        arrays, lengths = _split_labels(y)
        labels = np.concatenate(arrays)  # every real step
        check_classification_targets(labels)
        if reset:
            self.classes_ = np.unique(labels if classes is None else np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes over all time steps, "
                    f"but y contains {self.classes_.tolist()}."
                )
        unknown = np.setdiff1d(labels, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not among the classes "
                f"{self.classes_.tolist()} the tagger was set up with."
            )
        codes = np.searchsorted(self.classes_, labels)
        codes = np.split(codes, np.cumsum(lengths)[:-1])
        return pad_steps(codes, lengths, fill=IGNORE, dtype=np.int64)  # (N, T_max)

    def _n_outputs(self):
        return len(self.classes_)

    def _criterion(self, y_encoded):
        from .._torch.per_step import StepCrossEntropy

        return StepCrossEntropy, {}

    # --- prediction -----------------------------------------------------------------

    def _probabilities(self, X):
        logits, sequences = self._predict_steps(X)
        logits = logits.astype(np.float64)  # (N, T_max, C)
        exp = np.exp(logits - logits.max(axis=2, keepdims=True))
        return exp / exp.sum(axis=2, keepdims=True), sequences

    def predict_proba(self, X):
        """Class probabilities at every time step.

        Parameters
        ----------
        {X}

        Returns
        -------
        proba : list of ndarray of shape (T_i, n_classes), or ndarray of shape \
(n_samples, n_timesteps, n_classes)
            Probabilities in the order of ``classes_``: a list for a list
            ``X`` (each of its sequence's length), an array for an array ``X``.
        """
        proba, sequences = self._probabilities(X)
        return self._as_input_format(proba, sequences)

    def predict(self, X):
        """Predict a label for every time step.

        Parameters
        ----------
        {X}

        Returns
        -------
        y : list of ndarray of shape (T_i,), or ndarray of shape (n_samples, n_timesteps)
            A list for a list ``X`` (each of its sequence's length), an array
            for an array ``X``.
        """
        outputs, sequences = self._predict_steps(X)  # (N, T_max, C)
        return self._as_input_format(self.classes_[np.argmax(outputs, axis=2)], sequences)

    def score(self, X, y, sample_weight=None):
        """Accuracy over all real time steps (padding never counts).

        Parameters
        ----------
        {X}

        y : list of array-like of shape (T_i,), or array-like of shape \
(n_samples, n_timesteps)
            True label of every time step.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence, given to each of its steps.

        Returns
        -------
        score : float
            Fraction of the time steps, over all sequences, whose predicted
            label is right; a long sequence counts more than a short one.
        """
        outputs, labels, weights = self._real_steps(X, y, sample_weight, _split_labels)
        predicted = self.classes_[np.argmax(outputs, axis=1)]  # (n_steps,)
        return float(accuracy_score(labels, predicted, sample_weight=weights))

    def predict_step(self, x_t, state):
        """Feed one time step of each stream and predict its label.

        Feeding a sequence step by step gives, at every step, the label
        :meth:`predict` gives there. Unidirectional taggers only
        (``bidirectional=False``): a bidirectional one needs the steps still
        to come.

        Parameters
        ----------
        x_t : array-like of shape (n_streams, n_features)
            The next time step of each stream.
        state : StreamState
            From :meth:`init_state` or the previous call.

        Returns
        -------
        y : ndarray of shape (n_streams,)
            The label of this step of each stream.
        state : StreamState
            The state to pass with the next step.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_rnn import SequenceTagger
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(30, 6, 2))
        >>> y = (np.cumsum(X[:, :, 0], axis=1) > 0).astype(int)  # sign of the running sum
        >>> tagger = SequenceTagger(bidirectional=False, hidden_size=8, max_iter=5,
        ...                         random_state=0).fit(X, y)
        >>> state = tagger.init_state(n_streams=1)
        >>> labels = []
        >>> for x_t in X[0]:
        ...     label, state = tagger.predict_step(x_t[None, :], state)
        ...     labels.append(label[0])
        >>> bool((np.array(labels) == tagger.predict(X[:1])[0]).all())
        True
        """
        outputs, state = self._step_outputs(x_t, state)
        return self.classes_[np.argmax(outputs, axis=1)], state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


_docs.fill_input_doc(SequenceTagger)
