"""The numba backend of :class:`~sklearn_rnn_feedback.cells.DirectFeedbackCell`.

``DirectFeedbackCell.numba_kernels`` is one of the two :class:`DirectKernels`
objects of this module (one per nonlinearity). Each implements the richer
interface of sklearn-rnn's cell protocol (``docs/cell_protocol.md``) on NumPy
arrays of one float dtype (float32 or float64, never mixed or converted):

* ``forward(x, lengths, params, state, save)`` runs a zero-padded batch;
* ``backward(saved, grad_outputs, grad_final_state)`` is the hand-derived
  backpropagation through time;
* ``step(x_t, state, params)`` advances every row by one step (streaming).

``params`` is ``(weight_ih, weight_hh, bias)``, the order of
``cell.named_parameters()``: shapes ``(H, F)``, ``(H,)``, ``(H,)``. A state
is a 1-tuple ``(h,)`` with ``h`` of shape ``(B, H)``.

Every argument is checked here, before a kernel runs: a wrong type or dtype
raises ``TypeError``, a wrong shape or length ``ValueError``, each saying what
was given and what was expected. Non-contiguous arrays are copied to
contiguous ones; nothing is cast to another dtype; nothing given is modified.
This module imports NumPy only: the jitted kernels (:mod:`._kernels`, which
imports numba) are imported on the first call.

Whole-sequence calls keep every BLAS library on one thread for their duration
(the kernels call BLAS for the input projection and the weight gradients):
many small products on BLAS threads spinning next to torch's own threads
are slower than one thread, which is what sklearn-rnn's kernels measured. The
previous thread counts are restored on exit.

Examples
--------
>>> import numpy as np
>>> from sklearn_rnn_feedback.cells import DirectFeedbackCell
>>> kernels = DirectFeedbackCell.numba_kernels
>>> rng = np.random.default_rng(0)
>>> H, F = 4, 3
>>> params = (rng.normal(size=(H, F)), rng.uniform(0, 1, size=H), rng.normal(size=H))
>>> x = rng.normal(size=(2, 5, F))
>>> outputs, final, saved = kernels.forward(x, np.array([5, 3]), params, (np.zeros((2, H)),), True)
>>> outputs.shape, final[0].shape
((2, 5, 4), (2, 4))
>>> bool(np.all(outputs[1, 3:] == 0)), bool(np.all(final[0][1] == outputs[1, 2]))
(True, True)
>>> grad_x, grad_params, grad_state = kernels.backward(saved, np.ones_like(outputs), (None,))
>>> grad_x.shape, [g.shape for g in grad_params]
((2, 5, 3), [(4, 3), (4,), (4,)])
"""

import threading
from typing import NamedTuple

import numpy as np

NONLINEARITIES = ("relu", "tanh")
PARAMETER_NAMES = ("weight_ih", "weight_hh", "bias")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class DirectSaved(NamedTuple):
    """What ``forward(..., save=True)`` keeps for ``backward``: copies, safe from later writes."""

    nonlinearity: str
    x_packed: np.ndarray  # (N, F) the real steps of x, sequence after sequence
    h_packed: np.ndarray  # (N, H) the state after each real step, same rows
    initial: np.ndarray  # (B, H) initial state
    lengths: np.ndarray  # (B,) int64
    offsets: np.ndarray  # (B,) int64, first packed row of each sequence
    n_steps: int  # T, the padded length
    weight_ih: np.ndarray  # (H, F)
    weight_hh: np.ndarray  # (H,)


# --------------------------------------------------------------------------
# One BLAS thread while a kernel runs


