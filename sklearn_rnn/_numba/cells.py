"""The numba backend's entry points: validate, arrange the arrays, call a kernel.

One layer, one direction, one cell type (``"rnn"``: Elman with tanh,
``"lstm"``, ``"gru"``), in PyTorch's weight layout and equations, on NumPy
arrays of one float dtype (float32 or float64, never mixed or converted):

* :func:`forward` runs a zero-padded batch of sequences with their lengths and
  returns the outputs, the final state and what :func:`backward` needs;
* :func:`backward` is the hand-derived backpropagation through time: the
  gradients w.r.t. the input, the initial state and the four weights;
* :func:`step` advances ``n`` streams by one time step (online prediction);
* :func:`prepare_weights` validates and lays out the weights once, for callers
  that reuse them (streaming).

Every argument is checked here, before any kernel runs: wrong shapes, dtypes
or lengths raise ``ValueError``/``TypeError`` saying what was given and what
was expected, never a numba typing error. Non-contiguous arrays are copied to
contiguous ones; nothing is cast to another dtype.

A state is a tuple: ``(h,)`` for rnn and gru, ``(h, c)`` for lstm, each
``(n_sequences, hidden_size)``. ``None`` stands for zeros, for an initial
state as for a gradient.

Examples
--------
>>> import numpy as np
>>> from sklearn_rnn._numba import cells
>>> rng = np.random.default_rng(0)
>>> H, F = 4, 3
>>> weights = [rng.normal(size=s) for s in [(4 * H, F), (4 * H, H), (4 * H,), (4 * H,)]]
>>> x = rng.normal(size=(2, 5, F))
>>> result = cells.forward("lstm", x, [5, 3], weights)
>>> result.output.shape, [s.shape for s in result.state]
((2, 5, 4), [(2, 4), (2, 4)])
>>> bool(np.all(result.output[1, 3:] == 0))  # padded steps
True
>>> grads = cells.backward(result.saved, grad_output=np.ones_like(result.output))
>>> grads.weight_hh.shape, grads.x.shape
((16, 4), (2, 5, 3))
"""

from typing import NamedTuple

import numpy as np

from . import kernels
from .runtime import kernel_runtime, single_threaded_blas

CELLS = ("gru", "lstm", "rnn")
_N_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_STATE_NAMES = {"rnn": ("h",), "lstm": ("h", "c"), "gru": ("h",)}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Values (B * time steps * G * H) per input-projection chunk: 128 KiB of
# float32, so that a chunk stays in cache between its projection and its
# steps. Measured on an LSTM, batch 32, T=100, H=64 (forward): 1840 us with
# this size, 2070 us projecting all steps at once into a buffer in main
# memory, and within 7% for sizes from 1/2x to 8x this one.
_CHUNK_VALUES = 1 << 15


def n_gates(cell):
    """Number of gates ``G``: weights have ``G * hidden_size`` rows."""
    return _N_GATES[_check_cell(cell)]


def state_names(cell):
    """Names of the state arrays, in the order of a state tuple."""
    return _STATE_NAMES[_check_cell(cell)]


class Weights(NamedTuple):
    """A layer's weights, in PyTorch's names and layout (``G`` gates)."""

    weight_ih: np.ndarray  # (G*H, F)
    weight_hh: np.ndarray  # (G*H, H)
    bias_ih: np.ndarray  # (G*H,)
    bias_hh: np.ndarray  # (G*H,)


class PreparedWeights(NamedTuple):
    """Validated weights laid out for the kernels; see :func:`prepare_weights`.

    Attributes
    ----------
    cell : {"rnn", "lstm", "gru"}
    input_size, hidden_size : int
    dtype : numpy.dtype
        float32 or float64.
    weights : Weights
        Contiguous copies of the given weights.
    weight_ih_t : ndarray of shape (input_size, G * hidden_size)
    weight_hh_t : ndarray of shape (hidden_size, G * hidden_size)
        The transposed weights (the kernels multiply rows by them).
    bias : ndarray of shape (G * hidden_size,)
        The biases added to the input projection: ``bias_ih + bias_hh``,
        except GRU's n part, which is ``bias_ih`` alone.
    bias_hn : ndarray of shape (hidden_size,)
        GRU's n part of ``bias_hh`` (it sits inside the reset product); empty
        for the other cells.
    packed : ndarray of shape (input_size + 1 + hidden_size + 1, G * hidden_size)
        ``[weight_ih.T; bias_ih; weight_hh.T; bias_hh]``, for :func:`step`.
    """

    cell: str
    input_size: int
    hidden_size: int
    dtype: np.dtype
    weights: Weights
    weight_ih_t: np.ndarray
    weight_hh_t: np.ndarray
    bias: np.ndarray
    bias_hn: np.ndarray
    packed: np.ndarray


