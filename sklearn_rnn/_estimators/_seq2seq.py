"""Encoder-decoder estimators: output sequences of another length than the input's.

``Seq2SeqClassifier`` transduces sequences into token sequences (reversing or
reformatting strings); ``Seq2SeqRegressor`` into real-valued sequences
(multi-step forecasts). Both share ``BaseDecoding`` with
:class:`~sklearn_rnn.SequenceGenerator` (one-to-many), whose decoder is the
same module (``sklearn_rnn._torch.seq2seq``).
"""

import re
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._sequence import length_batches
from .._targets import IGNORE, as_float32, check_step_targets, pad_steps
from .._validation import check_sequences
from . import _docs
from ._base import BaseRecurrent

# --- shared parameter documentation ---------------------------------------------------

# The training parameters, without truncated BPTT and gradient-flow recording:
# a decoder's loss needs the whole input read first.
TRAINING = re.sub(
    r"    tbptt_steps :.*?(?=    early_stopping :)", "", _docs.TRAINING.format(), flags=re.S
)

DECODING = """\
teacher_forcing : float, default=1.0
        Probability that, in training, the decoder reads the true previous
        output rather than its own prediction. 1.0 is teacher forcing (the
        whole target runs as one pass per layer, fastest); below 1, each
        sample reads its own prediction at each step with probability
        ``1 - teacher_forcing`` (scheduled sampling), which trains the
        decoder on the inputs it sees when predicting.

    max_output_length : int or None, default=None
        The most steps a prediction may have before it is cut; None means the
        longest target sequence seen in ``fit``."""



class BaseDecoding(BaseRecurrent):
    """What the estimators with a step-wise decoder share: parameters, cell traits, decoding."""

    _parameter_constraints: dict = {
        **{
            name: constraint
            for name, constraint in BaseRecurrent._parameter_constraints.items()
            if name not in ("tbptt_steps", "record_gradient_flow")
        },
        "teacher_forcing": [Interval(Real, 0, 1, closed="both")],
        "max_output_length": [Interval(Integral, 1, None, closed="left"), None],
    }

    # Not offered: the decoder's loss needs the whole input read first. BaseRecurrent
    # reads them, so they stay fixed at "off".
    tbptt_steps = None
    record_gradient_flow = None

    def _network_class(self):
        from .._torch.seq2seq import Seq2SeqNetwork

        return Seq2SeqNetwork

    def _decoder_kwargs(self):
        raise NotImplementedError

    def _module(self):
        return self._network_class(), dict(
            teacher_forcing=self.teacher_forcing,
            orthogonal_init=self.orthogonal_init,
            forget_bias=self.forget_bias,
            **self._decoder_kwargs(),
        )

    def _cell_traits(self, fitted=True):
        if not fitted:
            return super()._cell_traits(fitted=False)
        from .._torch.cells import BUILTIN_LAYERS

        cell = self.net_.module_.decoder.layers[0].cell
        layer = BUILTIN_LAYERS.get(type(cell))
        return layer, layer is not None or getattr(cell, "numba_kernels", None) is not None

    def _max_length(self):
        return self.max_output_length or self.max_target_length_

    def _decode(self, sequences, decode):
        """``decode(module, context)`` over batches of ``sequences``; a list per sample
        of the NumPy rows of what it returns (a tuple of ``(B, ...)`` tensors)."""
        import torch

        from .._torch.net import PREDICT_BATCH_SIZE

        module = self.net_.module_
        module.backend = self._backend(min(sequences.n_samples, PREDICT_BATCH_SIZE))
        module.eval()
        device = self.net_.device  # where the weights are, even after set_params(device=...)
        padded = torch.from_numpy(sequences.padded)  # (N, T_max, F)
        lengths = torch.from_numpy(sequences.lengths)  # (N,)
        results = [None] * sequences.n_samples
        with torch.inference_mode():
            for indices in length_batches(sequences.lengths, PREDICT_BATCH_SIZE, shuffle=False):
                batch_lengths = lengths[indices]  # (B,)
                x = padded[indices, : int(batch_lengths.max())].to(device)  # (B, T, F)
                context = module.context(x, batch_lengths.to(device))  # (B, C)
                outputs = [out.cpu().numpy() for out in decode(module, context)]
                for row, i in enumerate(indices):
                    results[i] = tuple(out[row] for out in outputs)
        return results

    def export_weights(self, path):
        """Not available for decoders: the torch-free predictor is many-to-one."""
        raise NotImplementedError(
            f"{type(self).__name__}.export_weights is not supported: the torch-free "
            "predictor gives one output per sequence. Pickle the estimator instead."
        )

    def init_state(self, n_streams=1):
        """Not available: a decoder's output starts after the whole input is read."""
        raise NotImplementedError(
            f"{type(self).__name__} has no streaming interface (init_state/predict_step): "
            "its output starts after the whole input has been read."
        )