class _SingleThreadedBlas:
    """Context manager: every loaded BLAS library on one thread inside.

    Thread-safe and re-entrant: the first caller in saves the thread counts,
    the last one out restores them. The libraries are found once, after
    importing SciPy's BLAS (the one numba's ``np.dot`` calls) so that
    threadpoolctl sees it.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._controllers = None
        self._saved = []

    def _libraries(self):
        if self._controllers is None:
            import scipy.linalg.cython_blas  # noqa: F401
            from threadpoolctl import ThreadpoolController

            self._controllers = ThreadpoolController().select(user_api="blas").lib_controllers
        return self._controllers

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                controllers = self._libraries()
                self._saved = [c.get_num_threads() for c in controllers]
                for c, n in zip(controllers, self._saved):
                    if n != 1:
                        c.set_num_threads(1)
            self._depth += 1
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for c, n in zip(self._controllers, self._saved):
                    if n != 1:
                        c.set_num_threads(n)
        return False


_single_threaded_blas = _SingleThreadedBlas()


def _jit():
    """The kernel module, imported (and numba with it) on first use."""
    from . import _kernels

    return _kernels


# --------------------------------------------------------------------------
# Validation


def _check_array(a, what):
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{what} must be a NumPy array; got {type(a).__name__}. Convert a torch "
            "tensor with .detach().cpu().numpy()."
        )
    if a.dtype not in _FLOATS:
        raise TypeError(
            f"{what} has dtype {a.dtype}; expected float32 or float64. Convert it with "
            ".astype(np.float32) or .astype(np.float64)."
        )
    return a


def _check_dtype(a, dtype, what):
    if a.dtype != dtype:
        raise TypeError(
            f"{what} has dtype {a.dtype} but weight_ih has dtype {dtype}: all arrays must "
            f"have one dtype (nothing is converted). Convert {what} with .astype(np.{dtype})."
        )


def _check_shape(a, shape, what, meaning):
    if a.shape != shape:
        raise ValueError(f"{what} has shape {a.shape}; expected {shape} ({meaning}).")


def _check_params(params):
    """``(weight_ih, weight_hh, bias)`` as contiguous arrays of one float dtype."""
    if not isinstance(params, (tuple, list)) or len(params) != 3:
        got = f"a {type(params).__name__}" + (
            f" of length {len(params)}" if isinstance(params, (tuple, list)) else ""
        )
        raise TypeError(
            "params must be a tuple of 3 arrays (weight_ih, weight_hh, bias), in the order "
            f"of DirectFeedbackCell.named_parameters(); got {got}."
        )
    weight_ih, weight_hh, bias = (_check_array(p, n) for p, n in zip(params, PARAMETER_NAMES))
    if weight_ih.ndim != 2 or 0 in weight_ih.shape:
        raise ValueError(
            f"weight_ih has shape {weight_ih.shape}; expected (hidden_size, input_size), "
            "both at least 1."
        )
    hidden = weight_ih.shape[0]
    for p, name in [(weight_hh, "weight_hh"), (bias, "bias")]:
        _check_dtype(p, weight_ih.dtype, name)
        _check_shape(p, (hidden,), name, "hidden_size,: one value per unit")
    return tuple(np.ascontiguousarray(p) for p in (weight_ih, weight_hh, bias))


def _check_x(x, weight_ih, what, ndim):
    x = _check_array(x, what)
    layout = "(batch, time, input_size)" if ndim == 3 else "(batch, input_size)"
    if x.ndim != ndim:
        raise ValueError(f"{what} has shape {x.shape}; expected a {ndim}-D array {layout}.")
    if 0 in x.shape:
        raise ValueError(f"{what} has shape {x.shape}; every dimension must be at least 1.")
    if x.shape[-1] != weight_ih.shape[1]:
        raise ValueError(
            f"{what} has {x.shape[-1]} features (shape {x.shape}) but weight_ih has shape "
            f"{weight_ih.shape}, i.e. input_size={weight_ih.shape[1]}."
        )
    _check_dtype(x, weight_ih.dtype, what)
    return np.ascontiguousarray(x)


def _check_lengths(lengths, n_seq, n_steps):
    array = np.asarray(lengths)
    if array.dtype.kind not in "iu":
        raise TypeError(f"lengths has dtype {array.dtype}; expected integers (int64).")
    _check_shape(array, (n_seq,), "lengths", "one length per sequence")
    bad = (array < 1) | (array > n_steps)
    if bad.any():
        raise ValueError(
            f"lengths must be between 1 and the number of time steps {n_steps}; "
            f"got {int(array[bad][0])}."
        )
    return np.ascontiguousarray(array, dtype=np.int64)


def _check_state(state, n_seq, weight_ih, what):
    """A 1-tuple ``(h,)`` with ``h`` (n_seq, H); None, or a None entry, for zeros."""
    shape = (n_seq, weight_ih.shape[0])
    if state is None:
        state = (None,)
    if not isinstance(state, (tuple, list)):
        raise TypeError(
            f"{what} must be a 1-tuple (h,) with h of shape {shape}; got "
            f"{type(state).__name__}. Wrap a single array as (h,)."
        )
    if len(state) != 1:
        raise ValueError(
            f"{what} has {len(state)} arrays; DirectFeedbackCell has one, (h,) of shape {shape}."
        )
    (h,) = state
    if h is None:
        return np.zeros(shape, weight_ih.dtype)
    h = _check_array(h, f"{what}[0]")
    _check_shape(h, shape, f"{what}[0]", "batch, hidden_size")
    _check_dtype(h, weight_ih.dtype, f"{what}[0]")
    return h


# --------------------------------------------------------------------------
# The kernels object


class DirectKernels:
    """``numba_kernels`` of :class:`~sklearn_rnn_feedback.cells.DirectFeedbackCell`.

    Parameters
    ----------
    nonlinearity : {"tanh", "relu"}
        The cell's nonlinearity; use :func:`kernels_for` for the shared
        instances.
    """

    __slots__ = ("nonlinearity",)

    def __init__(self, nonlinearity):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {', '.join(map(repr, NONLINEARITIES))}; "
                f"got {nonlinearity!r}."
            )
        self.nonlinearity = nonlinearity

    def __repr__(self):
        return f"DirectKernels(nonlinearity={self.nonlinearity!r})"

    def __reduce__(self):
        return kernels_for, (self.nonlinearity,)

    def forward(self, x, lengths, params, state, save=True):
        """Run a zero-padded batch of sequences.

        Parameters
        ----------
        x : ndarray of shape (B, T, F)
            float32 or float64; steps past a sequence's length are never read.
        lengths : array-like of int of shape (B,)
            Each sequence's number of real steps, between 1 and ``T``.
        params : tuple of ndarray
            ``(weight_ih, weight_hh, bias)``, shapes ``(H, F)``, ``(H,)``,
            ``(H,)``, the dtype of ``x``.
        state : tuple of one ndarray of shape (B, H), or None
            Initial state ``(h,)``; None (or a None entry) for zeros.
        save : bool, default=True
            Keep what :meth:`backward` needs (a copy of the real input steps
            and of every state).

        Returns
        -------
        outputs : ndarray of shape (B, T, H)
            The state after every real step, zero at padded steps.
        final_state : tuple of one ndarray of shape (B, H)
            Each sequence's state after its own last step.
        saved : DirectSaved or None
        """
        weight_ih, weight_hh, bias = _check_params(params)
        x = _check_x(x, weight_ih, "x", 3)
        n_seq, n_steps, n_features = x.shape
        lengths = _check_lengths(lengths, n_seq, n_steps)
        initial = np.array(_check_state(state, n_seq, weight_ih, "state"), order="C")
        hidden = weight_ih.shape[0]
        dtype = weight_ih.dtype
        offsets = np.zeros(n_seq, np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        n_rows = int(lengths.sum())
        x_packed = np.empty((n_rows, n_features), dtype)
        h_packed = np.empty((n_rows, hidden), dtype)
        outputs = np.empty((n_seq, n_steps, hidden), dtype)
        final = np.empty((n_seq, hidden), dtype)
        kernels = _jit()
        with _single_threaded_blas:
            kernels.direct_forward(
                x,
                lengths,
                offsets,
                weight_ih,
                weight_hh,
                bias,
                initial,
                self.nonlinearity == "relu",
                x_packed,
                h_packed,
                outputs,
                final,
            )
        saved = None
        if save:
            saved = DirectSaved(
                self.nonlinearity,
                x_packed,
                h_packed,
                initial,
                lengths,
                offsets,
                n_steps,
                weight_ih.copy(),
                weight_hh.copy(),
            )
        return outputs, (final,), saved

    def backward(self, saved, grad_outputs, grad_final_state):
        """Backpropagation through time of one :meth:`forward` call.

        Parameters
        ----------
        saved : DirectSaved
            ``forward(..., save=True)[2]``.
        grad_outputs : ndarray of shape (B, T, H) or None
            Gradient w.r.t. ``outputs``; ignored at padded steps (the output
            there is a constant zero). None for zeros.
        grad_final_state : tuple of one (ndarray of shape (B, H) or None), or None
            Gradient w.r.t. the final state; None for zeros.

        Returns
        -------
        grad_x : ndarray of shape (B, T, F)
            Zero at padded steps.
        grad_params : tuple of ndarray
            W.r.t. ``(weight_ih, weight_hh, bias)``.
        grad_state : tuple of one ndarray of shape (B, H)
            W.r.t. the initial state.
        """
        if not isinstance(saved, DirectSaved):
            raise TypeError(
                "saved must be the third value returned by forward(..., save=True); got "
                f"{type(saved).__name__}."
            )
        if saved.nonlinearity != self.nonlinearity:
            raise ValueError(
                f"saved comes from the {saved.nonlinearity!r} kernels, not from these "
                f"({self.nonlinearity!r})."
            )
        weight_ih = saved.weight_ih
        dtype = weight_ih.dtype
        n_seq, hidden = saved.initial.shape
        n_rows, n_features = saved.x_packed.shape
        shape = (n_seq, saved.n_steps, hidden)
        if grad_outputs is None:
            grad_outputs = np.zeros(shape, dtype)
        else:
            grad_outputs = _check_array(grad_outputs, "grad_outputs")
            _check_shape(grad_outputs, shape, "grad_outputs", "the shape of outputs")
            _check_dtype(grad_outputs, dtype, "grad_outputs")
            grad_outputs = np.ascontiguousarray(grad_outputs)
        # A copy: the kernel turns it into the initial state's gradient.
        dh = np.array(_check_state(grad_final_state, n_seq, weight_ih, "grad_final_state"))
        dp = np.empty((n_rows, hidden), dtype)
        gxp = np.empty((n_rows, n_features), dtype)
        grad_x = np.empty((n_seq, saved.n_steps, n_features), dtype)
        grad_w = np.empty((hidden, n_features), dtype)
        grad_u = np.zeros(hidden, dtype)
        grad_bias = np.zeros(hidden, dtype)
        kernels = _jit()
        with _single_threaded_blas:
            kernels.direct_backward(
                saved.x_packed,
                saved.h_packed,
                saved.initial,
                saved.lengths,
                saved.offsets,
                weight_ih,
                saved.weight_hh,
                self.nonlinearity == "relu",
                np.finfo(dtype).tiny,
                grad_outputs,
                dh,
                dp,
                gxp,
                grad_x,
                grad_w,
                grad_u,
                grad_bias,
            )
        return grad_x, (grad_w, grad_u, grad_bias), (dh,)

    def step(self, x_t, state, params):
        """Advance every row by one step, without masking (streaming).

        Parameters
        ----------
        x_t : ndarray of shape (B, F)
        state : tuple of one ndarray of shape (B, H), or None
            The current state ``(h,)``; not modified. None for zeros.
        params : tuple of ndarray
            ``(weight_ih, weight_hh, bias)``.

        Returns
        -------
        h_t : ndarray of shape (B, H)
            The new state, which is the step's output (the same array as
            ``new_state[0]``).
        new_state : tuple of one ndarray of shape (B, H)
        """
        weight_ih, weight_hh, bias = _check_params(params)
        x_t = _check_x(x_t, weight_ih, "x_t", 2)
        h = np.array(_check_state(state, x_t.shape[0], weight_ih, "state"), order="C")
        _jit().direct_step(x_t, weight_ih, weight_hh, bias, h, self.nonlinearity == "relu")
        return h, (h,)


_KERNELS = {name: DirectKernels(name) for name in NONLINEARITIES}


def kernels_for(nonlinearity):
    """The shared :class:`DirectKernels` of ``nonlinearity`` ("tanh" or "relu")."""
    if nonlinearity not in _KERNELS:
        DirectKernels(nonlinearity)  # raises the ValueError
    return _KERNELS[nonlinearity]