class Saved(NamedTuple):
    """What :func:`forward` keeps for :func:`backward`.

    The per-step arrays are time-major, over the ``Tm`` steps of the longest
    sequence, with sequences in ``order`` (by non-increasing length), the
    layout the kernels stream through; state rows of sequences that have ended
    are zero, gate rows are not read. The forward pass keeps a reference to
    ``x`` (no copy): do not write into it before the backward.
    """

    weights: PreparedWeights
    x: np.ndarray  # (B, T, F), the caller's
    lengths: np.ndarray  # (B,) int64
    order: np.ndarray  # (B,) int64, sequences by non-increasing length
    states: tuple  # (Tm + 1, B, H) each: initial state, then after each step
    gates: np.ndarray  # (Tm, B, G*H) activated gates (rnn: empty)
    reset_operand: np.ndarray  # gru: (Tm, B, H) weight_hn @ h_prev + bias_hn (others: empty)


class ForwardResult(NamedTuple):
    """What :func:`forward` returns."""

    output: np.ndarray  # (B, T, H), zero at padded steps
    state: tuple  # final state, each (B, H): the state at each sequence's last step
    saved: Saved


class Gradients(NamedTuple):
    """What :func:`backward` returns: one gradient per input of :func:`forward`."""

    x: np.ndarray  # (B, T, F), zero at padded steps
    state: tuple  # w.r.t. the initial state, each (B, H)
    weight_ih: np.ndarray  # (G*H, F)
    weight_hh: np.ndarray  # (G*H, H)
    bias_ih: np.ndarray  # (G*H,)
    bias_hh: np.ndarray  # (G*H,)


# --------------------------------------------------------------------------
# Validation


def _check_cell(cell):
    if cell not in _N_GATES:
        raise ValueError(f"Unknown cell {cell!r}; expected one of {', '.join(map(repr, CELLS))}.")
    return cell


def _as_float_array(a, what):
    """``a`` as an ndarray of float32/float64 (no conversion), else TypeError."""
    array = a if isinstance(a, np.ndarray) else np.asarray(a)
    if array.dtype not in _FLOATS:
        raise TypeError(
            f"{what} has dtype {array.dtype}; expected float32 or float64. Convert it "
            "with .astype(np.float32) or .astype(np.float64)."
        )
    return array


def _check_dtype(array, dtype, what):
    if array.dtype != dtype:
        raise TypeError(
            f"{what} has dtype {array.dtype} but the weights have dtype {dtype}: all "
            f"arrays must have one dtype (nothing is converted). Convert {what} with "
            f".astype(np.{dtype})."
        )


def _check_shape(array, shape, what, meaning):
    if array.shape != shape:
        raise ValueError(f"{what} has shape {array.shape}; expected {shape} ({meaning}).")


