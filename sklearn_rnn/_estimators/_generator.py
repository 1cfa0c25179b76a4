"""One-to-many: a real-valued sequence generated from a feature vector."""

import re

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import NON_NUMERIC_KINDS, Sequences
from . import _docs
from ._seq2seq import DECODING, TRAINING, BaseDecoding, ValueSequencesMixin

# The shared architecture text without ``bidirectional``: there is no encoder.
_ARCHITECTURE = re.sub(
    r"    bidirectional :.*?(?=    dropout :)",
    "",
    _docs.ARCHITECTURE.format(cell="lstm", bidirectional="False"),
    flags=re.S,
).replace(
    "on the sequence representation before the output layer",
    "on the decoder's outputs before the output layer",
)


class SequenceGenerator(RegressorMixin, ValueSequencesMixin, BaseDecoding):
    __doc__ = """Recurrent generator of a real-valued sequence from a feature vector.

    One-to-many regression: a trajectory from initial conditions, a curve
    from its parameters, a profile from a product's attributes. ``X`` is an
    ordinary feature matrix ``(n_samples, n_features)``; ``y`` holds a
    sequence per sample. Every state tensor of every decoder layer starts as
    ``tanh(W x + b)`` of the sample's features ``x`` (for an LSTM, ``h`` and
    ``c`` each get their map), the features are also fed to the decoder at
    every step, and each step reads the previous step's output (teacher
    forcing in training, see ``teacher_forcing``).

    When every target sequence has the same length the model predicts that
    fixed horizon (an array); when lengths differ it also learns a stop
    signal and predicts a list of sequences of their own lengths. A 1-D
    ``y`` is a horizon of one step. Neither ``X`` nor ``y`` is rescaled:
    put a :class:`~sklearn.preprocessing.StandardScaler` before it in a
    pipeline, and standardise ``y`` when it is far from unit scale.

    Parameters
    ----------
    {architecture}

    {decoding}

    {training}

    {runtime}

    Attributes
    ----------
    n_outputs_ : int
        Values per output step.

    horizon_ : int or None
        The fixed number of output steps, or None for variable lengths.

    variable_length_ : bool
        Whether output lengths vary (a stop signal was learned).

    max_target_length_ : int
        The longest target sequence seen in ``fit``.

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features seen in ``fit``, when ``X`` has string column
        names.

    {fitted}

    See Also
    --------
    Seq2SeqRegressor : Output sequences from an input sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import SequenceGenerator
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(0.2, 1.0, size=(200, 2))  # frequency, phase
    >>> t = np.arange(15)
    >>> y = np.sin(X[:, :1] * t + X[:, 1:])  # (200, 15)
    >>> gen = SequenceGenerator(hidden_size=32, max_iter=40, learning_rate=1e-2,
    ...                         random_state=0).fit(X, y)
    >>> gen.predict(X[:3]).shape
    (3, 15)
    >>> bool(gen.score(X, y) > 0.8)  # R^2 over all output steps
    True
    """.format(
        architecture=_ARCHITECTURE,
        decoding=DECODING,
        training=TRAINING,
        runtime=_docs.RUNTIME.replace(
            "Who computes the recurrent layers, in training and prediction",
            "Who computes the decoder's teacher-forced pass in training (decoding\n"
            "        step by step runs on torch)",
        ),
        fitted=_docs.FITTED.replace(
            "Number of features per time step seen during ``fit``.",
            "Number of features seen during ``fit``.",
        ),
    )

    _parameter_constraints: dict = {
        name: constraint
        for name, constraint in BaseDecoding._parameter_constraints.items()
        if name != "bidirectional"
    }

    # No encoder: nothing to read backwards. BaseRecurrent reads it.
    bidirectional = False

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        dropout=0.0,
        orthogonal_init=True,
        forget_bias=1.0,
        teacher_forcing=1.0,
        max_output_length=None,
        max_iter=100,
        batch_size=32,
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="cpu",
        backend="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.orthogonal_init = orthogonal_init
        self.forget_bias = forget_bias
        self.teacher_forcing = teacher_forcing
        self.max_output_length = max_output_length
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.backend = backend
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def _network_class(self):
        from .._torch.seq2seq import GeneratorNetwork

        return GeneratorNetwork

    def _features(self, X, reset):
        """``X`` validated as a feature matrix, as sequences of one step ``(n, 1, F)``."""
        if getattr(X, "ndim", None) == 3:
            raise ValueError(
                f"X has shape {X.shape}: {type(self).__name__} takes one feature vector per "
                "sample, (n_samples, n_features). To map input sequences to output "
                "sequences, use Seq2SeqRegressor."
            )
        try:
            kind = np.asarray(X).dtype.kind
        except (TypeError, ValueError):
            kind = None  # ragged or odd input: validate_data says what is wrong
        if kind in NON_NUMERIC_KINDS:  # NumPy would parse strings and count dates
            raise TypeError(
                f"X has dtype {np.asarray(X).dtype} ({NON_NUMERIC_KINDS[kind]}), but features "
                "must be numbers. Encode them as numbers first."
            )
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        return Sequences(
            # writeable, as check_sequences makes it: torch warns about read-only arrays
            np.require(X[:, None, :], requirements=["C", "W"]),
            np.ones(len(X), dtype=np.int64),
            "3d",
        )

    def _training_data(self, X, y, *, continuing, classes=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        sequences = self._features(X, reset=not continuing)
        y_encoded = self._encode_targets(y, reset=not continuing)
        if len(y_encoded) != sequences.n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: X has "
                f"{sequences.n_samples} samples but y has {len(y_encoded)} target sequences."
            )
        return sequences, y_encoded

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the generator to feature vectors ``X`` and their sequences ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One feature vector per sample.

        y : array-like of shape (n_samples,), (n_samples, L) or (n_samples, L, \
n_outputs), or list of array-like of shape (L_i,) or (L_i, n_outputs)
            The sequence of each sample, of any length.

        Returns
        -------
        self : object
            The fitted generator.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Train one epoch on ``X``, ``y``, keeping the current weights.

        The first call fixes the output layout (``n_outputs_``, and the
        horizon or a stop signal); later calls must keep it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One feature vector per sample.

        y : array-like or list of array-like
            The output sequences, as in :meth:`fit`.

        Returns
        -------
        self : object
            The generator.
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Generate the sequence of each feature vector (each step reads the last).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        Returns
        -------
        y : ndarray of shape (n_samples,), (n_samples, ``horizon_``) or \
(n_samples, ``horizon_``, n_outputs), or list of ndarray of shape (L_i,) or (L_i, n_outputs)
            An array in the layout of the training ``y`` for a fixed
            horizon; a list of sequences of the generated lengths for
            variable lengths.
        """
        check_is_fitted(self)
        return self._predict_values(self._features(X, reset=False))

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 over all real output steps.

        Each sample's sequence is generated for exactly the length of its
        true sequence (the stop signal plays no part), and every step is one
        observation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors.

        y : array-like or list of array-like
            The true sequences, as in :meth:`fit`.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample, given to each of its steps.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` of all steps (averaged
            uniformly over ``n_outputs_``).
        """
        check_is_fitted(self)
        return self._score_values(self._features(X, reset=False), y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = False
        tags.target_tags.multi_output = True
        return tags