# --- real-valued output sequences -----------------------------------------------------


def split_value_sequences(y, input_name="y"):
    """Real-valued target sequences as float32 ``(L_i, K)`` arrays, their lengths, and
    the format ``y`` came in: "1d" (one value: horizon 1), "2d" ``(n, L)``, "3d"
    ``(n, L, K)``, "list" of ``(L_i,)`` or "list_vectors" of ``(L_i, K)``."""
    if y is None:
        raise ValueError(f"{input_name} is None; expected one target sequence per sample.")
    if sp.issparse(y):
        raise TypeError(f"{input_name} is a sparse matrix; target sequences must be dense.")
    is_list = isinstance(y, (list, tuple)) or (
        isinstance(y, np.ndarray) and y.dtype == object and y.ndim == 1
    )
    if not is_list:
        y = np.asarray(y)
    if is_list and len(y) and np.ndim(y[0]) == 0 or not is_list and y.ndim == 1:
        fmt = "1d"  # one value per sample: sequences of one step
        arrays = [np.reshape(value, (1,)) for value in np.asarray(y)]
        lengths = np.ones(len(arrays), dtype=np.int64)
        if not arrays:
            raise ValueError(f"{input_name} is empty: at least one target sequence is required.")
    else:
        arrays, lengths = check_step_targets(y, vectors=True, input_name=input_name)
        if is_list:
            fmt = "list" if arrays[0].ndim == 1 else "list_vectors"
        else:
            fmt = "2d" if np.ndim(y) == 2 else "3d"
    values = []
    for i, array in enumerate(arrays):
        array = as_float32(array, f"{input_name}[{i}]")
        if not np.isfinite(array).all():
            raise ValueError(
                f"{input_name}[{i}] contains NaN or infinity; target sequences must be finite."
            )
        values.append(array.reshape(len(array), -1))
    return values, lengths, fmt


class ValueSequencesMixin:
    """Targets that are real-valued sequences: encoding, the loss, prediction and R^2.

    Equal target lengths make a fixed horizon (predictions are arrays);
    different lengths make a learned stop signal (predictions are lists).
    """

    def _encode_targets(self, y, *, reset, classes=None):
        values, lengths, fmt = split_value_sequences(y)
        n_outputs = values[0].shape[1]
        variable = bool(lengths.min() != lengths.max())
        if reset:
            self.n_outputs_ = n_outputs
            self.variable_length_ = variable
            self.horizon_ = None if variable else int(lengths[0])
            self.max_target_length_ = int(lengths.max())
            self._target_format = fmt
        else:
            if n_outputs != self.n_outputs_:
                raise ValueError(
                    f"y has {n_outputs} values per step, but {type(self).__name__} was "
                    f"fitted with {self.n_outputs_}."
                )
            if not self.variable_length_ and (variable or lengths[0] != self.horizon_):
                raise ValueError(
                    f"y has output lengths {sorted(set(lengths.tolist()))}, but "
                    f"{type(self).__name__} was fitted with a fixed horizon of {self.horizon_} "
                    "steps. Set warm_start=False to fit a new model."
                )
        return pad_steps(values, lengths, fill=np.nan, dtype=np.float32)  # (N, L_max, K)

    def _n_outputs(self):
        return self.n_outputs_ + self.variable_length_  # the values and a stop logit

    def _decoder_kwargs(self):
        return dict(value_size=self.n_outputs_, stop=self.variable_length_)

    def _criterion(self, y_encoded):
        from .._torch.seq2seq import ValueSequenceLoss

        return ValueSequenceLoss, dict(stop=self.variable_length_)

    def _predict_values(self, sequences):
        """Predictions in the format of the training ``y``."""
        if not self.variable_length_:
            rows = self._decode(
                sequences,
                lambda module, context: module.decoder.greedy_values(context, self.horizon_, False)[:1],
            )
            values = np.stack([row[0] for row in rows]).astype(np.float64)  # (N, H, K)
            if self._target_format == "1d":
                return values[:, 0, 0]
            if self.n_outputs_ == 1 and self._target_format in ("2d", "list"):
                return values[:, :, 0]
            return values
        rows = self._decode(
            sequences,
            lambda module, context: module.decoder.greedy_values(context, self._max_length(), True),
        )
        squeeze = self.n_outputs_ == 1 and self._target_format == "list"
        return [
            (values[:length, 0] if squeeze else values[:length]).astype(np.float64)
            for values, length in rows
        ]

    def _score_values(self, sequences, y, sample_weight):
        values, lengths, _ = split_value_sequences(y)
        if len(values) != sequences.n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has "
                f"{sequences.n_samples} samples but y has {len(values)} target sequences."
            )
        n_steps = int(lengths.max())
        # The decoder is causal: generating n_steps and cutting each at its true
        # length equals generating exactly that length.
        rows = self._decode(
            sequences,
            lambda module, context: module.decoder.greedy_values(context, n_steps, False)[:1],
        )
        predicted = np.concatenate([row[0][:length] for row, length in zip(rows, lengths)])
        weights = None
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty(len(lengths)))
            weights = np.repeat(sample_weight, lengths)
        return float(r2_score(np.concatenate(values), predicted.astype(np.float64), sample_weight=weights))