def prepare_weights(cell, weights):
    """Validate a layer's weights and lay them out for the kernels.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    weights : sequence of 4 arrays or PreparedWeights
        ``(weight_ih, weight_hh, bias_ih, bias_hh)`` in PyTorch's layout:
        ``(G*H, F)``, ``(G*H, H)``, ``(G*H,)``, ``(G*H,)`` with ``G`` the
        number of gates (rnn 1, lstm 4 ordered i, f, g, o, gru 3 ordered r,
        z, n), all float32 or all float64. Prepared weights are returned as
        they are (after checking their cell).

    Returns
    -------
    prepared : PreparedWeights
        Holds copies: later changes to the given arrays do not reach it.
        Prepare once and reuse it for many :func:`step` calls; prepare again
        when the weights change.
    """
    _check_cell(cell)
    if isinstance(weights, PreparedWeights):
        if weights.cell != cell:
            raise ValueError(f"The weights were prepared for cell {weights.cell!r}, not {cell!r}.")
        return weights
    try:
        arrays = list(weights)
    except TypeError:
        arrays = None
    if arrays is None or len(arrays) != 4:
        raise TypeError(
            "weights must be a sequence of 4 arrays (weight_ih, weight_hh, bias_ih, "
            f"bias_hh) or PreparedWeights; got {type(weights).__name__}"
            + (f" of length {len(arrays)}." if arrays is not None else ".")
        )
    weight_ih, weight_hh, bias_ih, bias_hh = (
        _as_float_array(a, name) for a, name in zip(arrays, Weights._fields)
    )
    dtype = weight_hh.dtype
    for array, name in [(weight_ih, "weight_ih"), (bias_ih, "bias_ih"), (bias_hh, "bias_hh")]:
        if array.dtype != dtype:
            raise TypeError(
                f"{name} has dtype {array.dtype} but weight_hh has dtype {dtype}: the "
                "weights must all have one dtype."
            )
    n_gates = _N_GATES[cell]
    if (
        weight_hh.ndim != 2
        or weight_hh.shape[1] < 1
        or weight_hh.shape[0] != n_gates * weight_hh.shape[1]
    ):
        raise ValueError(
            f"weight_hh has shape {weight_hh.shape}; expected ({n_gates} * hidden_size, "
            f"hidden_size) for cell {cell!r}, with hidden_size >= 1."
        )
    hidden = weight_hh.shape[1]
    rows = n_gates * hidden
    if weight_ih.ndim != 2 or weight_ih.shape[0] != rows or weight_ih.shape[1] < 1:
        raise ValueError(
            f"weight_ih has shape {weight_ih.shape}; expected ({rows}, input_size) for "
            f"cell {cell!r} with hidden_size {hidden}, and input_size >= 1."
        )
    _check_shape(bias_ih, (rows,), "bias_ih", f"{n_gates} * hidden_size for cell {cell!r}")
    _check_shape(bias_hh, (rows,), "bias_hh", f"{n_gates} * hidden_size for cell {cell!r}")
    own = Weights(
        *(
            np.array(a, dtype=dtype, order="C", copy=True)
            for a in (weight_ih, weight_hh, bias_ih, bias_hh)
        )
    )
    if cell == "gru":
        bias = own.bias_ih.copy()
        bias[: 2 * hidden] += own.bias_hh[: 2 * hidden]
        bias_hn = own.bias_hh[2 * hidden :].copy()
    else:
        bias = own.bias_ih + own.bias_hh
        bias_hn = np.zeros(0, dtype)
    return PreparedWeights(
        cell=cell,
        input_size=weight_ih.shape[1],
        hidden_size=hidden,
        dtype=dtype,
        weights=own,
        weight_ih_t=np.ascontiguousarray(own.weight_ih.T),
        weight_hh_t=np.ascontiguousarray(own.weight_hh.T),
        bias=bias,
        bias_hn=bias_hn,
        packed=np.ascontiguousarray(  # concatenate keeps the transposes' F order
            np.concatenate([own.weight_ih.T, own.bias_ih[None], own.weight_hh.T, own.bias_hh[None]])
        ),
    )


def _check_x(x, weights, what, ndim):
    array = _as_float_array(x, what)
    layout = "(batch, time, features)" if ndim == 3 else "(n_streams, features)"
    if array.ndim != ndim:
        raise ValueError(f"{what} has shape {array.shape}; expected a {ndim}-D array {layout}.")
    if array.shape[-1] != weights.input_size:
        raise ValueError(
            f"{what} has {array.shape[-1]} features (shape {array.shape}) but weight_ih "
            f"expects input_size={weights.input_size}."
        )
    if 0 in array.shape:
        raise ValueError(f"{what} has shape {array.shape}; every dimension must be at least 1.")
    _check_dtype(array, weights.dtype, what)
    return np.ascontiguousarray(array)


