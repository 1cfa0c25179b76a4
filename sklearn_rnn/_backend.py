"""Which backend computes the recurrent layers: the rule behind ``backend="auto"``.

The rule, measured on a 2-core x86 CPU with one torch thread
(``benchmarks/backends.py``, recorded in docs/benchmarks.md and explained in
docs/backends.md):

* ``rnn`` runs on the numba kernels on the CPU: torch has no fused CPU path
  for it; the kernels trained 1.5-2x faster per epoch and predicted
  1.1-2x faster at every batch size from 1 to 256.
* ``gru`` runs on the numba kernels for batches of fewer than 128 sequences
  (training 1.8-3.3x faster per epoch at batch 8-64, prediction 1.7-3x faster
  at batch 1-16) and on torch for larger batches, where the two are at parity
  or torch is up to 1.2x faster (``predict`` on 10,000 sequences: 0.51 s on
  torch against 0.62 s on numba).
* ``lstm`` runs on torch: its fused oneDNN LSTM was faster than the kernels
  through the module at every batch size measured (1.2x at batch 1, 1.8x at
  batch 256), for training as for prediction.
* Any device other than the CPU runs on torch (the kernels are CPU code).

Streaming (``predict_step``) is the exception: a call for one stream costs
7-8.5 us on the numba kernels (the kernel itself about 1 us) against
63-155 us on torch's layers, for every cell (``benchmarks/streaming_step.py``,
hidden size 32), so ``"auto"`` streams on numba.

This module imports neither torch nor numba.
"""

BACKENDS = ("auto", "torch", "numba")

# The largest batch, per cell, for which the numba kernels beat torch on the
# CPU over whole sequences (None: any batch); cells not listed run on torch.
NUMBA_MAX_BATCH = {"rnn": None, "gru": 127}


def is_cpu(device):
    """Whether the torch device string ``device`` names the CPU."""
    return str(device).split(":")[0] == "cpu"


def resolve_backend(backend, cell, device, batch_size=None):
    """The backend, ``"torch"`` or ``"numba"``, that runs whole sequences.

    Parameters
    ----------
    backend : {"auto", "torch", "numba"}
        The estimator's ``backend`` parameter.
    cell : str or None
        Name of the built-in recurrent cell; None (or any other name) for a
        plugin cell, which "auto" runs on torch.
    device : str
        Torch device of the estimator.
    batch_size : int or None, default=None
        Sequences per forward pass (the training batch, or the prediction
        batch); None for the rule of small batches.

    Returns
    -------
    backend : {"torch", "numba"}

    Examples
    --------
    >>> resolve_backend("auto", "gru", "cpu"), resolve_backend("auto", "lstm", "cpu")
    ('numba', 'torch')
    >>> resolve_backend("auto", "gru", "cpu", batch_size=256), resolve_backend("auto", "gru", "cuda:0")
    ('torch', 'torch')
    """
    if backend != "auto":
        return backend
    if not is_cpu(device) or cell not in NUMBA_MAX_BATCH:
        return "torch"
    limit = NUMBA_MAX_BATCH[cell]
    return "numba" if limit is None or batch_size is None or batch_size <= limit else "torch"


def resolve_streaming_backend(backend, device, has_kernels=True):
    """The backend that runs ``predict_step``: numba unless torch is asked for.

    ``has_kernels`` says whether the cell has numba kernels (every built-in
    cell does; a plugin cell may not, and then streams on torch).

    Examples
    --------
    >>> resolve_streaming_backend("auto", "cpu"), resolve_streaming_backend("torch", "cpu")
    ('numba', 'torch')
    >>> resolve_streaming_backend("auto", "cpu", has_kernels=False)
    'torch'
    """
    if backend != "auto":
        return backend
    return "numba" if is_cpu(device) and has_kernels else "torch"
