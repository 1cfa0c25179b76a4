"""Parameter documentation shared by every recurrent estimator.

The classifier, the regressor and their presets take the same
hyperparameters; their docstrings are assembled from these pieces so that one
text serves all of them.
"""

ARCHITECTURE = """\
cell : {{"rnn", "lstm", "gru"}}, default="{cell}"
        Recurrent cell. ``"rnn"`` is the Elman cell with tanh, ``"lstm"`` the
        long short-term memory cell, ``"gru"`` the gated recurrent unit.

    hidden_size : int, default=64
        Number of units in each direction of each recurrent layer.

    num_layers : int, default=1
        Number of stacked recurrent layers.

    bidirectional : bool, default={bidirectional}
        If True, every layer also reads each sequence backwards (from its own
        last step, never from padding) and the two directions are concatenated.

    dropout : float, default=0.0
        Dropout probability on the inputs of every recurrent layer after the
        first and on the sequence representation before the output layer.

    orthogonal_init : bool, default=True
        Initialise each gate's recurrent weight matrix of the built-in cells
        as a random orthogonal matrix, which keeps the norm of the backward
        signal through time at initialisation. False keeps torch's uniform
        initialisation. Plugin cells keep their own.

    forget_bias : float or None, default=1.0
        Initial bias of the LSTM forget gate (the input-to-hidden bias; the
        hidden-to-hidden one starts at 0), so that the cell remembers by
        default and gradients survive over long spans (Gers et al. 2000;
        Jozefowicz et al. 2015). None keeps torch's initialisation. Only the
        ``"lstm"`` cell has a forget gate.

    recurrent_dropout : float, default=0.0
        Variational dropout on the hidden state of the built-in cells (Gal &
        Ghahramani 2016): each sequence drops the same hidden units at every
        step before the recurrent product, in training only. Unlike
        ``dropout``, it regularises the recurrence itself.

    layer_norm : bool, default=False
        Layer normalisation inside the built-in cells (Ba et al. 2016): the
        input and recurrent projections of each gate are normalised over the
        units before the biases (and the LSTM cell state before its output
        nonlinearity). Either option runs the cells in sklearn-rnn's step
        loop instead of torch's fused layers (slower; no numba kernels, so
        ``backend="auto"`` uses torch)."""

TRAINING = """\
max_iter : int, default=100
        Maximum number of epochs (passes over the training data).

    batch_size : int, default=32
        Number of sequences per mini-batch. Sequences of similar length are
        grouped into the same batch, so little time is spent on padding.

    learning_rate : float, default=1e-3
        Learning rate of the optimizer.

    optimizer : {{"adam", "adamw", "sgd", "rmsprop"}} or callable, default="adam"
        Optimizer used for the weight updates: a name, or a torch optimizer
        class or any callable ``f(params, lr=..., weight_decay=...)`` such as
        ``functools.partial(torch.optim.SGD, momentum=0.9)``.

    weight_decay : float, default=0.0
        Weight decay (L2 penalty) passed to the optimizer.

    clip_grad_norm : float or None, default=5.0
        Maximum norm of the gradient of all weights; larger gradients are
        rescaled (guards against exploding gradients). None disables clipping.

    tbptt_steps : int or None, default=None
        Truncated backpropagation through time: None backpropagates through
        whole sequences; ``k`` cuts each batch into chunks of ``k`` steps,
        carries the state from chunk to chunk without its gradient, and
        updates the weights after every chunk with a loss (for one output
        per sequence, the chunks where sequences end). Memory then grows with
        ``k``, not with the sequence length; ``k`` at least the longest
        length gives exactly the updates of full backpropagation.
        Unidirectional networks only.

    record_gradient_flow : int or None, default=None
        Gradient-flow diagnostics: with ``n``, every ``n``-th training batch
        records the norm of the loss gradient with respect to the top
        recurrent layer's input at each time step (the hidden states of the
        layer below; the input features for one layer), counted back from
        each sequence's end; each epoch's mean goes into ``history_`` under
        ``"gradient_flow"`` (see :func:`sklearn_rnn.plot_gradient_flow`). It
        shows gradients vanishing over time. None records nothing.

    early_stopping : bool, default=False
        If True, hold out ``validation_fraction`` of the training sequences,
        stop when the validation loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the weights of the best epoch.
        If False, stop when the training loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs.

    validation_fraction : float, default=0.1
        Fraction of the training sequences held out when ``early_stopping``
        is True.

    n_iter_no_change : int, default=10
        Number of epochs without improvement before training stops.

    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as improvement.

    warm_start : bool, default=False
        If True, ``fit`` continues training the current weights (and optimizer
        state) instead of starting afresh, with the current training
        hyperparameters. The data must keep the same features, and ``cell``,
        ``hidden_size``, ``num_layers`` and ``bidirectional`` cannot change."""

RUNTIME = """\
device : str, default="cpu"
        Torch device to train and predict on, e.g. ``"cpu"`` or ``"cuda"``.

    backend : {"auto", "torch", "numba"}, default="auto"
        Who computes the recurrent layers, in training and prediction:
        torch's ``nn.RNN``/``nn.LSTM``/``nn.GRU``, or sklearn-rnn's numba
        kernels (hand-derived BPTT, CPU only). ``"auto"`` picks what was
        measured faster: on the CPU, numba for ``"rnn"``, numba for ``"gru"``
        in batches of fewer than 128 sequences, torch otherwise (``"lstm"``,
        large ``"gru"`` batches, any other device); streaming
        (:meth:`predict_step`) runs on numba on the CPU for every cell. See
        docs/backends.md. The weights are the same, so a model trained on one
        backend predicts on the other after ``set_params(backend=...)``.

    callbacks : list of skorch callbacks or None, default=None
        Extra `skorch callbacks
        <https://skorch.readthedocs.io/en/stable/callbacks.html>`_ added to the
        training loop, as ``Callback`` instances or ``(name, callback)`` pairs.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, batch shuffling and the
        validation split. Pass an int for reproducible results; torch's
        global random state is left untouched.

    verbose : int, default=0
        0 prints nothing. 1: a tqdm progress bar over the epochs when stderr
        is a terminal or in a notebook, else a line of losses per epoch; 2 or
        more also a bar over each epoch's batches and the lines. See
        docs/user_guide.md, "Progress and verbose"."""

FITTED = """\
n_features_in_ : int
        Number of features per time step seen during ``fit``.

    n_iter_ : int
        Number of epochs run (over all calls when training continues).

    loss_curve_ : list of float
        Mean training loss of each epoch.

    validation_loss_curve_ : list of float or None
        Validation loss of each epoch when ``early_stopping`` is True, else None.

    history_ : skorch.History
        Per-epoch (and per-batch) record of training, as kept by skorch.

    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module."""

INPUT = """\
X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of array-like of shape (T_i, n_features)
            Sequences: a 3-D array, a 2-D array of univariate sequences, or a
            list of sequences of different lengths."""


def fill_input_doc(cls):
    """Put the shared description of ``X`` into the docstrings of ``cls``'s methods."""
    for name in ("fit", "partial_fit", "predict", "predict_proba", "predict_log_proba", "score"):
        method = cls.__dict__.get(name)
        if method is not None and method.__doc__ and "{X}" in method.__doc__:
            method.__doc__ = method.__doc__.replace("{X}", INPUT)
