"""Building, training and running the private skorch net of an estimator."""

from contextlib import contextmanager

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.helper import predefined_split
from skorch.utils import noop

from .._sequence import length_batches
from .data import LengthBatchIterator, SequenceDataset
from .modules import ManyToOneNetwork

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Sequences per forward pass at prediction time: large enough to amortise the
# per-call cost, small enough that long sequences fit in memory.
PREDICT_BATCH_SIZE = 256


class _EarlyStopping(EarlyStopping):
    """skorch's EarlyStopping, idle on epochs that lack the monitored score.

    ``partial_fit`` trains without a validation split, so ``valid_loss`` is
    then missing; skorch's callback would fail on it.
    """

    def on_epoch_end(self, net, **kwargs):
        if self.monitor in net.history[-1]:
            super().on_epoch_end(net, **kwargs)


@contextmanager
def seeded(seed, device):
    """Run torch with its global generators seeded, restoring them afterwards.

    Initialisation, dropout and batch shuffling all draw from torch's global
    generators; forking them makes ``random_state`` reproducible without
    touching the caller's random state.
    """
    devices = [] if torch.device(device).type != "cuda" else None
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def make_net(estimator, *, n_features, n_outputs, criterion, criterion_kwargs=None):
    """The skorch net for ``estimator``'s hyperparameters (not yet initialised)."""
    optimizer = estimator.optimizer
    if isinstance(optimizer, str):
        optimizer = OPTIMIZERS[optimizer]
    monitor = "valid_loss" if estimator.early_stopping else "train_loss"
    callbacks = [
        (
            "early_stopping",
            _EarlyStopping(
                monitor=monitor,
                patience=estimator.n_iter_no_change,
                threshold=estimator.tol,
                threshold_mode="abs",
                load_best=estimator.early_stopping,
                sink=print if estimator.verbose else noop,
            ),
        )
    ]
    if estimator.clip_grad_norm is not None:
        callbacks.append(
            ("clip_grad_norm", GradientNormClipping(gradient_clip_value=estimator.clip_grad_norm))
        )
    callbacks.extend(estimator.callbacks or [])
    return NeuralNet(
        module=ManyToOneNetwork,
        module__input_size=n_features,
        module__output_size=n_outputs,
        module__hidden_size=estimator.hidden_size,
        module__num_layers=estimator.num_layers,
        module__cell=estimator.cell,
        module__bidirectional=estimator.bidirectional,
        module__dropout=estimator.dropout,
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
        device=estimator.device,
        verbose=estimator.verbose,
    )


def train(net, sequences, y, *, epochs, validation_indices=None):
    """Train ``net`` for up to ``epochs`` epochs, holding out ``validation_indices``.

    Returns the number of epochs run.
    """
    dataset = SequenceDataset(sequences, y)
    if validation_indices is not None:
        train_mask = np.ones(len(dataset), dtype=bool)
        train_mask[validation_indices] = False
        net.train_split = predefined_split(dataset.subset(validation_indices))
        dataset = dataset.subset(np.flatnonzero(train_mask))
    n_before = len(net.history)
    try:
        net.partial_fit(dataset, None, epochs=epochs)
    finally:
        # The validation data must not be pickled along with the model.
        net.train_split = None
    return len(net.history) - n_before


def predict_outputs(net, sequences):
    """Raw module outputs, ``(n_samples, n_outputs)`` float array, without skorch.

    skorch's ``predict`` builds a DataLoader and concatenates batches, which
    costs more than the forward pass for a single short sequence.
    """
    module = net.module_
    module.eval()
    device = net.device
    padded = torch.from_numpy(sequences.padded)  # (N, T_max, F)
    lengths = torch.from_numpy(sequences.lengths)  # (N,)
    with torch.inference_mode():
        if len(lengths) <= PREDICT_BATCH_SIZE and sequences.lengths.min() == padded.shape[1]:
            return module(padded.to(device), lengths.to(device)).cpu().numpy()
        outputs = None
        for indices in length_batches(sequences.lengths, PREDICT_BATCH_SIZE, shuffle=False):
            batch_lengths = lengths[indices]  # (B,)
            x = padded[indices, : int(batch_lengths.max())]  # (B, T_batch, F)
            out = module(x.to(device), batch_lengths.to(device)).cpu().numpy()  # (B, n_outputs)
            if outputs is None:
                outputs = np.empty((len(lengths), out.shape[1]), dtype=out.dtype)
            outputs[indices] = out
        return outputs
