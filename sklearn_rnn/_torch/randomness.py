"""The random number generators of a fit, and the draws that use them.

Each ``fit`` owns its randomness: :class:`FitRandomness` holds generators
seeded from the estimator's ``random_state``, one per device, and every draw
of training takes the generator of the fit running in its thread:

* the orthogonal initialisation of the recurrent weights;
* the seed of each epoch's batch order (``data.LengthBatchIterator``);
* the dropout masks (:class:`Dropout`, which replaces ``nn.Dropout``: torch's
  has no generator argument) and the per-sequence masks of recurrent dropout;
* teacher forcing (``seq2seq.Decoder``).

Fits running as threads of one process (joblib's threading backend, a Dask
worker with several threads) therefore draw from separate streams, and
torch's global generator is never drawn from while a fit trains. The one
draw no generator argument reaches is the default initialisation inside the
constructors of torch's layers (``nn.Linear``, ``nn.GRU``, ...) and of plugin
cells: the network is built under :func:`global_rng_seeded`, which seeds a
fork of torch's global CPU generator and holds a process-wide lock, so that
one thread at a time builds a network (a few milliseconds) and the caller's
generator is restored afterwards.

A draw outside a fit (a module trained by hand, say) uses torch's global
generators, as torch's own layers do.
"""

import contextvars
import threading
from contextlib import contextmanager

import torch
from torch import nn

_CURRENT = contextvars.ContextVar("sklearn_rnn_fit_randomness", default=None)
# Held while torch's global generator is forked and seeded to build a network.
GLOBAL_RNG_LOCK = threading.RLock()


def _device_key(device):
    """``torch.device`` with the CUDA index filled in: one generator per physical device."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


class FitRandomness:
    """The generators of one fit: a CPU generator, and one per other device on first use.

    Parameters
    ----------
    seed : int
        The fit's seed (from ``random_state``). The CPU generator is seeded
        with it; a generator of another device (``torch.Generator(device=...)``,
        created when a draw first happens there) too.

    Use it as a context manager: inside, :func:`fit_generator` in this
    thread returns its generators.
    """

    def __init__(self, seed):
        self.seed = int(seed)
        self.generators = {torch.device("cpu"): torch.Generator().manual_seed(self.seed)}
        self._tokens = []

    def generator(self, device="cpu"):
        """The generator for draws on ``device``, created (and seeded) on first use."""
        device = _device_key(device)
        generator = self.generators.get(device)
        if generator is None:
            generator = torch.Generator(device=device).manual_seed(self.seed)
            self.generators[device] = generator
        return generator

    def draw_seed(self):
        """A seed drawn from the CPU generator (for :func:`global_rng_seeded`)."""
        return int(torch.randint(2**62, (), generator=self.generator("cpu")))

    def states(self):
        """``{device: state}`` of every generator created so far (for checkpoints)."""
        return {device: generator.get_state() for device, generator in self.generators.items()}

    def set_state(self, device, state):
        """Put back the state of the generator of ``device`` (resuming a checkpoint)."""
        self.generator(device).set_state(state)

    def __enter__(self):
        self._tokens.append(_CURRENT.set(self))
        return self

    def __exit__(self, *exc):
        _CURRENT.reset(self._tokens.pop())


def current_randomness():
    """The :class:`FitRandomness` of the fit running in this thread, or None."""
    return _CURRENT.get()


def fit_generator(device="cpu"):
    """The running fit's generator for draws on ``device``; None (torch's global one) outside a fit."""
    randomness = _CURRENT.get()
    return None if randomness is None else randomness.generator(device)


@contextmanager
def global_rng_seeded(seed, devices=()):
    """Run with torch's global generators forked and seeded, one thread at a time.

    For the draws no generator argument reaches (the initialisation in layer
    constructors). The CPU generator, and the CUDA ``devices`` (indices) if
    any, are seeded with ``seed`` and put back afterwards. The lock serialises
    the threads that use this; the fits' other draws never use the global
    generators, so they cannot change what happens inside.
    """
    devices = list(devices)
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


def dropout_mask(like, p):
    """A dropout mask of ``like``'s shape, device and dtype: 0 with probability ``p``, else ``1/(1-p)``.

    Drawn from the running fit's generator for ``like``'s device (torch's
    global one outside a fit), as ``F.dropout`` draws its mask.
    """
    if p >= 1:
        return torch.zeros_like(like)
    mask = torch.empty_like(like).bernoulli_(1 - p, generator=fit_generator(like.device))
    return mask.div_(1 - p)


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose masks come from the running fit's generator (see :func:`dropout_mask`).

    Identity in ``eval()`` mode and for ``p=0``; same parameters and state as
    ``nn.Dropout`` (none), so saved weights load either way.
    """

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * dropout_mask(x, self.p)
