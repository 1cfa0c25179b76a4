"""Sequence embeddings: a fitted many-to-one network as a feature extractor."""

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin

from . import _docs


class FinalStateMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform``: each sequence's final state, the vector the head reads.

    Mixed into the many-to-one estimators, so that a fitted classifier or
    regressor can feed any scikit-learn model in a pipeline. ``fit_transform``
    comes from :class:`~sklearn.base.TransformerMixin` (``fit(X, y)`` then
    ``transform(X)``), which is what :class:`~sklearn.pipeline.Pipeline`
    calls on an intermediate step.
    """

    def transform(self, X):
        """Final hidden state of each sequence: the features the output layer reads.

        For a bidirectional network, the forward direction's state after the
        last real step next to the reverse direction's state after the first
        step (each has read the whole sequence); with several layers, those of
        the last layer. Padding never changes the result. For an LSTM, the
        hidden state ``h`` (not the cell state ``c``).

        Parameters
        ----------
        {X}

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_directions * hidden_size)
            One float64 feature vector per sequence; ``n_directions`` is 2
            for a bidirectional network, else 1.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn_rnn import GRUClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = [rng.normal(size=(rng.randint(5, 15), 2)) for _ in range(40)]
        >>> y = np.array([int(x[:, 0].mean() > 0) for x in X])
        >>> clf = GRUClassifier(hidden_size=8, max_iter=5, random_state=0).fit(X, y)
        >>> clf.transform(X).shape
        (40, 8)
        >>> model = make_pipeline(GRUClassifier(hidden_size=8, max_iter=5, random_state=0),
        ...                       LogisticRegression()).fit(X, y)
        >>> model.predict(X[:3]).shape
        (3,)
        """
        return self._final_states(X).astype(np.float64)  # (n_samples, D*H)

    @property
    def _n_features_out(self):
        # For get_feature_names_out: "<classname><i>" for each state unit.
        return self.net_.module_.encoder.output_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]  # always float64 out
        return tags


FinalStateMixin.transform.__doc__ = FinalStateMixin.transform.__doc__.replace("{X}", _docs.INPUT)
