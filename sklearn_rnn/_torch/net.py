"""Building, training and running the private skorch net of an estimator."""

import threading
from contextlib import contextmanager
from copy import deepcopy

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.helper import predefined_split
from skorch.utils import noop

from .._sequence import length_batches
from .callbacks import GradientFlowRecorder, GradientGuard
from .data import LengthBatchIterator, SequenceDataset
from .modules import ManyToOneNetwork
from .progress import TrainingProgress
from .randomness import global_rng_seeded

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Sequences per forward pass at prediction time: large enough to amortise the
# per-call cost, small enough that long sequences fit in memory.
PREDICT_BATCH_SIZE = 256


class StopWhenNoImprovement(Callback):
    """Stop when the monitored loss has not improved for ``patience`` epochs.

    scikit-learn's MLP rule: an epoch improves when its loss is below the best
    so far by more than ``tol``. With ``restore_best`` the weights of the epoch
    with the lowest loss (not merely the last one that beat ``tol``) are put
    back when training ends. Epochs that lack the monitored loss (``partial_fit``
    has no validation data) are ignored.
    """

    def __init__(self, monitor, patience, tol, restore_best, sink):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best
        self.sink = sink

    def on_train_begin(self, net, **kwargs):
        self.best_loss_ = np.inf
        self.best_epoch_ = None
        self.best_weights_ = None
        self.misses_ = 0
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        if self.monitor not in net.history[-1]:
            return
        loss = net.history[-1, self.monitor]
        self.misses_ = self.misses_ + 1 if loss > self.best_loss_ - self.tol else 0
        if loss < self.best_loss_:
            self.best_loss_ = loss
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.restore_best:
                self.best_weights_ = deepcopy(net.module_.state_dict())
        if self.misses_ >= self.patience:
            self.stopped_ = True
            self.sink(
                f"Stopping: {self.monitor} has not improved by {self.tol} for "
                f"{self.patience} epochs."
            )
            raise KeyboardInterrupt  # skorch's signal to end training

    def on_train_end(self, net, **kwargs):
        if self.best_weights_ is not None and self.best_epoch_ != net.history[-1, "epoch"]:
            net.module_.load_state_dict(self.best_weights_)
            self.sink(f"Restored the weights of epoch {self.best_epoch_} (best {self.monitor}).")
        self.best_weights_ = None  # not pickled with the model

    def __getstate__(self):
        return {**self.__dict__, "best_weights_": None}


