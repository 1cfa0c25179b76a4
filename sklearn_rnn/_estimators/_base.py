"""The shared base of the recurrent estimators: parameters, fitting, prediction.

torch and skorch are imported inside the methods that need them, so that
``import sklearn_rnn`` does not pay for them.
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._backend import BACKENDS, resolve_backend, resolve_streaming_backend
from .._persistence import PersistenceMixin
from .._stream_state import Streamer, check_n_streams
from .._validation import check_sequences
from ..exceptions import TrainingDivergedError

OPTIMIZER_NAMES = ("adam", "adamw", "sgd", "rmsprop")


class _StreamingCache(NamedTuple):
    """What ``BaseRecurrent._streamer`` built, and for which network and backend."""

    net: object
    backend: str
    device: object
    streamer: Streamer


class BaseRecurrent(PersistenceMixin, BaseEstimator):
    """Base class of the many-to-one recurrent estimators.

    Subclasses define how targets are encoded (``_encode_targets``), the loss
    (``_criterion``) and the number of outputs.
    """

    _parameter_constraints: dict = {
        # A registered name or a cell class: resolved by the cell registry in fit,
        # whose error lists the installed cells.
        "cell": [str, type],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "orthogonal_init": ["boolean"],
        "forget_bias": [Real, None],
        "recurrent_dropout": [Interval(Real, 0, 1, closed="left")],
        "layer_norm": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZER_NAMES)), callable],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "tbptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "record_gradient_flow": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str],
        "backend": [StrOptions(set(BACKENDS))],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.orthogonal_init = orthogonal_init
        self.forget_bias = forget_bias
        self.recurrent_dropout = recurrent_dropout
        self.layer_norm = layer_norm
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

    # --- hooks for subclasses -------------------------------------------------

    def _encode_targets(self, y, *, reset, classes=None):
        """Validate ``y`` and return the array the loss consumes."""
        raise NotImplementedError

    def _n_outputs(self):
        raise NotImplementedError

    def _criterion(self, y_encoded):
        """The torch loss class and its keyword arguments."""
        raise NotImplementedError

    def _stratify(self, y_encoded):
        """Labels to stratify the validation split on, or None."""
        return None

    # Whether the encoded targets hold one entry per time step, padded like X.
    _per_step_targets = False

    def _module(self):
        """The network class and its extra keyword arguments (see ``make_net``)."""
        from .._torch.modules import ManyToOneNetwork

        return ManyToOneNetwork, self._cell_options()

    def _cell_options(self):
        """The options of the built-in cells that the encoder's layers take."""
        return {"recurrent_dropout": self.recurrent_dropout, "layer_norm": self.layer_norm}

    def _regularized(self):
        return self.recurrent_dropout > 0 or self.layer_norm

    def _check_targets_match(self, sequences, y_encoded):
        """Hook: per-step estimators check each target sequence's length here."""

    def _training_data(self, X, y, *, continuing, classes=None):
        """Validated ``(sequences, y_encoded)`` for training; sets ``n_features_in_``.

        Estimators whose ``X`` is not numeric sequences (text) override this.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        sequences = check_sequences(X, n_features=self.n_features_in_ if continuing else None)
        y_encoded = self._encode_targets(y, reset=not continuing, classes=classes)
        if len(y_encoded) != sequences.n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: X has "
                f"{sequences.n_samples} sequences but y has {len(y_encoded)} entries."
            )
        self._check_targets_match(sequences, y_encoded)
        if not continuing:
            self.n_features_in_ = sequences.n_features
        return sequences, y_encoded

    def _n_inputs(self):
        """The network's ``input_size``."""
        return self.n_features_in_

    # --- fitting --------------------------------------------------------------

    def _check_device(self, traits):
        import torch

        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device={self.device!r} is not a torch device: {exc}") from exc
        if self.backend == "numba" and device.type != "cpu":
            raise ValueError(
                f"backend='numba' runs on the CPU, but device={self.device!r}. Use "
                "backend='torch' on a GPU."
            )
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested but CUDA is not available "
                "(torch.cuda.is_available() is False). Use device='cpu'."
            )
        if self.backend == "numba" and not traits[1]:
            raise ValueError(
                f"backend='numba' needs numba kernels, and the cell {self.cell!r} has none "
                "(no numba_kernels attribute, see docs/cell_protocol.md). Use backend='torch' "
                "or backend='auto'."
            )

    def _fit(self, X, y, *, incremental, classes=None):
        """Fit from scratch, or continue training the current weights."""
        from .._torch.init import initialize_recurrent_weights
        from .._torch.checkpoint import checkpoint_of
        from .._torch.net import continue_training, seeded, train
        from .._torch.randomness import FitRandomness

        traits = self._cell_traits(fitted=False)  # also checks the cell: clear errors first
        self._check_device(traits)
        if self.tbptt_steps is not None and self.bidirectional:
            raise ValueError(
                f"tbptt_steps={self.tbptt_steps} needs a unidirectional network: truncated "
                "BPTT carries the state forward in time, and a bidirectional layer also reads "
                "each sequence from its end. Set bidirectional=False or tbptt_steps=None."
            )
        continuing = (incremental or self.warm_start) and hasattr(self, "net_")
        if continuing:
            self._check_architecture_unchanged()
        sequences, y_encoded = self._training_data(X, y, continuing=continuing, classes=classes)
        seed = self._seed(continuing)
        validation_indices = None
        if self.early_stopping and not incremental:
            validation_indices = self._validation_indices(y_encoded, seed)
        epochs = 1 if incremental else self.max_iter
        checkpoint = checkpoint_of(self, incremental=incremental, continuing=continuing)
        if checkpoint is not None:  # resuming restores the split and skips the epochs done
            validation_indices, epochs = checkpoint.start(
                self, sequences, y_encoded, validation_indices, epochs
            )
        # The fit's own generators: fits in threads of one process draw apart.
        with FitRandomness(seed) as randomness:
            net = self._new_net(traits, y_encoded)
            # Continuing rebuilds the net from the current hyperparameters (a new
            # learning rate or clipping takes effect) and carries over the weights,
            # the optimizer state and the history. The layers' constructors draw
            # from torch's global generator: `seeded` forks it, one thread at a time.
            with seeded(randomness.draw_seed(), self.device):
                if continuing:
                    self.net_ = continue_training(self.net_, net)
                else:
                    self.net_ = net.initialize()
            if not continuing:
                initialize_recurrent_weights(
                    self.net_.module_, self.orthogonal_init, self.forget_bias
                )
            try:
                stopped_early = train(
                    self.net_,
                    sequences,
                    y_encoded,
                    epochs=epochs,
                    validation_indices=validation_indices,
                    per_step=self._per_step_targets,
                )
            except TrainingDivergedError:
                # Usable with the weights kept by the guard: record what was trained.
                self._record_history(partial_epoch=True)
                raise
        self._record_history()
        if not incremental and not stopped_early:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet. Increase max_iter.",
                ConvergenceWarning,
            )
        return self

    def _new_net(self, traits, y_encoded):
        """The skorch net (not initialised) of the parameters and fitted attributes.

        ``traits`` are ``_cell_traits(fitted=False)``; ``y_encoded`` the encoded
        targets, which the criterion may read (class weights). ``load`` builds
        the net of a saved model here too.
        """
        from .._torch.net import make_net

        criterion, criterion_kwargs = self._criterion(y_encoded)
        module, module_kwargs = self._module()
        return make_net(
            self,
            n_features=self._n_inputs(),
            n_outputs=self._n_outputs(),
            backend=self._backend(self.batch_size, traits),
            criterion=criterion,
            criterion_kwargs=criterion_kwargs,
            module=module,
            module_kwargs=module_kwargs,
            per_step=self._per_step_targets,
        )

    def _record_history(self, partial_epoch=False):
        """The fitted attributes that describe training, from the net's history.

        ``partial_epoch``: the last history row is an epoch that did not
        complete (training diverged in it) and is dropped.
        """
        history = self.net_.history
        if partial_epoch and len(history):
            del history[-1]  # skorch's History is a list of epochs
        self.history_ = history
        self.n_iter_ = len(history)
        self.loss_curve_ = [epoch["train_loss"] for epoch in history]
        self.validation_loss_curve_ = (
            [epoch.get("valid_loss", np.nan) for epoch in history]
            if self.early_stopping
            else None
        )

    def _cell_traits(self, fitted=True):
        """``(layer, has_kernels)`` of the cell: its built-in layer name (or None) and
        whether it has numba kernels.

        With ``fitted``, of the fitted network's cell (prediction and streaming
        need no registry lookup, so a model pickled with a cell registered at
        runtime predicts in a process where the name is not registered);
        otherwise of the ``cell`` parameter, resolved through the registry.
        """
        if fitted:
            encoder = self.net_.module_.encoder
            if encoder.layer_name is not None:
                return encoder.layer_name, True
            return None, getattr(encoder.layers[0][0].cell, "numba_kernels", None) is not None
        from .._torch.modules import resolve_layer

        cell_cls, layer = resolve_layer(self.cell)
        regularized = getattr(self, "recurrent_dropout", 0) > 0 or getattr(self, "layer_norm", False)
        if layer is not None and regularized:
            return None, False  # the regularised cells run in the step loop, without kernels
        return layer, layer is not None or getattr(cell_cls, "numba_kernels", None) is not None

    def _backend(self, batch_size=None, traits=None):
        """The backend for batches of ``batch_size``: ``backend`` with "auto" resolved.

        "auto" runs a plugin cell on torch: the rule covers the measured
        built-in kernels only.
        """
        layer, _ = self._cell_traits() if traits is None else traits
        # A fitted network runs where its weights are, even after set_params(device=...).
        device = self.device if traits is not None else self.net_.device
        return resolve_backend(self.backend, layer, device, batch_size)

    def _seed(self, continuing):
        """The torch seed of this fit.

        An int ``random_state`` makes fits reproducible; continued training mixes
        in the number of epochs already run, so that successive ``partial_fit``
        calls do not replay the same batch order and dropout masks.
        """
        base = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        epochs_done = self.n_iter_ if continuing else 0
        return int(np.random.SeedSequence([base, epochs_done]).generate_state(1)[0] >> 1)

    def _check_architecture_unchanged(self):
        built = self.net_.module_.hyperparameters
        current = {name: getattr(self, name) for name in built}
        if current != built:
            changed = ", ".join(
                f"{name}={current[name]!r} (fitted: {built[name]!r})"
                for name in built
                if current[name] != built[name]
            )
            raise ValueError(
                f"Cannot continue training with a different architecture: {changed}. "
                "Set warm_start=False to fit a new network."
            )

    def _validation_indices(self, y_encoded, seed):
        n_samples = len(y_encoded)
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        if n_samples - n_valid < 1 or n_valid < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction} of {n_samples} sequences, which leaves "
                "no training or no validation data. Use more data or early_stopping=False."
            )
        stratify = self._stratify(y_encoded)
        indices = np.arange(n_samples)
        try:
            _, valid = train_test_split(
                indices, test_size=n_valid, random_state=seed, stratify=stratify
            )
        except ValueError:
            # Too few members of some class to stratify: fall back to a plain split.
            _, valid = train_test_split(indices, test_size=n_valid, random_state=seed)
        return valid

    # --- prediction -----------------------------------------------------------

    def _predict_outputs(self, X):
        """Raw network outputs for ``X``, shape ``(n_samples, n_outputs)``."""
        from .._torch.net import PREDICT_BATCH_SIZE, predict_outputs

        check_is_fitted(self)
        sequences = check_sequences(X, n_features=self.n_features_in_)
        backend = self._backend(min(sequences.n_samples, PREDICT_BATCH_SIZE))
        return predict_outputs(self.net_, sequences, backend)

    def _final_states(self, X):
        """Each sequence's final state, ``(n_samples, D*hidden_size)``: what the head reads."""
        from .._torch.net import PREDICT_BATCH_SIZE, encode_outputs

        check_is_fitted(self)
        sequences = check_sequences(X, n_features=self.n_features_in_)
        backend = self._backend(min(sequences.n_samples, PREDICT_BATCH_SIZE))
        return encode_outputs(self.net_, sequences, backend)

    # --- streaming -------------------------------------------------------------

    def init_state(self, n_streams=1):
        """The recurrent state before the first step of ``n_streams`` sequences.

        Parameters
        ----------
        n_streams : int, default=1
            Number of sequences fed side by side to :meth:`predict_step`.

        Returns
        -------
        state : StreamState
            Opaque state to pass to :meth:`predict_step`.
        """
        check_is_fitted(self)
        check_n_streams(n_streams)  # before the network: clear errors first
        return self._streamer().init_state(n_streams)

    def _streamer(self):
        """The :class:`~sklearn_rnn._stream_state.Streamer` of the fitted network on the
        streaming backend, built at the first step and cached in ``_streaming``.

        Rebuilt whenever ``net_``, its device or ``backend`` changes: every fit
        and partial_fit makes a new ``net_``, so identity tells whether the
        cached weights are current. The cache is never pickled (see
        ``__getstate__``), so it cannot outlive the weights it copied.
        """
        cached = self.__dict__.get("_streaming")
        net = self.__dict__.get("net_")
        if (
            type(cached) is _StreamingCache  # (not a tuple of an older version)
            and cached.net is net
            and cached.backend == self.backend
            and cached.device == net.device
        ):
            return cached.streamer
        check_is_fitted(self)
        has_kernels = self._cell_traits()[1]
        if self.backend == "numba" and not has_kernels:
            raise ValueError(
                f"backend='numba' needs numba kernels, and the cell {self.cell!r} has none. "
                "Use backend='torch' or backend='auto'."
            )
        if resolve_streaming_backend(self.backend, net.device, has_kernels) == "numba":
            from .._torch.streaming import numba_streaming_network

            network = numba_streaming_network(net.module_)
        else:
            from .._torch.streaming import TorchStreamingNetwork

            network = TorchStreamingNetwork(net.module_, net.device)
        streamer = Streamer(network, self._n_inputs())
        self._streaming = _StreamingCache(net, self.backend, net.device, streamer)
        return streamer

    def _streaming_network(self):
        """The fitted network stepping on the streaming backend, without the checks."""
        return self._streamer().network

    def _step_outputs(self, x_t, state):
        """Network outputs ``(n_streams, n_outputs)`` after one step, and the new state."""
        return self._streamer().step(x_t, state)

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object's is the live __dict__
        state.pop("_streaming", None)  # rebuilt at the next step
        return state

    def export_weights(self, path):
        """Write the fitted network's weights to a NumPy ``.npz`` file.

        :func:`sklearn_rnn.load_predictor` reads it into a predictor that runs
        on the numba kernels without importing torch. The file holds plain
        arrays only (no pickle), so loading it never runs code.

        Parameters
        ----------
        path : str or path-like
            Where to write; NumPy adds ``.npz`` if it is missing.
        """
        from .._numba.predictor import save_arrays
        from .._torch.export import network_arrays

        check_is_fitted(self)
        cell, layers, head = network_arrays(self.net_.module_)
        save_arrays(
            path,
            cell=cell,
            layers=layers,
            head=head,
            n_features_in=self.n_features_in_,
            classes=getattr(self, "classes_", None),
            target_is_1d=getattr(self, "_target_is_1d", True),
        )

    def __sklearn_is_fitted__(self):
        # Cheaper than check_is_fitted's scan of every attribute, on every predict.
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
