"""Datasets and batch iterators over padded sequences.

A batch is built by one fancy-index of the padded tensor, trimmed to the
longest sequence in the batch; sequences of similar length are grouped into the
same batch (see ``sklearn_rnn._sequence.length_batches``) so that little time
is spent on padding.
"""

import numpy as np
import torch

from .._sequence import length_batches
from .randomness import fit_generator


class SequenceDataset(torch.utils.data.Dataset):
    """Padded sequences, their lengths and optional targets, indexed a batch at a time.

    Parameters
    ----------
    sequences : Sequences
        Validated sequences (``padded`` is shared, not copied).
    y : ndarray or None
        Targets, one per sequence; None at prediction time.
    per_step : bool, default=False
        Whether ``y`` has a target per time step, ``(N, T_max, ...)`` padded
        like the sequences; a batch's targets are then trimmed to its length.
    targets_in_input : bool, default=False
        Whether the module's ``forward`` also reads the batch's targets, as
        ``target`` (teacher forcing in the decoders of ``seq2seq.py``).
    """

    def __init__(self, sequences, y=None, per_step=False, targets_in_input=False):
        self.padded = torch.from_numpy(sequences.padded)  # (N, T_max, F)
        self.lengths_np = sequences.lengths
        self.lengths = torch.from_numpy(sequences.lengths)  # (N,)
        self.y = None if y is None else torch.from_numpy(np.ascontiguousarray(y))
        self.per_step = per_step
        self.targets_in_input = targets_in_input

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, indices):
        indices = torch.as_tensor(indices)
        lengths = self.lengths[indices]  # (B,)
        x = self.padded[indices, : int(lengths.max())]  # (B, T_batch, F)
        # skorch expects a target even at prediction time; a dummy costs nothing.
        y = self.y[indices] if self.y is not None else torch.zeros(len(indices))
        if self.per_step and self.y is not None:
            y = y[:, : x.shape[1]]  # (B, T_batch, ...)
        if self.targets_in_input and self.y is not None:
            return {"x": x, "lengths": lengths, "target": y}, y
        return {"x": x, "lengths": lengths}, y

    def subset(self, indices):
        """A dataset over ``indices`` sharing this one's memory where possible."""
        new = object.__new__(SequenceDataset)
        index = torch.as_tensor(indices)
        new.lengths = self.lengths[index]
        new.lengths_np = new.lengths.numpy()
        new.padded = self.padded[index, : int(new.lengths.max())]
        new.y = None if self.y is None else self.y[index]
        new.per_step = self.per_step
        new.targets_in_input = self.targets_in_input
        if new.per_step and new.y is not None:
            new.y = new.y[:, : new.padded.shape[1]]
        return new


class LengthBatchIterator:
    """Iterate over a :class:`SequenceDataset` in batches of similar lengths.

    Used as skorch's ``iterator_train``/``iterator_valid``. Shuffling draws the
    seed of each epoch's order from the fit's generator (see
    :mod:`.randomness`), so the estimator's ``random_state`` fixes the batch
    order too.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        rng = None
        if self.shuffle:
            seed = torch.randint(2**31 - 1, (), generator=fit_generator("cpu"))
            rng = np.random.default_rng(int(seed))
        for indices in length_batches(
            self.dataset.lengths_np, self.batch_size, shuffle=self.shuffle, rng=rng
        ):
            yield self.dataset[indices]