# --- the estimators -------------------------------------------------------------------

_SEQ2SEQ_ARCHITECTURE = _docs.ARCHITECTURE.format(cell="lstm", bidirectional="True").replace(
    "the two directions are concatenated.",
    "the two directions are concatenated; the decoder's initial state is\n"
    "        then a learned map of both directions' final outputs.",
).replace(
    "on the sequence representation before the output layer",
    "on the decoder's outputs before the output layer",
)

_HOW = """\
An encoder (any registered ``cell``, ``num_layers``, ``bidirectional``)
    reads each input sequence; its final output (for a bidirectional encoder,
    the forward direction's last real step next to the reverse direction's
    first step) is the *context*. Every state tensor of every decoder layer
    starts as ``tanh(W context + b)``, and the context is also fed to the
    decoder at every step. The decoder is a stack of the same cells, run one
    step at a time; at each step it reads its previous output. Training is
    teacher-forced (see ``teacher_forcing``)."""


class Seq2SeqClassifier(ClassifierMixin, BaseDecoding):
    __doc__ = """Encoder-decoder network that transduces sequences into token sequences.

    Many-to-many unaligned classification: the output is a sequence of
    labels (tokens) whose length is learned and may differ from the input's,
    as in reversing or reformatting strings, transliteration or translation.
    ``y`` is a list of token sequences, or a list of strings (each a
    sequence of characters); an end-of-sequence token, appended to every
    target in training, lets each prediction end on its own. Input tokens
    are given as features of ``X``: one-hot characters from
    :class:`~sklearn_rnn.CharOneHotEncoder` (``make_pipeline(CharOneHotEncoder(),
    Seq2SeqClassifier())`` reads strings), or any numeric sequences.

    {how}

    Parameters
    ----------
    {architecture}

    embedding_dim : int, default=16
        Size of the learned embedding of the decoder's previous token.

    {decoding}

    beam_width : int, default=1
        1 decodes greedily (the most likely token at each step); ``k > 1``
        keeps the ``k`` most likely partial outputs at each step (beam
        search) and returns the more likely of its best and the greedy
        output, so it is never less likely than greedy decoding.

    {training}

    {runtime}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The tokens: every label seen in the training targets (single
        characters for string targets).

    max_target_length_ : int
        The longest target sequence seen in ``fit``.

    {fitted}

    See Also
    --------
    Seq2SeqRegressor : The same network for real-valued output sequences.
    SequenceTagger : One label per input step (outputs as long as inputs).
    CharOneHotEncoder : Strings as one-hot character sequences.

    Notes
    -----
    ``score`` is exact-sequence accuracy: the fraction of samples whose
    whole output sequence is right. A transduction is wanted whole (a
    reversed word with one wrong letter is a wrong word), and per-token
    accuracy is ill-defined when a predicted sequence is longer or shorter
    than the true one.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_rnn import CharOneHotEncoder, Seq2SeqClassifier
    >>> words = ["abc", "ba", "cab", "acb", "bca", "ca", "ab", "cba"] * 20
    >>> model = make_pipeline(
    ...     CharOneHotEncoder(),
    ...     Seq2SeqClassifier(hidden_size=32, max_iter=40, learning_rate=1e-2, random_state=0),
    ... ).fit(words, [w[::-1] for w in words])
    >>> model.predict(["abc", "ba"])
    ['cba', 'ab']
    >>> float(model.score(words, [w[::-1] for w in words]))  # exact-match accuracy
    1.0
    """.format(
        how=_HOW,
        architecture=_SEQ2SEQ_ARCHITECTURE,
        decoding=DECODING,
        training=TRAINING,
        runtime=_docs.RUNTIME,
        fitted=_docs.FITTED,
    )

    _parameter_constraints: dict = {
        **BaseDecoding._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "beam_width": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        orthogonal_init=True,
        forget_bias=1.0,
        embedding_dim=16,
        teacher_forcing=1.0,
        max_output_length=None,
        beam_width=1,
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
        super().__init__(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            orthogonal_init=orthogonal_init,
            forget_bias=forget_bias,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            clip_grad_norm=clip_grad_norm,
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
        self.embedding_dim = embedding_dim
        self.teacher_forcing = teacher_forcing
        self.max_output_length = max_output_length
        self.beam_width = beam_width

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the encoder-decoder to input sequences ``X`` and token sequences ``y``.

        Parameters
        ----------
        {X}

        y : list of str, or list of array-like of shape (L_i,), or array-like \
of shape (n_samples, L)
            The output sequence of each sample, of any length (0 included):
            a string (a sequence of characters), or a sequence of labels of
            one type (e.g. strings or integers).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    # --- targets ---------------------------------------------------------------------

    @staticmethod
    def _split_tokens(y):
        """``y`` as one label array per sample, and whether it was strings (characters)."""
        if y is None:
            raise ValueError("y is None; expected one output sequence per sample.")
        if isinstance(y, str) or sp.issparse(y):
            raise TypeError(
                "y must be a list of output sequences (or of strings), got a "
                f"{type(y).__name__}."
            )
        if isinstance(y, np.ndarray) and y.ndim == 2 and y.dtype != object:
            items = list(y)
        else:
            try:
                items = list(y)
            except TypeError:
                raise TypeError(
                    f"y must be a list of output sequences, got {type(y).__name__}."
                ) from None
        if not items:
            raise ValueError("y is empty: at least one output sequence is required.")
        is_text = [isinstance(item, str) for item in items]
        if any(is_text) and not all(is_text):
            i = is_text.index(not is_text[0])
            raise TypeError(
                f"y mixes strings and label sequences (y[0] is a {type(items[0]).__name__}, "
                f"y[{i}] a {type(items[i]).__name__}): use one kind."
            )
        arrays = []
        for i, item in enumerate(items):
            array = np.array(list(item)) if is_text[0] else np.asarray(item)
            if array.ndim != 1:
                hint = (
                    " For one label per sequence, use RecurrentClassifier."
                    if array.ndim == 0
                    else ""
                )
                raise ValueError(
                    f"y[{i}] has shape {array.shape}, but each output must be a sequence of "
                    f"labels (L_i,) or a string.{hint}"
                )
            arrays.append(array)
        return arrays, is_text[0]

    def _encode_targets(self, y, *, reset, classes=None):
        arrays, is_text = self._split_tokens(y)
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        labels = np.concatenate(arrays) if lengths.sum() else np.array([])
        if labels.size:
            if labels.dtype.kind == "O":
                kinds = {type(label) for label in labels}
                if len(kinds) > 1:
                    raise ValueError(
                        "Mix of label types in y (e.g. strings and numbers): use labels of "
                        "one type."
                    )
            check_classification_targets(labels)
        if reset:
            if not labels.size:
                raise ValueError("y holds only empty sequences: there are no tokens to learn.")
            self.classes_ = np.unique(labels)
            self.max_target_length_ = int(lengths.max())
            self._target_is_text = is_text
        unknown = np.setdiff1d(labels, self.classes_) if labels.size else []
        if len(unknown):
            raise ValueError(
                f"y contains tokens {list(unknown)[:10]} that are not among the "
                f"{len(self.classes_)} tokens the model was fitted with."
            )
        eos = len(self.classes_)
        codes = [np.append(np.searchsorted(self.classes_, a), eos) for a in arrays]
        return pad_steps(codes, lengths + 1, fill=IGNORE, dtype=np.int64)  # (N, L_max + 1)

    def _n_outputs(self):
        return len(self.classes_) + 1  # the tokens and end-of-sequence

    def _decoder_kwargs(self):
        return dict(n_tokens=len(self.classes_) + 1, embedding_dim=self.embedding_dim)

    def _criterion(self, y_encoded):
        from .._torch.seq2seq import TokenSequenceLoss

        return TokenSequenceLoss, {}

    # --- prediction ------------------------------------------------------------------

    def _decode_tokens(self, X):
        """Each sample's token ids up to end-of-sequence, and its log-likelihood."""
        check_is_fitted(self)
        sequences = check_sequences(X, n_features=self.n_features_in_)
        max_length = self._max_length()

        def decode(module, context):
            if self.beam_width > 1:
                return module.decoder.beam_tokens(context, max_length, self.beam_width)
            return module.decoder.greedy_tokens(context, max_length)

        eos = len(self.classes_)
        results = []
        for ids, log_likelihood in self._decode(sequences, decode):
            end = np.flatnonzero(ids == eos)
            results.append((ids[: end[0] if len(end) else max_length], float(log_likelihood)))
        return results

    def _as_output(self, ids):
        labels = self.classes_[ids]
        return "".join(labels) if self._target_is_text else labels

    def predict(self, X):
        """Decode the output sequence of each input sequence.

        Greedy decoding with ``beam_width=1``, beam search otherwise; each
        output ends where the model emits end-of-sequence (or after
        ``max_output_length`` tokens).

        Parameters
        ----------
        {X}

        Returns
        -------
        y : list of str or list of ndarray of shape (L_i,)
            Strings if the model was fitted on strings, else arrays of labels
            from ``classes_``; ``L_i`` varies from sample to sample.
        """
        return [self._as_output(ids) for ids, _ in self._decode_tokens(X)]

    def _log_likelihood(self, X, y):
        """Natural-log probability of each output sequence (end-of-sequence included) given X."""
        import torch

        from .._torch.seq2seq import token_log_likelihood

        check_is_fitted(self)
        sequences = check_sequences(X, n_features=self.n_features_in_)
        device = self.net_.device
        codes = torch.from_numpy(self._encode_targets(y, reset=False)).to(device)  # (N, L_max + 1)
        module = self.net_.module_
        module.eval()
        with torch.inference_mode():
            context = module.context(
                torch.from_numpy(sequences.padded).to(device),
                torch.from_numpy(sequences.lengths).to(device),
            )  # (N, C)
            return token_log_likelihood(module, context, codes).cpu().numpy()

    def score(self, X, y, sample_weight=None):
        """Exact-sequence accuracy: the fraction of outputs that are entirely right.

        Parameters
        ----------
        {X}

        y : list of str, or list of array-like of shape (L_i,)
            The true output sequences.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
            Mean (weighted) indicator that the predicted sequence equals the
            true one, token for token and in length.
        """
        arrays, _ = self._split_tokens(y)
        predicted = [ids for ids, _ in self._decode_tokens(X)]
        if len(arrays) != len(predicted):
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has "
                f"{len(predicted)} sequences but y has {len(arrays)}."
            )
        correct = np.array(
            [
                len(true) == len(ids) and list(true) == list(self.classes_[ids])
                for true, ids in zip(arrays, predicted)
            ]
        )
        if sample_weight is not None:  # checked as scikit-learn's metrics check them
            sample_weight = _check_sample_weight(sample_weight, correct)
        return float(np.average(correct, weights=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class Seq2SeqRegressor(RegressorMixin, ValueSequencesMixin, BaseDecoding):
    __doc__ = """Encoder-decoder network that maps sequences to real-valued sequences.

    Many-to-many unaligned regression: multi-step forecasts (read a window,
    predict the next ``h`` values), resampling, or any output sequence whose
    length differs from the input's.

    * **Fixed horizon.** When every target sequence has the same length (a
      2-D ``y`` ``(n_samples, horizon)``, a 3-D ``y`` ``(n_samples, horizon,
      n_outputs)``, or a list of equal-length sequences) the model always
      predicts ``horizon_`` steps, as an array.
    * **Variable length.** When the lengths differ, the decoder also learns
      a stop signal (a logistic output trained to be 1 at each sequence's
      last step); a prediction ends at the first step whose stop probability
      exceeds 0.5, and ``predict`` returns a list.

    A 1-D ``y`` is a horizon of one step. Targets are not rescaled:
    standardise them when they are far from unit scale.

    {how}

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

    {fitted}

    See Also
    --------
    Seq2SeqClassifier : The same network for token output sequences.
    SequenceGenerator : Output sequences from a feature vector.
    StepwiseRegressor : One value per input step.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import Seq2SeqRegressor
    >>> rng = np.random.RandomState(0)
    >>> phase = rng.uniform(0, 2 * np.pi, size=(200, 1))
    >>> t = np.arange(25)
    >>> series = np.sin(0.5 * t + phase)  # (200, 25)
    >>> X, y = series[:, :20], series[:, 20:]  # read 20 steps, forecast the next 5
    >>> reg = Seq2SeqRegressor(hidden_size=32, max_iter=30, learning_rate=1e-2,
    ...                        random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3, 5)
    >>> bool(reg.score(X, y) > 0.9)  # R^2 over all output steps
    True
    """.format(
        how=_HOW,
        architecture=_SEQ2SEQ_ARCHITECTURE,
        decoding=DECODING,
        training=TRAINING,
        runtime=_docs.RUNTIME,
        fitted=_docs.FITTED,
    )

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
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
        super().__init__(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            orthogonal_init=orthogonal_init,
            forget_bias=forget_bias,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            clip_grad_norm=clip_grad_norm,
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
        self.teacher_forcing = teacher_forcing
        self.max_output_length = max_output_length

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the encoder-decoder to input sequences ``X`` and output sequences ``y``.

        Parameters
        ----------
        {X}

        y : array-like of shape (n_samples,), (n_samples, L) or (n_samples, L, \
n_outputs), or list of array-like of shape (L_i,) or (L_i, n_outputs)
            The output sequence of each sample, of any length: one value
            (``(n_samples,)``), univariate sequences (2-D, or a list of
            ``(L_i,)``), or sequences of vectors (3-D, or a list of
            ``(L_i, n_outputs)``).

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Train one epoch on ``X``, ``y``, keeping the current weights.

        The first call fixes the output layout (``n_outputs_``, and the
        horizon or a stop signal); later calls must keep it.

        Parameters
        ----------
        {X}

        y : array-like or list of array-like
            The output sequences, as in :meth:`fit`.

        Returns
        -------
        self : object
            The regressor.
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predict the output sequence of each input sequence (each step reads the last).

        Parameters
        ----------
        {X}

        Returns
        -------
        y : ndarray of shape (n_samples,), (n_samples, ``horizon_``) or \
(n_samples, ``horizon_``, n_outputs), or list of ndarray of shape (L_i,) or (L_i, n_outputs)
            An array in the layout of the training ``y`` for a fixed
            horizon; a list of sequences of the predicted lengths for
            variable lengths.
        """
        check_is_fitted(self)
        return self._predict_values(check_sequences(X, n_features=self.n_features_in_))

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 over all real output steps.

        Each sample's output is generated for exactly the length of its true
        sequence (the stop signal plays no part), and every output step is
        one observation.

        Parameters
        ----------
        {X}

        y : array-like or list of array-like
            The true output sequences, as in :meth:`fit`.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample, given to each of its output steps.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` of all output steps (averaged
            uniformly over ``n_outputs_``).
        """
        check_is_fitted(self)
        sequences = check_sequences(X, n_features=self.n_features_in_)
        return self._score_values(sequences, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


for _cls in (Seq2SeqClassifier, Seq2SeqRegressor):
    _docs.fill_input_doc(_cls)
