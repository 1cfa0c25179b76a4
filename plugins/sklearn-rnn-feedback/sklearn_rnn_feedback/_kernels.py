"""Jitted forward, backward (BPTT) and step kernels of the direct feedback cell.

Private: call them through :mod:`sklearn_rnn_feedback._direct_numba`, which
checks every convention below before a kernel runs. Kernels only compute:
they validate nothing and raise nothing. This is the only module of the
package that imports numba; the cells import it on the first kernel call.

Compiler options
----------------
``JIT_OPTIONS`` follows sklearn-rnn's (``sklearn_rnn/_numba/config.py``),
kept here so that editing them invalidates numba's cache of this file:

* ``cache=True``: compiled code is written next to this file (or to
  ``NUMBA_CACHE_DIR``) and loaded by later processes. The kernels read no
  module global and take no jitted function as argument, both of which would
  defeat or stale the cache.
* ``fastmath`` with every LLVM flag except ``nnan`` and ``ninf``: reductions
  may be reassociated and contracted into FMA, but NaN and infinity still
  propagate, so a diverging model shows up as NaN.
* ``error_model="numpy"``: no division branch raising ZeroDivisionError.
* ``nogil=True``: a caller may run kernels on several threads.
* No ``parallel=True``: numba's OpenMP threading layer would share (and
  fight) torch's OpenMP runtime; parallelism, if any, is for the caller.

Conventions
-----------
* Arrays are C-contiguous (``weight_ih.T``, a transposed view, excepted) and
  of one float dtype, float32 or float64; ``lengths`` and ``offsets`` are
  int64. ``B`` sequences, ``T`` steps, ``F`` features, ``H`` units.
* The real steps of all sequences are *packed* row after row: sequence ``b``
  occupies rows ``offsets[b] : offsets[b] + lengths[b]`` of the packed arrays
  (``N = sum(lengths)`` rows). The input projection of every real step is then
  a single matrix product, padded steps are never read nor computed, and the
  packed states saved by the forward pass are exactly what the backward pass
  needs (the activation's derivative is a function of its output).
* Caller's arrays ``(B, T, ...)`` (``x``, ``out``, ``grad_out``, ``grad_x``)
  are only read at real steps; outputs are written everywhere, zeros at
  padded steps. Every other array is allocated by the caller with
  ``np.empty`` unless stated: the kernels write each element read later.
* ``relu`` selects the nonlinearity: ``max(a, 0)`` (NaN kept) or ``tanh``.

Speed
-----
Measured on 2 x86 cores, one thread, batch 32, 200 steps, 16 features, 64
units, tanh, float32: forward 1.5-1.8 ms, backward 1.1-1.2 ms; forward and
backward over lengths 100-200 took 2.2 ms, against 24 ms through the torch
cell's masked step loop and autograd (float64: 3.7 against 36 ms); one
``step`` of one stream 5 us. ``np.tanh`` (a libm call per value) took 6.2 ms
of forward: :func:`_tanh` is built from one ``exp`` and a polynomial instead
(within 2 ulp of tanh in float32 and float64, measured; NaN propagates).
Flushing tiny gradients (:func:`_step_backward`) took a 2000-step backward
with the loss at the last step only (``u`` in [0, 0.5]) from 6.2 to 5.6 ms.
"""

import numpy as np
from numba import njit

# Every LLVM fast-math flag except "nnan" and "ninf".
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

JIT_OPTIONS = {
    "cache": True,
    "fastmath": FASTMATH,
    "error_model": "numpy",
    "nogil": True,
}


