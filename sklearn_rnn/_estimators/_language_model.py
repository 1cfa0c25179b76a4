"""Character-level language model: next-character prediction on text."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._text import BOS, EOS, UNK, CharVocabulary, check_texts
from .._validation import Sequences
from . import _docs
from ._base import BaseRecurrent


class CharLanguageModel(BaseRecurrent):
    """Character-level recurrent language model: predicts each next character of a text.

    ``fit`` takes a list of texts. Each text is read from a start symbol, and
    the model learns the probability of every next character and of the
    text's end. Long texts are cut into chunks of ``seq_length`` characters
    for training (the state starts afresh at each chunk, so dependencies
    longer than ``seq_length`` are not learned); scoring and generation run
    over whole texts. Characters are the tokens: no tokenizer is needed, and
    characters seen fewer than ``min_frequency`` times in training, or never
    seen, are one "unknown" symbol.

    Parameters
    ----------
    cell : str or type, default="lstm"
        Recurrent cell: ``"rnn"``, ``"lstm"``, ``"gru"``, a plugin's cell name
        or a cell class (see :func:`sklearn_rnn.available_cells`).

    hidden_size : int, default=128
        Number of units of each recurrent layer.

    num_layers : int, default=1
        Number of stacked recurrent layers.

    embedding_dim : int, default=32
        Size of each character's learned embedding.

    dropout : float, default=0.0
        Dropout on the inputs of every recurrent layer after the first and on
        the outputs before the prediction layer.

    orthogonal_init : bool, default=True
        Orthogonal initial recurrent weights for the built-in cells.

    forget_bias : float or None, default=1.0
        Initial LSTM forget-gate bias (None: torch's initialisation).

    recurrent_dropout : float, default=0.0
        Variational dropout on the hidden state (built-in cells).

    layer_norm : bool, default=False
        Layer normalisation inside the built-in cells.

    seq_length : int, default=128
        Characters per training chunk: longer texts are cut into chunks.

    min_frequency : int, default=2
        Characters seen fewer times in training are mapped to the unknown
        symbol, which thereby gets a learned probability (a text scored later
        may hold characters never seen).

    max_iter : int, default=20
        Maximum number of epochs.

    batch_size : int, default=32
        Chunks per mini-batch (chunks of similar length are batched together).

    learning_rate : float, default=3e-3
        Learning rate of the optimizer.

    optimizer, weight_decay, clip_grad_norm, tbptt_steps, record_gradient_flow, \
early_stopping, \
validation_fraction, n_iter_no_change, tol, warm_start
        As in :class:`RecurrentClassifier`; the validation split holds out
        chunks, ``warm_start`` keeps the fitted vocabulary, and
        ``tbptt_steps`` cuts each ``seq_length`` chunk further for the
        updates, carrying the state across.

    {runtime}

    Attributes
    ----------
    vocabulary_ : list of str
        The characters the model knows, in id order (after the three
        reserved symbols: start, end and unknown).

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : list of float
        Mean training cross-entropy (nats per character) of each epoch.

    validation_loss_curve_ : list of float or None
        Validation cross-entropy of each epoch when ``early_stopping``.

    history_ : skorch.History
        Per-epoch record of training.

    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module.

    See Also
    --------
    SequenceTagger : A label for every step of numeric sequences.

    Notes
    -----
    ``score`` is the mean natural-log likelihood per predicted symbol, each
    text's characters and its end, so ``-score`` is the cross-entropy in
    nats per character and ``perplexity = exp(-score)``. A language model
    reads left to right, so there is no ``bidirectional`` parameter.

    Examples
    --------
    >>> from sklearn_rnn import CharLanguageModel
    >>> texts = ["abcabc", "abcab", "bcabca"] * 10
    >>> lm = CharLanguageModel(hidden_size=16, batch_size=8, max_iter=40, random_state=0)
    >>> lm = lm.fit(texts)
    >>> lm.generate("ab", n_chars=4, temperature=0.01, random_state=0)
    'abcabc'
    >>> bool(lm.perplexity(["abcabc"]) < 1.5)  # chance: 3 characters and the end
    True
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseRecurrent._parameter_constraints.items() if k != "bidirectional"},
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "seq_length": [Interval(Integral, 1, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
    }

    # Not a parameter: a language model must not read what it predicts.
    bidirectional = False
    _per_step_targets = True

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=128,
        num_layers=1,
        embedding_dim=32,
        dropout=0.0,
        orthogonal_init=True,
        forget_bias=1.0,
        recurrent_dropout=0.0,
        layer_norm=False,
        seq_length=128,
        min_frequency=2,
        max_iter=20,
        batch_size=32,
        learning_rate=3e-3,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        tbptt_steps=None,
        record_gradient_flow=None,
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
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.orthogonal_init = orthogonal_init
        self.forget_bias = forget_bias
        self.recurrent_dropout = recurrent_dropout
        self.layer_norm = layer_norm
        self.seq_length = seq_length
        self.min_frequency = min_frequency
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.tbptt_steps = tbptt_steps
        self.record_gradient_flow = record_gradient_flow
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

    # --- hooks of BaseRecurrent -------------------------------------------------

    def _module(self):
        from .._torch.language_model import LanguageModelNetwork

        return LanguageModelNetwork, {"embedding_dim": self.embedding_dim, **self._cell_options()}

    def _n_inputs(self):
        return len(self._vocabulary)

    def _n_outputs(self):
        return len(self._vocabulary)

    def _criterion(self, y_encoded):
        from .._torch.per_step import StepCrossEntropy

        return StepCrossEntropy, {}

    def _training_data(self, X, y, *, continuing, classes=None):
        texts = check_texts(X)
        if not continuing:
            self._vocabulary = CharVocabulary(texts, self.min_frequency)
            self.vocabulary_ = list(self._vocabulary.chars)
        return self._encode(texts, chunk=self.seq_length)

    # --- data -----------------------------------------------------------------------

    def _encode(self, texts, chunk=None):
        """Input ids as ``Sequences`` ``(N, T_max, 1)`` and next-id targets ``(N, T_max)``.

        With ``chunk``, each text's (input, target) pairs are cut into pieces
        of at most ``chunk`` steps.
        """
        from .._targets import IGNORE

        pieces = []
        for text in texts:
            ids = self._vocabulary.encode(text)  # BOS, text, EOS
            step = chunk or len(ids)
            pieces.extend(
                (ids[i : i + step], ids[i + 1 : i + 1 + step]) for i in range(0, len(ids) - 1, step)
            )
        lengths = np.array([len(target) for _, target in pieces], dtype=np.int64)
        padded = np.zeros((len(pieces), lengths.max(), 1), dtype=np.float32)
        targets = np.full((len(pieces), lengths.max()), IGNORE, dtype=np.int64)
        for i, (inputs, target) in enumerate(pieces):
            padded[i, : len(target), 0] = inputs[: len(target)]
            targets[i, : len(target)] = target
        return Sequences(padded, lengths, "ragged"), targets

    # --- fitting ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on texts.

        Parameters
        ----------
        X : list of str
            The training texts, one per sample.
        y : None
            Ignored: the targets are the texts' own next characters.

        Returns
        -------
        self : CharLanguageModel
            The fitted model.
        """
        return self._fit(X, None, incremental=False)

    # --- evaluation -----------------------------------------------------------------

    def _log_likelihood(self, X):
        from .._torch.language_model import log_likelihood

        check_is_fitted(self)
        sequences, targets = self._encode(check_texts(X))
        module = self.net_.module_
        module.encoder.backend = self._backend(min(len(targets), 64))
        return log_likelihood(module, sequences, targets, self.net_.device)

    def score(self, X, y=None):
        """Mean log-likelihood per character (natural log; higher is better).

        Every character of each text counts, and each text's end; unknown
        characters are scored as the unknown symbol.

        Parameters
        ----------
        X : list of str
            Texts.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``total log-likelihood / (number of characters + number of texts)``;
            ``-score`` is the cross-entropy in nats per character.
        """
        total, count = self._log_likelihood(X)
        return total / count

    def perplexity(self, X):
        """Per-character perplexity, ``exp(-score(X))``: 1 is perfect, the vocabulary size is chance.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        perplexity : float
        """
        return float(np.exp(-self.score(X)))

    # --- generation -----------------------------------------------------------------

    def generate(self, prefix="", n_chars=200, temperature=1.0, random_state=None, stop_at_end=True):
        """Continue ``prefix`` by sampling one character at a time.

        Parameters
        ----------
        prefix : str, default=""
            The start of the text (may be empty); unknown characters are read
            as the unknown symbol.
        n_chars : int, default=200
            Maximum number of characters to add.
        temperature : float, default=1.0
            Divides the logits before sampling: below 1 the text is more
            predictable, near 0 it is greedy (the most likely character).
        random_state : int, RandomState instance or None, default=None
            Seeds the sampling.
        stop_at_end : bool, default=True
            Stop where the model ends the text (so fewer than ``n_chars`` may
            be added); if False, the end is never sampled.

        Returns
        -------
        text : str
            ``prefix`` followed by the generated characters. The unknown
            symbol is never generated.
        """
        check_is_fitted(self)
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {type(prefix).__name__}.")
        if not isinstance(n_chars, Integral) or isinstance(n_chars, bool) or n_chars < 0:
            raise ValueError(f"n_chars must be a non-negative integer, got {n_chars!r}.")
        if not isinstance(temperature, Real) or not temperature > 0 or not np.isfinite(temperature):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}.")
        rng = check_random_state(random_state)
        embedding = self.net_.module_.embedding.weight.detach().cpu().numpy()  # (V, E)
        embedding = embedding.astype(np.float32)
        network = self._streaming_network()
        state = network.init_state(1)
        ids = self._vocabulary.encode(prefix)[:-1]  # BOS and the prefix, no end
        for token in ids:
            logits, state = network.step(embedding[[token]], state)  # (1, V)
        banned = [BOS, UNK] + ([] if stop_at_end else [EOS])
        generated = []
        if not stop_at_end and n_chars and not self._vocabulary.chars:
            raise ValueError(
                "The model knows no characters (it was fitted on empty texts), so with "
                "stop_at_end=False there is nothing to generate."
            )
        for _ in range(n_chars):
            logits = logits[0].astype(np.float64)  # (V,)
            logits[banned] = -np.inf
            # Shifted first, so a tiny temperature tends to greedy (0 and -inf), not to inf - inf.
            with np.errstate(over="ignore"):
                probabilities = np.exp((logits - logits.max()) / temperature)
            token = int(rng.choice(len(probabilities), p=probabilities / probabilities.sum()))
            if token == EOS:
                break
            generated.append(token)
            logits, state = network.step(embedding[[token]], state)
        return prefix + self._vocabulary.decode(generated)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


CharLanguageModel.__doc__ = CharLanguageModel.__doc__.replace("{runtime}", _docs.RUNTIME)
