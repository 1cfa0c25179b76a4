"""Checkpoint every epoch of ``fit`` to a directory, and resume after a crash.

One file, ``checkpoint.safetensors`` in the callback's directory, rewritten
atomically at the end of every epoch (:func:`sklearn_rnn._io.write_bundle`): a
process killed at any moment, even during a write, leaves the checkpoint of
the last complete epoch in place. It holds everything that decides the epochs
still to run:

* the network's weights and buffers, and the optimizer's state (Adam's moments
  and step counts) and parameter groups;
* the training history and the best scores of skorch's loss recorders;
* the state of the stop rule (``StopWhenNoImprovement``: best loss and epoch,
  epochs without improvement, the best epoch's weights);
* the state of the fit's generators at the end of the epoch (which decides
  the next epoch's batch order, dropout masks and teacher forcing; see
  :mod:`.randomness`);
* the validation split;
* a fingerprint of the fit: estimator class, hyperparameters, and a digest of
  the training data, so that a checkpoint is never resumed by a different fit.

``GradientGuard`` and ``GradientFlowRecorder`` keep nothing from one epoch to
the next (both start each epoch afresh), so there is nothing of theirs to save.

Resuming rebuilds the network as ``fit`` always does, then, in
``on_train_begin`` (after the built-in callbacks have reset themselves), puts
all of the above back; ``fit`` runs the remaining ``max_iter - epochs done``
epochs. Every random draw after that point comes from the restored generator,
so the resumed run ends at the same weights, bit for bit on CPU, as a run that
was never interrupted.
"""

import functools
import json
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, PassthroughScoring
from skorch.history import History
from skorch.utils import noop

from .._io import read_bundle, write_bundle
from .randomness import current_randomness

FORMAT = "sklearn-rnn checkpoint"
FORMAT_VERSION = 1
FILENAME = "checkpoint.safetensors"
# Parameters that do not change what an epoch computes: they may differ
# between the interrupted fit and the one that resumes it. A different
# ``device`` resumes too, but not bit for bit (see the class docstring).
UNCHECKED_PARAMS = ("callbacks", "device", "verbose", "warm_start")


def _describe(value):
    """A JSON-able description of a hyperparameter value, equal across processes."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in value.items()}
    if isinstance(value, functools.partial):
        return {
            "partial": _describe(value.func),
            "args": _describe(value.args),
            "keywords": _describe(value.keywords),
        }
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"
    return f"{type(value).__module__}.{type(value).__qualname__} instance"


def _jsonable(value):
    """``value`` (history entries, optimizer settings) made JSON-able: NumPy, torch to Python."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _data_digest(sequences, y_encoded):
    import hashlib

    sha = hashlib.sha256()
    for array in (sequences.padded, sequences.lengths, y_encoded):
        array = np.ascontiguousarray(array)
        sha.update(f"{array.dtype}{array.shape}".encode("ascii"))
        sha.update(array.tobytes())
    return sha.hexdigest()


def _fingerprint(estimator, sequences, y_encoded):
    params = estimator.get_params(deep=False)
    described = {k: _describe(v) for k, v in params.items() if k not in UNCHECKED_PARAMS}
    return {
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        # Through JSON, so that the current fit compares like the stored one (tuples, int keys).
        "params": json.loads(json.dumps(described, allow_nan=True)),
        "n_samples": int(sequences.n_samples),
        "data_sha256": _data_digest(sequences, y_encoded),
    }


def _differences(stored, current):
    """What differs between two fingerprints, as readable phrases."""
    if stored["estimator"] != current["estimator"]:
        return [f"it was written by {stored['estimator']}, not {current['estimator']}"]
    found = []
    for name in sorted(set(stored["params"]) | set(current["params"])):
        old, new = stored["params"].get(name, "<absent>"), current["params"].get(name, "<absent>")
        if old != new:
            found.append(f"{name}={new!r} (checkpoint: {old!r})")
    if stored["n_samples"] != current["n_samples"]:
        found.append(
            f"the training data have {current['n_samples']} samples (checkpoint: "
            f"{stored['n_samples']})"
        )
    elif stored["data_sha256"] != current["data_sha256"]:
        found.append("the training data differ from those of the checkpointed fit")
    return found