def _check_lengths(lengths, n_seq, n_steps):
    if lengths is None:
        return np.full(n_seq, n_steps, dtype=np.int64)
    array = np.asarray(lengths)
    if array.dtype.kind not in "iu":
        raise TypeError(f"lengths has dtype {array.dtype}; expected integers.")
    if array.shape != (n_seq,):
        raise ValueError(f"lengths has shape {array.shape}; expected ({n_seq},), one per sequence.")
    if array.min() < 1 or array.max() > n_steps:
        bad = int(array[(array < 1) | (array > n_steps)][0])
        raise ValueError(
            f"lengths must be between 1 and the number of time steps {n_steps}; got {bad}."
        )
    return np.ascontiguousarray(array, dtype=np.int64)


def _check_state(state, cell, n_seq, weights, what):
    """A state tuple of (n_seq, H) arrays of the weights' dtype; None (or None entries) for zeros."""
    names = _STATE_NAMES[cell]
    shape = (n_seq, weights.hidden_size)
    if state is None:
        state = (None,) * len(names)
    elif isinstance(state, np.ndarray) or not isinstance(state, (tuple, list)):
        raise TypeError(
            f"{what} must be a tuple ({', '.join(names)}) of arrays of shape {shape} for "
            f"cell {cell!r}, or None; got {type(state).__name__}."
        )
    if len(state) != len(names):
        raise ValueError(
            f"{what} has {len(state)} array(s); cell {cell!r} has {len(names)}: "
            f"({', '.join(names)})."
        )
    arrays = []
    for s, name in zip(state, names):
        if s is None:
            arrays.append(np.zeros(shape, weights.dtype))
            continue
        s = _as_float_array(s, f"{what} {name}")
        _check_shape(s, shape, f"{what} {name}", "n_sequences, hidden_size")
        _check_dtype(s, weights.dtype, f"{what} {name}")
        arrays.append(s)
    return tuple(arrays)


# --------------------------------------------------------------------------
# Entry points


def init_state(cell, n_streams, hidden_size, dtype=np.float32):
    """A zero state: a tuple of ``(n_streams, hidden_size)`` arrays."""
    return tuple(np.zeros((n_streams, hidden_size), dtype) for _ in state_names(cell))