class RecurrentNet(NeuralNet):
    """skorch's ``NeuralNet`` with truncated backpropagation through time.

    Parameters
    ----------
    tbptt_steps : int or None
        Chunk length of truncated BPTT (see :mod:`.tbptt`); None trains on
        whole sequences.
    per_step : bool
        Whether the module predicts every step (targets ``(B, T, ...)``) rather
        than one output per sequence.
    """

    def __init__(self, *args, tbptt_steps=None, per_step=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.tbptt_steps = tbptt_steps
        self.per_step = per_step

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        use_thread_share()  # jobs that began or ended in this process change the share

    def train_step(self, batch, **fit_params):
        if self.tbptt_steps is None:
            return super().train_step(batch, **fit_params)
        from .tbptt import truncated_bptt_step

        return truncated_bptt_step(self, batch, self.tbptt_steps, self.per_step)


def seeded(seed, device):
    """Build a network with torch's global generators seeded, restoring them afterwards.

    For the one draw no generator argument reaches: the default
    initialisation in the constructors of torch's layers and of plugin cells.
    A process-wide lock lets one thread at a time in (see
    :func:`~.randomness.global_rng_seeded`); everything else a fit draws
    comes from its own generators (:class:`~.randomness.FitRandomness`).
    """
    device = torch.device(device)
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    return global_rng_seeded(seed, devices)


# Jobs (fits and predictions) running in this process, and torch's threads
# when the first of them began.
_RUNNING = {"jobs": 0, "threads": 1}
_RUNNING_LOCK = threading.Lock()
_IN_JOB = threading.local()  # .active: this thread runs a job (a callback may predict)


def use_thread_share():
    """Give the calling thread its share of torch's threads while jobs run.

    The share is the process's torch threads divided by the jobs running in
    it, at least 1. Outside :func:`thread_share` this does nothing.
    """
    jobs = _RUNNING["jobs"]
    if jobs:
        share = max(1, _RUNNING["threads"] // jobs)
        if torch.get_num_threads() != share:
            torch.set_num_threads(share)


@contextmanager
def thread_share():
    """Run a fit or a prediction with its share of torch's threads.

    Jobs in separate processes (joblib's default loky backend, Dask worker
    processes) start with their share: joblib and Dask's nanny set
    ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` in the workers, and torch
    reads them. Jobs running as
    threads of one process (joblib's threading backend, a Dask worker with
    several threads) each used all of the process's torch threads, 2 + 2 on 2
    cores; here each gets the threads divided by the jobs running, updated
    every epoch. A job alone keeps torch's setting: nothing is changed.
    ``torch.set_num_threads`` also sets the count of threads not started yet
    and MKL's process-wide count, so the process's setting is put back after.
    """
    if getattr(_IN_JOB, "active", False):  # a prediction within a fit: the same job
        yield
        return
    _IN_JOB.active = True
    with _RUNNING_LOCK:
        if _RUNNING["jobs"] == 0:
            _RUNNING["threads"] = torch.get_num_threads()
        _RUNNING["jobs"] += 1
        threads = _RUNNING["threads"]
    try:
        use_thread_share()
        yield
    finally:
        _IN_JOB.active = False
        with _RUNNING_LOCK:
            _RUNNING["jobs"] -= 1
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


@contextmanager
def flushed_denormals():
    """Flush denormal floats to zero while training, on x86 CPUs.

    Gradients flowing back over hundreds of steps decay into denormals, which
    x86 processes very slowly: an epoch on sequences of 10-500 steps took 5.6x
    longer without this (docs/benchmarks.md), with identical results to 6
    decimals. torch cannot report the previous setting, so it is switched off
    again afterwards (its default).
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


def make_net(
    estimator,
    *,
    n_features,
    n_outputs,
    backend,
    criterion,
    criterion_kwargs=None,
    module=ManyToOneNetwork,
    module_kwargs=None,
    per_step=False,
):
    """The skorch net for ``estimator``'s hyperparameters (not yet initialised).

    ``backend`` is the resolved backend, ``"torch"`` or ``"numba"``.
    ``module`` is the network class; it takes the keyword arguments of
    :class:`ManyToOneNetwork` (``input_size``, ``output_size``, ``hidden_size``,
    ``num_layers``, ``cell``, ``bidirectional``, ``dropout``, ``backend``)
    and ``module_kwargs``, and must have an ``encoder`` and ``hyperparameters``.
    """
    optimizer = estimator.optimizer
    if isinstance(optimizer, str):
        optimizer = OPTIMIZERS[optimizer]
    monitor = "valid_loss" if estimator.early_stopping else "train_loss"
    # First, so that its bar counts the epoch in which the stop rule ends training.
    progress = TrainingProgress(estimator.verbose, type(estimator).__name__)
    callbacks = [
        ("progress", progress),
        (
            "early_stopping",
            StopWhenNoImprovement(
                monitor=monitor,
                patience=estimator.n_iter_no_change,
                tol=estimator.tol,
                restore_best=estimator.early_stopping,
                sink=progress.write if estimator.verbose else noop,
            ),
        )
    ]
    # Always installed: clipping (when clip_grad_norm is set) and the stop on a
    # non-finite loss or gradient share one norm computation.
    callbacks.append(("gradient_guard", GradientGuard(max_norm=estimator.clip_grad_norm)))
    every = getattr(estimator, "record_gradient_flow", None)
    if every is not None:
        callbacks.append(("gradient_flow", GradientFlowRecorder(every)))
    callbacks.extend(estimator.callbacks or [])
    return RecurrentNet(
        tbptt_steps=getattr(estimator, "tbptt_steps", None),
        per_step=per_step,
        module=module,
        **{f"module__{k}": v for k, v in (module_kwargs or {}).items()},
        module__input_size=n_features,
        module__output_size=n_outputs,
        module__hidden_size=estimator.hidden_size,
        module__num_layers=estimator.num_layers,
        module__cell=estimator.cell,
        module__bidirectional=estimator.bidirectional,
        module__dropout=estimator.dropout,
        module__backend=backend,
        criterion=criterion,
        **{f"criterion__{k}": v for k, v in (criterion_kwargs or {}).items()},
        optimizer=optimizer,
        lr=estimator.learning_rate,
        optimizer__weight_decay=estimator.weight_decay,
        max_epochs=estimator.max_iter,
        batch_size=estimator.batch_size,
        iterator_train=LengthBatchIterator,
        iterator_train__shuffle=True,
        iterator_valid=LengthBatchIterator,
        train_split=None,
        callbacks=callbacks,
        # skorch's table of losses: the progress callback decides when it shows.
        callbacks__print_log__sink=progress.table,
        device=estimator.device,
        verbose=estimator.verbose,
    )


def continue_training(old, new):
    """Initialise ``new`` with the weights, optimizer state and history of ``old``.

    ``new`` carries the current hyperparameters (learning rate, clipping,
    callbacks, device); the architecture must be the same. Call it where
    ``new.initialize()`` may draw (inside :func:`seeded`).
    """
    new.initialize()
    new.module_.load_state_dict(old.module_.state_dict())
    if type(new.optimizer_) is type(old.optimizer_):
        fresh = [{k: v for k, v in group.items() if k != "params"} for group in new.optimizer_.param_groups]
        new.optimizer_.load_state_dict(old.optimizer_.state_dict())
        # load_state_dict also restores the old learning rate; the new one wins.
        for group, settings in zip(new.optimizer_.param_groups, fresh):
            group.update(settings)
    new.history = old.history
    return new


def train(net, sequences, y, *, epochs, validation_indices=None, per_step=False):
    """Train ``net`` for up to ``epochs`` epochs, holding out ``validation_indices``.

    ``per_step`` says that ``y`` holds a target per time step, padded like
    the sequences (``(n_samples, max_length, ...)``). Returns whether training
    stopped before ``epochs`` because the monitored loss stopped improving.
    """
    # A module with reads_targets (the decoders of seq2seq.py) gets them in forward.
    reads_targets = getattr(net.module_, "reads_targets", False)
    dataset = SequenceDataset(sequences, y, per_step=per_step, targets_in_input=reads_targets)
    if validation_indices is not None:
        train_mask = np.ones(len(dataset), dtype=bool)
        train_mask[validation_indices] = False
        net.train_split = predefined_split(dataset.subset(validation_indices))
        dataset = dataset.subset(np.flatnonzero(train_mask))
    progress = dict(net.callbacks_)["progress"]
    progress.expect(epochs)
    try:
        with flushed_denormals(), thread_share():
            net.partial_fit(dataset, None, epochs=epochs)
    finally:
        # The validation data must not be pickled along with the model.
        net.train_split = None
        progress.close()  # skorch skips on_train_end when an epoch raises
    return dict(net.callbacks_)["early_stopping"].stopped_


def predict_outputs(net, sequences, backend, forward=None):
    """Raw module outputs, ``(n_samples, n_outputs)`` float array, without skorch.

    A module with an output per time step gives ``(n_samples, max_length,
    n_outputs)``, zero after each sequence's length. ``forward(module, x,
    lengths)``, if given, replaces the module's own forward pass (see
    :func:`encode_outputs`).

    skorch's ``predict`` builds a DataLoader and concatenates batches, which
    cost more than the forward pass for a single short sequence (2.3x against
    our path's 1.4x, docs/benchmarks.md); every step here is kept cheap for
    the same reason.
    """
    module = net.module_
    module.encoder.backend = backend  # the weights are the same for both backends
    if module.training:  # eval() walks every submodule: skip it when already set
        module.eval()
    on_cpu = torch.device(net.device).type == "cpu"

    def run(x, lengths):  # x: (B, T, F), lengths: (B,)
        if not on_cpu:
            x, lengths = x.to(net.device), lengths.to(net.device)
        out = module(x, lengths) if forward is None else forward(module, x, lengths)  # (B, C)
        return (out if on_cpu else out.cpu()).numpy()

    padded = torch.from_numpy(sequences.padded)  # (N, T_max, F)
    lengths = torch.from_numpy(sequences.lengths)  # (N,)
    with torch.inference_mode(), thread_share():
        if len(lengths) <= PREDICT_BATCH_SIZE and sequences.lengths.min() == padded.shape[1]:
            return run(padded, lengths)
        outputs = None
        for indices in length_batches(sequences.lengths, PREDICT_BATCH_SIZE, shuffle=False):
            batch_lengths = lengths[indices]  # (B,)
            out = run(padded[indices, : int(batch_lengths.max())], batch_lengths)  # (B, [T_b,] C)
            if outputs is None:
                shape = (len(lengths),) + out.shape[1:]
                if out.ndim == 3:  # per step: (N, T_max, C), zero past each length
                    shape = (len(lengths), padded.shape[1], out.shape[2])
                outputs = np.zeros(shape, dtype=out.dtype)
            if out.ndim == 3:
                outputs[indices, : out.shape[1]] = out
            else:
                outputs[indices] = out
        return outputs


def _final_state(module, x, lengths):
    outputs = module.encoder(x, lengths)  # (B, T, D*H)
    return module.encoder.final_state(outputs, lengths)  # (B, D*H)


def encode_outputs(net, sequences, backend):
    """Each sequence's final state, ``(n_samples, D*hidden_size)``: what the head reads.

    Batched like :func:`predict_outputs`; for a bidirectional encoder, the
    forward direction's last real step next to the reverse direction's step 0.
    """
    return predict_outputs(net, sequences, backend, forward=_final_state)