def _state_dict_arrays(prefix, state_dict):
    return {f"{prefix}{name}": tensor.detach().cpu().numpy() for name, tensor in state_dict.items()}


def _state_dict_from(arrays, prefix):
    return {
        name[len(prefix) :]: torch.from_numpy(array)
        for name, array in arrays.items()
        if name.startswith(prefix)
    }


class EpochCheckpoint(Callback):
    """Save the training state after every epoch of ``fit``, and resume from it.

    Pass it in an estimator's ``callbacks``. Every epoch ends by writing
    ``checkpoint.safetensors`` in ``directory`` (atomically: a crash, even
    during the write, leaves the previous checkpoint intact). If the process
    dies, running the same ``fit`` again with the same callback continues from
    the last complete epoch and, on CPU, ends at bit for bit the same weights
    as a run that was never interrupted. The file holds arrays and JSON only;
    reading it executes nothing.

    Which ``fit`` resumes:

    * **same fit** (same estimator class, hyperparameters and training data):
      it continues from the checkpointed epoch. If that fit had finished
      (``max_iter`` reached or stopped early), ``fit`` trains no further and
      gives the finished model, so re-running a completed script is cheap.
    * **another fit**: ``fit`` refuses with a ``ValueError`` that lists what
      differs; use another directory, or ``resume=False``.
    * ``callbacks``, ``verbose``, ``warm_start`` and ``device`` may change
      between the two fits. Resuming on another device continues the
      training, but not bit for bit.
    * ``resume=False`` deletes any checkpoint in ``directory`` and starts
      over.

    ``partial_fit``, and ``fit`` continuing an already fitted network
    (``warm_start=True``), are refused: checkpoint those with
    ``est.save(path)`` between calls instead.

    The state of your own callbacks (a learning-rate scheduler, say) is not
    saved; put ``EpochCheckpoint`` after them in ``callbacks`` so that its
    files see the end of each epoch. Use one directory per fit: two fits (say
    in a grid search) sharing one would refuse each other's checkpoints.

    Parameters
    ----------
    directory : str or path-like
        Where to write ``checkpoint.safetensors``; created if missing.
    resume : bool, default=True
        Whether ``fit`` continues from a checkpoint found in ``directory``.

    Attributes
    ----------
    resumed_from_ : int or None
        After ``fit``: the number of epochs read from the checkpoint, or None
        if training started from scratch.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_rnn import LSTMClassifier
    >>> from sklearn_rnn.callbacks import EpochCheckpoint
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(20, 6, 2))
    >>> y = (X[:, :, 0].mean(axis=1) > 0).astype(int)
    >>> directory = tempfile.mkdtemp()
    >>> clf = LSTMClassifier(hidden_size=4, max_iter=5, tol=10.0, n_iter_no_change=1,
    ...                      random_state=0, callbacks=[EpochCheckpoint(directory)])
    >>> clf.fit(X, y).n_iter_
    2
    >>> # After a crash, the same fit continues; here it had finished already.
    >>> again = LSTMClassifier(hidden_size=4, max_iter=5, tol=10.0, n_iter_no_change=1,
    ...                        random_state=0, callbacks=[EpochCheckpoint(directory)])
    >>> again.fit(X, y).callbacks[0].resumed_from_
    2
    >>> bool(np.array_equal(again.predict_proba(X), clf.predict_proba(X)))
    True
    """

    def __init__(self, directory, resume=True):
        self.directory = directory
        self.resume = resume

    @property
    def path(self):
        """The checkpoint file, ``directory / "checkpoint.safetensors"``."""
        return Path(self.directory) / FILENAME

    # --- called by the estimator's fit -------------------------------------------------

    def start(self, estimator, sequences, y_encoded, validation_indices, epochs):
        """Prepare ``estimator``'s fit; return its ``(validation_indices, epochs)``.

        Reads the checkpoint if resuming (its state is put back in
        ``on_train_begin``) and returns its validation split and the number
        of epochs left to run.
        """
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(f".{FILENAME}.*.tmp"):  # left by a write that was killed
            stale.unlink(missing_ok=True)
        self._fingerprint = _fingerprint(estimator, sequences, y_encoded)
        self._max_epochs = epochs
        self._sink = print if estimator.verbose else noop
        self._pending = None
        self.resumed_from_ = None
        if not self.resume:
            self.path.unlink(missing_ok=True)
        elif self.path.exists():
            arrays, document = self._read()
            self._pending = (arrays, document)
            self.resumed_from_ = document["epochs"]
            if "validation_indices" in arrays:
                validation_indices = arrays["validation_indices"]
            epochs = 0 if document["finished"] else epochs - document["epochs"]
        self._validation_indices = validation_indices
        return validation_indices, epochs

    def _read(self):
        arrays, document = read_bundle(self.path)
        if document.get("format") != FORMAT:
            raise ValueError(f"{self.path} is not a sklearn-rnn checkpoint (a saved model?).")
        if document.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"{self.path} was written by a newer sklearn-rnn (checkpoint format "
                f"{document['format_version']}, this version reads up to {FORMAT_VERSION}). "
                "Upgrade sklearn-rnn to resume it."
            )
        differences = _differences(document["fingerprint"], self._fingerprint)
        if differences:
            raise ValueError(
                f"The checkpoint in {self.directory} belongs to another fit: "
                + "; ".join(differences)
                + ". Resume it with the same estimator, hyperparameters and data, or start "
                "over: use another directory or EpochCheckpoint(..., resume=False)."
            )
        return arrays, document

    # --- skorch hooks ---------------------------------------------------------------

    def on_train_begin(self, net, **kwargs):
        if not hasattr(self, "_fingerprint"):
            raise TypeError(
                "EpochCheckpoint works in the callbacks of a sklearn-rnn estimator, whose fit "
                "prepares it; for a plain skorch net, use skorch.callbacks.Checkpoint."
            )
        if self._pending is None:
            return
        arrays, document = self._pending
        self._pending = None
        self._restore(net, arrays, document)
        self._sink(f"Resumed from {self.path} after epoch {document['epochs']}.")

    def on_epoch_end(self, net, **kwargs):
        self._write(net, finished=False)

    def on_train_end(self, net, **kwargs):
        # Written again when training ends by itself: the stop rule may have put
        # back the best epoch's weights, and the last epoch may have ended in the
        # stop (whose on_epoch_end comes before this callback's). Not after an
        # interruption (skorch turns Ctrl-C into the end of training).
        stopper = dict(net.callbacks_)["early_stopping"]
        if stopper.stopped_ or len(net.history) >= self._max_epochs:
            self._write(net, finished=True)

    # --- the file ---------------------------------------------------------------------

    def _write(self, net, *, finished):
        stopper = dict(net.callbacks_)["early_stopping"]
        optimizer = net.optimizer_.state_dict()
        arrays = _state_dict_arrays("module.", net.module_.state_dict())
        state_meta = {}
        for index, state in optimizer["state"].items():
            state_meta[str(index)] = {}
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    arrays[f"optimizer.{index}.{key}"] = value.detach().cpu().numpy()
                    state_meta[str(index)][key] = "array"
                else:
                    state_meta[str(index)][key] = _jsonable(value)
        if stopper.best_weights_ is not None:
            arrays.update(_state_dict_arrays("best.", stopper.best_weights_))
        for device, state in current_randomness().states().items():
            # "rng.cpu", and "rng.cuda.<index>" for a GPU's generator
            key = "rng.cpu" if device.type == "cpu" else f"rng.{device.type}.{device.index}"
            arrays[key] = state.numpy()
        if self._validation_indices is not None:
            arrays["validation_indices"] = np.asarray(self._validation_indices, dtype=np.int64)
        scorers = {
            name: _jsonable(cb.best_score_)
            for name, cb in net.callbacks_
            if isinstance(cb, PassthroughScoring)
        }
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "fingerprint": self._fingerprint,
            "epochs": len(net.history),
            "finished": finished,
            "history": _jsonable(list(net.history)),
            "optimizer": {
                "param_groups": _jsonable(optimizer["param_groups"]),
                "state": state_meta,
            },
            "early_stopping": {
                "best_loss": float(stopper.best_loss_),
                "best_epoch": stopper.best_epoch_,
                "misses": stopper.misses_,
                "stopped": stopper.stopped_,
            },
            "scorers": scorers,
        }
        write_bundle(self.path, arrays, document)

    def _restore(self, net, arrays, document):
        device = net.device
        net.module_.load_state_dict(_state_dict_from(arrays, "module."))
        fresh = net.optimizer_.state_dict()
        state = {}
        for index, meta in document["optimizer"]["state"].items():
            tensors = _state_dict_from(arrays, f"optimizer.{index}.")
            state[int(index)] = {key: tensors.get(key, value) for key, value in meta.items()}
        groups = document["optimizer"]["param_groups"]
        for group, fresh_group in zip(groups, fresh["param_groups"]):
            for key, value in fresh_group.items():  # JSON made tuples (Adam's betas) lists
                if isinstance(value, tuple):
                    group[key] = tuple(group[key])
        net.optimizer_.load_state_dict({"state": state, "param_groups": groups})
        net.history = History(document["history"])
        for name, cb in net.callbacks_:
            if name in document["scorers"]:
                cb.best_score_ = document["scorers"][name]
        stopper = dict(net.callbacks_)["early_stopping"]
        saved = document["early_stopping"]
        stopper.best_loss_ = saved["best_loss"]
        stopper.best_epoch_ = saved["best_epoch"]
        stopper.misses_ = saved["misses"]
        stopper.stopped_ = saved["stopped"]
        best = _state_dict_from(arrays, "best.")
        stopper.best_weights_ = {k: v.to(device) for k, v in best.items()} if best else None
        randomness = current_randomness()
        randomness.set_state("cpu", torch.from_numpy(arrays["rng.cpu"]))
        if torch.device(device).type == "cuda":  # untested here: no GPU
            for key, state in arrays.items():
                if not key.startswith("rng.cuda."):
                    continue
                index = int(key[len("rng.cuda.") :])
                if index < torch.cuda.device_count():  # else written on another machine
                    randomness.set_state(f"cuda:{index}", torch.from_numpy(state))

    def __getstate__(self):
        # A checkpoint read but not yet restored (its arrays) is not pickled with the model.
        return {**self.__dict__, "_pending": None}


def checkpoint_of(estimator, *, incremental, continuing):
    """The :class:`EpochCheckpoint` among ``estimator.callbacks``, or None.

    Raises ``ValueError`` for a fit that cannot be checkpointed and resumed.
    """
    found = [
        cb
        for item in estimator.callbacks or []
        for cb in [item[1] if isinstance(item, (tuple, list)) else item]
        if isinstance(cb, EpochCheckpoint)
    ]
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(
            f"callbacks holds {len(found)} EpochCheckpoint callbacks; one fit writes one "
            "checkpoint: keep one."
        )
    if incremental:
        raise ValueError(
            "EpochCheckpoint checkpoints and resumes fit, not partial_fit, whose loop is "
            "yours: save the estimator between calls (est.save(path)) instead, or remove "
            "the EpochCheckpoint from callbacks."
        )
    if continuing:
        raise ValueError(
            "EpochCheckpoint resumes a fit that starts from new weights, but warm_start=True "
            "continues the fitted network. Set warm_start=False, or save the estimator "
            "between fits (est.save(path)) instead."
        )
    return found[0]