def forward(cell, x, lengths, weights, state=None, *, save=True):
    """Run one layer over a zero-padded batch of sequences.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    x : ndarray of shape (B, T, F)
        The sequences, float32 or float64; steps past a sequence's length are
        never read (their values do not matter).
    lengths : array-like of int of shape (B,) or None
        Each sequence's number of real steps, between 1 and ``T``; None means
        all ``T``.
    weights : sequence of 4 arrays or PreparedWeights
        See :func:`prepare_weights`; same dtype as ``x``.
    state : tuple of ndarray of shape (B, H), or None
        Initial state, ``(h,)`` or ``(h, c)``; None for zeros.
    save : bool, default=True
        Keep what :func:`backward` needs. Without it (prediction) the forward
        pass writes less memory and ``saved`` is None.

    Returns
    -------
    result : ForwardResult
        ``output`` (B, T, H): the hidden state after every real step, zero at
        padded steps; ``state``: each sequence's state after its own last
        step; ``saved``: the context for :func:`backward`, or None.
    """
    weights = prepare_weights(cell, weights)
    x = _check_x(x, weights, "x", 3)
    n_seq, n_steps, _ = x.shape
    lengths = _check_lengths(lengths, n_seq, n_steps)
    state = _check_state(state, cell, n_seq, weights, "state")
    hidden = weights.hidden_size
    rows = _N_GATES[cell] * hidden
    dtype = weights.dtype
    order = np.argsort(-lengths, kind="stable")
    longest = int(lengths[order[0]])
    n_saved = longest if save else 0
    # np.empty throughout: the kernels write every element that is read later
    # (zero-filling these arrays cost 1/10 of a forward pass).
    states = tuple(np.empty((n_saved + 1, n_seq, hidden), dtype) for _ in state)
    for buffer, initial in zip(states, state):
        buffer[0] = initial[order]
    last = tuple(np.empty((n_seq, hidden), dtype) for _ in state)
    output = np.empty((n_seq, n_steps, hidden), dtype)
    gates = np.empty((n_saved if cell != "rnn" else 0, n_seq, rows), dtype)
    reset_operand = np.empty((n_saved if cell == "gru" else 0, n_seq, hidden), dtype)
    chunk = max(1, min(longest, _CHUNK_VALUES // (n_seq * rows)))
    args = (x, weights.weight_ih_t, weights.weight_hh_t, weights.bias)
    with kernel_runtime():
        if cell == "rnn":
            kernels.rnn_forward(*args, order, lengths, chunk, *states, output, *last)
        elif cell == "lstm":
            kernels.lstm_forward(*args, order, lengths, chunk, *states, output, gates, *last)
        else:
            kernels.gru_forward(
                *args,
                weights.bias_hn,
                order,
                lengths,
                chunk,
                *states,
                output,
                gates,
                reset_operand,
                *last,
            )
    final = tuple(_unsort(s, order) for s in last)
    saved = Saved(weights, x, lengths, order, states, gates, reset_operand) if save else None
    return ForwardResult(output, final, saved)


def _time_major(x, order, lengths, n_steps):
    """``x`` (B, T, F) as (n_steps, B, F), sequences in ``order``, zero at padded steps.

    The layout of the saved gates, for one product over all steps; zeros, so
    that non-finite padding cannot turn ``0 * padding`` into NaN there.
    """
    out = np.ascontiguousarray(x[order, :n_steps].transpose(1, 0, 2))
    out[np.arange(n_steps)[:, None] >= lengths[order]] = 0
    return out


def _unsort(rows, order):
    """Rows in ``order`` back to the caller's order."""
    out = np.empty_like(rows)
    out[order] = rows
    return out


def backward(saved, grad_output=None, grad_state=None):
    """Backpropagation through time of one :func:`forward` call.

    Parameters
    ----------
    saved : Saved
        ``forward(...).saved``.
    grad_output : ndarray of shape (B, T, H) or None
        Gradient of the loss w.r.t. ``output``; values at padded steps are
        ignored (the output there is a constant 0). None for zeros.
    grad_state : tuple of (ndarray of shape (B, H) or None), or None
        Gradient w.r.t. the final state, ``(h,)`` or ``(h, c)``; None for zeros.

    Returns
    -------
    grads : Gradients
        W.r.t. ``x`` (zero at padded steps), the initial state (a tuple), and
        ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.
    """
    if not isinstance(saved, Saved):
        raise TypeError(f"saved must be the Saved of a forward() call; got {type(saved).__name__}.")
    weights = saved.weights
    cell = weights.cell
    n_seq, n_steps, n_features = saved.x.shape
    hidden = weights.hidden_size
    rows = _N_GATES[cell] * hidden
    dtype = weights.dtype
    if grad_output is None:
        grad_output = np.zeros((n_seq, n_steps, hidden), dtype)
    else:
        grad_output = _as_float_array(grad_output, "grad_output")
        _check_shape(grad_output, (n_seq, n_steps, hidden), "grad_output", "the shape of output")
        _check_dtype(grad_output, dtype, "grad_output")
        grad_output = np.ascontiguousarray(grad_output)
    grad_state = _check_state(grad_state, cell, n_seq, weights, "grad_state")
    order, lengths, states = saved.order, saved.lengths, saved.states
    longest = states[0].shape[0] - 1
    running = tuple(g[order] for g in grad_state)  # becomes the initial state's gradient
    dgates = np.empty((longest, n_seq, rows), dtype)  # every element written by the kernels
    dgates_h = dgates
    grad_bias_ih = np.zeros(rows, dtype)
    grad_bias_hh = grad_bias_ih
    w_hh = weights.weights.weight_hh
    with kernel_runtime():
        if cell == "rnn":
            kernels.rnn_backward(
                states[0], order, lengths, w_hh, grad_output, running[0], dgates, grad_bias_ih
            )
        elif cell == "lstm":
            kernels.lstm_backward(
                saved.gates,
                states[1],
                order,
                lengths,
                w_hh,
                grad_output,
                *running,
                dgates,
                grad_bias_ih,
            )
        else:
            dgates_h = np.empty((longest, n_seq, rows), dtype)
            grad_bias_hh = np.zeros(rows, dtype)
            kernels.gru_backward(
                saved.gates,
                saved.reset_operand,
                states[0],
                order,
                lengths,
                w_hh,
                grad_output,
                running[0],
                dgates,
                dgates_h,
                grad_bias_ih,
                grad_bias_hh,
            )
        # Products over all steps at once, in the kernels' time-major layout.
        dg = dgates.reshape(-1, rows)
        x_tm = _time_major(saved.x, order, lengths, longest).reshape(-1, n_features)
        grad_weight_ih = np.matmul(dg.T, x_tm)
        grad_weight_hh = np.matmul(dgates_h.reshape(-1, rows).T, states[0][:-1].reshape(-1, hidden))
        grad_x_tm = np.matmul(dg, weights.weights.weight_ih).reshape(longest, n_seq, n_features)
    grad_x = np.zeros((n_seq, n_steps, n_features), dtype)
    grad_x[order, :longest] = grad_x_tm.transpose(1, 0, 2)
    if grad_bias_hh is grad_bias_ih:  # rnn, lstm: both biases are added alike
        grad_bias_hh = grad_bias_ih.copy()
    return Gradients(
        x=grad_x,
        state=tuple(_unsort(g, order) for g in running),
        weight_ih=grad_weight_ih,
        weight_hh=grad_weight_hh,
        bias_ih=grad_bias_ih,
        bias_hh=grad_bias_hh,
    )


def step(cell, x_t, state, weights):
    """Advance ``n_streams`` independent streams by one time step.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    x_t : ndarray of shape (n_streams, F)
        Each stream's new observation.
    state : tuple of ndarray of shape (n_streams, H), or None
        The streams' current state (see :func:`init_state`); None for zeros.
        It is not modified.
    weights : PreparedWeights or sequence of 4 arrays
        Pass :func:`prepare_weights` output when stepping repeatedly: raw
        weights are prepared (validated, copied, transposed) on every call.

    Returns
    -------
    h_t : ndarray of shape (n_streams, H)
        The new hidden state, which is the output of the step; it is the same
        array as ``new_state[0]``.
    new_state : tuple of ndarray of shape (n_streams, H)

    Notes
    -----
    Built for the smallest cost per call at one stream (online prediction):
    arrays of the expected type, dtype, shape and layout pass a few cheap
    checks, and anything else goes through the full validation of
    :func:`forward`. One stream never reaches BLAS; several do, on one thread.
    """
    if type(weights) is not PreparedWeights or weights.cell != cell:
        weights = prepare_weights(cell, weights)
    dtype = weights.dtype
    if not (
        type(x_t) is np.ndarray
        and x_t.ndim == 2
        and x_t.dtype == dtype
        and x_t.shape[1] == weights.input_size
        and x_t.shape[0] > 0
        and x_t.flags.c_contiguous
    ):
        x_t = _check_x(x_t, weights, "x_t", 2)
    n_streams = x_t.shape[0]
    new = _copy_state_fast(state, cell, (n_streams, weights.hidden_size), dtype)
    if new is None:
        new = tuple(s.copy() for s in _check_state(state, cell, n_streams, weights, "state"))
    if n_streams == 1:  # no BLAS call: skip the thread switch
        _STEP_KERNELS[cell](x_t, weights.packed, *new)
    else:
        with single_threaded_blas():
            _STEP_KERNELS[cell](x_t, weights.packed, *new)
    return new[0], new


_STEP_KERNELS = {"rnn": kernels.rnn_step, "lstm": kernels.lstm_step, "gru": kernels.gru_step}


def _copy_state_fast(state, cell, shape, dtype):
    """Copies of a well-formed state (C-contiguous, as ``copy()`` makes them), else None."""
    if type(state) is not tuple or len(state) != (2 if cell == "lstm" else 1):
        return None
    h = state[0]
    if type(h) is not np.ndarray or h.shape != shape or h.dtype != dtype:
        return None
    if cell != "lstm":
        return (h.copy(),)
    c = state[1]
    if type(c) is not np.ndarray or c.shape != shape or c.dtype != dtype:
        return None
    return (h.copy(), c.copy())