@njit(**JIT_OPTIONS)
def _copy(src, dst):
    """``dst[:] = src`` for 1-D arrays."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@njit(**JIT_OPTIONS)
def _zero_padding(a, lengths):
    """Zero ``a[b, t]`` of a (B, T, K) array at the padded steps ``t >= lengths[b]``."""
    zero = a.dtype.type(0.0)
    for b in range(a.shape[0]):
        for t in range(lengths[b], a.shape[1]):
            row = a[b, t]
            for j in range(row.shape[0]):
                row[j] = zero


@njit(**JIT_OPTIONS)
def _tanh(v):
    """tanh of a float32/float64 scalar (type kept), within a few ulp."""
    t = type(v)
    a = abs(v)
    e = np.exp(t(-2.0) * a)
    big = (t(1.0) - e) / (t(1.0) + e)
    s = v * v  # below 1/8, Taylor to v**15: the next term is 1e-18 of v
    p = t(-929569.0 / 638512875.0)
    p = p * s + t(21844.0 / 6081075.0)
    p = p * s + t(-1382.0 / 155925.0)
    p = p * s + t(62.0 / 2835.0)
    p = p * s + t(-17.0 / 315.0)
    p = p * s + t(2.0 / 15.0)
    p = p * s + t(-1.0 / 3.0)
    small = v + v * s * p
    if a < t(0.125):
        return small
    return big if v >= t(0.0) else -big


@njit(**JIT_OPTIONS)
def _activate(a, relu):
    """Apply the nonlinearity to the row ``a`` (H,) in place."""
    zero = a.dtype.type(0.0)
    if relu:
        for j in range(a.shape[0]):
            v = a[j]
            a[j] = zero if v <= zero else v  # NaN fails the test and is kept, as in torch
    else:
        for j in range(a.shape[0]):
            a[j] = _tanh(a[j])


@njit(**JIT_OPTIONS)
def direct_forward(x, lengths, offsets, weight_ih, u, bias, h0, relu, xp, hp, out, h_last):
    """``h_t = act(W x_t + u * h_{t-1} + b)`` over a padded batch.

    x : (B, T, F). lengths, offsets : (B,). weight_ih : (H, F). u, bias : (H,).
    h0 : (B, H) initial states.
    xp : (N, F) out: the real steps of ``x``, packed.
    hp : (N, H) out: the state after every real step, packed.
    out : (B, T, H) out: the states, zero at padded steps.
    h_last : (B, H) out: each sequence's state after its last step.
    """
    n_seq = x.shape[0]
    hidden = u.shape[0]
    for b in range(n_seq):
        for t in range(lengths[b]):
            _copy(x[b, t], xp[offsets[b] + t])
    np.dot(xp, weight_ih.T, hp)  # (N, H) input projections, one BLAS call
    for b in range(n_seq):
        prev = h0[b]
        for t in range(lengths[b]):
            h = hp[offsets[b] + t]
            for j in range(hidden):
                h[j] += u[j] * prev[j] + bias[j]
            _activate(h, relu)
            _copy(h, out[b, t])
            prev = h
        _copy(prev, h_last[b])
    _zero_padding(out, lengths)


@njit(**JIT_OPTIONS)
def _step_backward(g, go, h, prev, u, d, du, dbias, relu, tiny):
    """One step of BPTT for one sequence, all rows (H,).

    ``g`` holds the gradient w.r.t. the state after the step, ``go`` the
    gradient w.r.t. the step's output; ``d`` receives the gradient w.r.t. the
    pre-activation, ``du``/``dbias`` accumulate, and ``g`` becomes the
    gradient w.r.t. the previous state. Gradients below the smallest normal
    float ``tiny`` are flushed to zero: decaying through ``u`` step after step
    they would otherwise become denormal floats, on which x86 CPUs compute many
    times slower.
    """
    zero = g.dtype.type(0.0)
    one = g.dtype.type(1.0)
    for j in range(g.shape[0]):
        total = g[j] + go[j]
        if relu:
            da = total if h[j] > zero else zero
        else:
            da = total * (one - h[j] * h[j])
        da = da if abs(da) >= tiny else zero
        d[j] = da
        du[j] += da * prev[j]
        dbias[j] += da
        gp = da * u[j]
        g[j] = gp if abs(gp) >= tiny else zero


@njit(**JIT_OPTIONS)
def direct_backward(
    xp, hp, h0, lengths, offsets, weight_ih, u, relu, tiny,  # the forward pass's
    grad_out, dh, dp, gxp, grad_x, grad_w, du, dbias,  # gradients
):
    """BPTT of :func:`direct_forward`.

    xp, hp, h0 : what the forward pass saved (packed inputs and states, initial
    states). weight_ih : (H, F). u : (H,). tiny : smallest normal float of
    the dtype.
    grad_out : (B, T, H) gradient w.r.t. the outputs (read at real steps only).
    dh : (B, H) gradient w.r.t. the final states in, w.r.t. the initial states out.
    dp : (N, H) out: gradient w.r.t. the pre-activations, packed.
    gxp : (N, F) scratch: gradient w.r.t. the packed inputs.
    grad_x : (B, T, F) out: gradient w.r.t. ``x``, zero at padded steps.
    grad_w : (H, F) out: gradient w.r.t. ``weight_ih``.
    du, dbias : (H,) zeros in; the gradients w.r.t. ``u`` and ``bias`` out.
    """
    n_seq = grad_x.shape[0]
    for b in range(n_seq):
        g = dh[b]
        for t in range(lengths[b] - 1, -1, -1):
            r = offsets[b] + t
            prev = hp[r - 1] if t > 0 else h0[b]
            _step_backward(g, grad_out[b, t], hp[r], prev, u, dp[r], du, dbias, relu, tiny)
    np.dot(dp.T, xp, grad_w)  # (H, F): sum over real steps of dpre x^T
    np.dot(dp, weight_ih, gxp)  # (N, F)
    for b in range(n_seq):
        for t in range(lengths[b]):
            _copy(gxp[offsets[b] + t], grad_x[b, t])
    _zero_padding(grad_x, lengths)


@njit(**JIT_OPTIONS)
def direct_step(x, weight_ih, u, bias, h, relu):
    """One step of ``n`` streams, no lengths: ``x`` (n, F); ``h`` (n, H) updated in place.

    Plain loops (no BLAS call) for the smallest cost per call.
    """
    n_streams, n_features = x.shape
    hidden = u.shape[0]
    for b in range(n_streams):
        xb = x[b]
        hb = h[b]
        for j in range(hidden):
            w = weight_ih[j]
            s = bias[j] + u[j] * hb[j]
            for k in range(n_features):
                s += w[k] * xb[k]
            hb[j] = s
        _activate(hb, relu)
