"""Forward and backward (BPTT) kernels of the rnn, lstm and gru cells.

Private: call them through :mod:`sklearn_rnn._numba.cells`, which checks every
convention below before a kernel runs. Kernels only compute: they validate
nothing and raise nothing.

All jitted code of the backend is in this one file on purpose: numba's cache
checks only the file of the function it loads, so a kernel cached from here
would keep using a stale copy of a helper edited in another file.

Conventions shared by all kernels
---------------------------------
* Arrays are C-contiguous and of one float dtype (float32 or float64); the
  integer arrays are int64. ``B`` sequences, ``T`` steps, ``F`` features,
  ``H`` hidden units, ``G`` gates (rnn 1, lstm 4 as i, f, g, o, gru 3 as r,
  z, n); weights in PyTorch's layout, passed transposed (``w_ih_t`` (F, G*H),
  ``w_hh_t`` (H, G*H)) to the forward kernels, as they are (``w_hh`` (G*H,
  H)) to the backward kernels.
* ``order`` lists the sequences by non-increasing length, so at step ``t`` the
  sequences still running are ``order[:n]``. Everything the kernels keep or
  save is in that order -- row ``b`` is sequence ``order[b]`` -- and
  time-major: states ``hs``/``cs`` (S, B, H), saved gates (Tm, B, ...), gate
  gradients (Tm, B, G*H), with ``Tm`` the longest length. The rows of the
  running sequences of a step are then one contiguous block: streamed through
  memory in order, and multiplied by the weights as they are. The caller's
  arrays (``x``, ``out``, ``grad_out``, (B, T, ...)) are indexed by
  ``order[b]``.
* A sequence only runs for its own length: nothing is read at its padded
  steps, its output there is set to zero, and its final state is the one
  after its own last step. Time-major rows of sequences that have ended are
  zero in the states and in the gate gradients (so that products over all
  steps can include them), and never read elsewhere.
* The caller allocates every array, mostly with ``np.empty``: the kernels
  write each element that is read later.

Speed
-----
* The input projection ``x @ weight_ih.T`` is one matrix product per chunk of
  ``chunk`` time steps of all running sequences (the caller sizes chunks to
  stay in cache), not one per step.
* The recurrent product of each step goes through :func:`_rows_times`: a
  hand-written vectorised loop for one running sequence (streaming, batch 1),
  BLAS (``np.dot``) for more.
* Everything else is elementwise over rows of ``H`` values, written as loops
  over 1-D contiguous views with activations made only of arithmetic, so LLVM
  vectorises them (see the activation section).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .config import FASTMATH, JIT_OPTIONS

_OVERLOAD_OPTIONS = {"fastmath": FASTMATH, "error_model": "numpy"}

# --------------------------------------------------------------------------
# Activations
#
# ``math.exp``/``math.tanh`` are calls into libm that LLVM cannot vectorise
# without Intel's SVML (not a dependency); in a prototype LSTM the activations
# then dominated and lost to torch. These use only arithmetic, min/max, a
# floor, a select and a bit cast, so a loop over a row runs 8 lanes at a time.
#
# float32: a rational minimax approximation of tanh (Eigen's), within 4 ulp,
# and sigmoid(x) = (1 + tanh(x/2)) / 2, within 2.3e-7 absolute (its far
# negative tail is not relatively accurate). Half the instructions of the exp
# form: an LSTM row of 64 units takes 0.14 us here instead of 0.19.
#
# float64: through exp(-a) for a >= 0, a = k ln2 - r with |r| <= ln2/2,
# exp(-a) = 2**-k (1 + expm1(r)), expm1 a degree-13 Taylor polynomial and
# 2**-k built from its exponent bits. sigmoid within 14 ulp, tanh within 2 ulp
# over [-100, 100] (measured), accurate in relative terms near 0 and in the
# tails.
#
# Constants are made with ``type(x)(c)`` where x may be float32: a bare
# Python float would promote the expression to float64.


@njit(**JIT_OPTIONS)
def _exp_neg_parts(a):
    """For float64 ``a >= 0``: ``(m, scale)`` with ``exp(-a) = scale * (1 + m)``."""
    k = np.floor(a * 1.4426950408889634 + 0.5)
    r = (k * 0.6931471803691238 - a) + k * 1.9082149292705877e-10  # ln2 in two parts
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    scale = np.int64((np.int64(1023) - np.int64(k)) << np.int64(52)).view(np.float64)
    return p * r, scale


@njit(**JIT_OPTIONS)
def _sigmoid64(x):
    # exp(-700) is the last comfortably normal float64: no denormal comes out.
    a = min(abs(x), 700.0)
    m, scale = _exp_neg_parts(a)
    e = (m + 1.0) * scale  # exp(-|x|)
    s = 1.0 / (1.0 + e)
    return s if x >= 0.0 else e * s


@njit(**JIT_OPTIONS)
def _tanh64(x):
    # -m / (2 + m) with m = expm1(-2|x|); tanh(20) rounds to 1 in float64.
    a = min(abs(x), 20.0)
    m, scale = _exp_neg_parts(2.0 * a)
    m = m * scale + (scale - 1.0)
    y = -m / (2.0 + m)
    return y if x >= 0.0 else -y


@njit(**JIT_OPTIONS)
def _tanh32(x):
    # Odd degree-13 over even degree-6 on |x| <= 7.9053, beyond which tanh
    # rounds to +-1 in float32.
    t = type(x)
    x = max(min(x, t(7.90531110763549805)), t(-7.90531110763549805))
    x2 = x * x
    p = t(-2.76076847742355e-16)
    p = p * x2 + t(2.00018790482477e-13)
    p = p * x2 + t(-8.60467152213735e-11)
    p = p * x2 + t(5.12229709037114e-08)
    p = p * x2 + t(1.48572235717979e-05)
    p = p * x2 + t(6.37261928875436e-04)
    p = p * x2 + t(4.89352455891786e-03)
    q = t(1.19825839466702e-06)
    q = q * x2 + t(1.18534705686654e-04)
    q = q * x2 + t(2.26843463243900e-03)
    q = q * x2 + t(4.89352518554385e-03)
    return x * p / q


@njit(**JIT_OPTIONS)
def _sigmoid32(x):
    t = type(x)
    return t(0.5) + t(0.5) * _tanh32(t(0.5) * x)


def sigmoid(x):
    """``1 / (1 + exp(-x))`` for a float32 or float64 scalar (type kept)."""
    return _sigmoid32(x) if isinstance(x, np.float32) else _sigmoid64(x)


def tanh(x):
    """``tanh(x)`` for a float32 or float64 scalar (type kept)."""
    return _tanh32(x) if isinstance(x, np.float32) else _tanh64(x)


@overload(sigmoid, jit_options=_OVERLOAD_OPTIONS)
def _sigmoid_overload(x):
    if x == types.float32:
        return lambda x: _sigmoid32(x)
    if x == types.float64:
        return lambda x: _sigmoid64(x)
    return None


@overload(tanh, jit_options=_OVERLOAD_OPTIONS)
def _tanh_overload(x):
    if x == types.float32:
        return lambda x: _tanh32(x)
    if x == types.float64:
        return lambda x: _tanh64(x)
    return None


# --------------------------------------------------------------------------
# Products


@njit(**JIT_OPTIONS)
def _matvec_t(v, w_t, out):
    """``out[:] = v @ w_t`` for ``v`` (K,), ``w_t`` (K, N), eight rows of ``w_t`` at a time.

    The row-by-row form (``out += v[k] * w_t[k]``) vectorises along ``N``
    without horizontal sums; taking eight rows per pass reads and writes
    ``out`` eight times less often.
    """
    out[:] = 0.0
    n_rows = v.shape[0]
    n_cols = out.shape[0]
    k = 0
    while k + 8 <= n_rows:
        v0 = v[k]
        v1 = v[k + 1]
        v2 = v[k + 2]
        v3 = v[k + 3]
        v4 = v[k + 4]
        v5 = v[k + 5]
        v6 = v[k + 6]
        v7 = v[k + 7]
        w0 = w_t[k]
        w1 = w_t[k + 1]
        w2 = w_t[k + 2]
        w3 = w_t[k + 3]
        w4 = w_t[k + 4]
        w5 = w_t[k + 5]
        w6 = w_t[k + 6]
        w7 = w_t[k + 7]
        for j in range(n_cols):
            out[j] += ((v0 * w0[j] + v1 * w1[j]) + (v2 * w2[j] + v3 * w3[j])) + (
                (v4 * w4[j] + v5 * w5[j]) + (v6 * w6[j] + v7 * w7[j])
            )
        k += 8
    while k < n_rows:
        vk = v[k]
        wk = w_t[k]
        for j in range(n_cols):
            out[j] += vk * wk[j]
        k += 1


@njit(**JIT_OPTIONS)
def _rows_times(rows, w_t, out):
    """``out[:] = rows @ w_t`` for ``rows`` (n, K), ``w_t`` (K, N), ``out`` (n, N).

    One row (streaming, batch 1) is faster by hand than through a BLAS call;
    from two rows on, BLAS is (measured for K=64, N=256).
    """
    if rows.shape[0] == 1:
        _matvec_t(rows[0], w_t, out[0])
    else:
        np.dot(rows, w_t, out)


@njit(**JIT_OPTIONS)
def _project_chunk(x, order, n, t0, t1, w_ih_t, x_buf, proj_buf):
    """Input projection of steps ``[t0, t1)`` of the sequences ``order[:n]``.

    Returns ``proj`` (n, t1 - t0, G*H) with ``proj[b, t - t0] = x[order[b], t]
    @ w_ih_t``, computed as one product; ``x_buf``/``proj_buf`` are flat
    scratch buffers large enough for a whole chunk.
    """
    steps = t1 - t0
    n_features = x.shape[2]
    n_cols = w_ih_t.shape[1]
    xs = x_buf[: n * steps * n_features].reshape((n, steps, n_features))
    for b in range(n):
        s = order[b]
        for t in range(t0, t1):
            _copy(x[s, t], xs[b, t - t0])
    proj = proj_buf[: n * steps * n_cols].reshape((n * steps, n_cols))
    _rows_times(xs.reshape((n * steps, n_features)), w_ih_t, proj)
    return proj.reshape((n, steps, n_cols))


# --------------------------------------------------------------------------
# One step of one sequence (shared by the sequence and the streaming kernels)
#
# LLVM cannot tell that two arrays do not overlap, so before vectorising a
# loop it compares the address ranges of every written array with every
# other array the loop touches. With a dozen rows (four gates, their
# recurrent parts and biases, h, c...) those checks cost more than the
# arithmetic of a 64-unit row (measured: 107 ns for an 8-unit LSTM row, 19 ns
# without them). So each cell works in one flat row ``w`` holding all its
# per-unit values at offsets that are multiples of ``H`` -- which LLVM proves
# disjoint within a loop of ``H`` iterations -- plus at most one other array;
# small loops (:func:`_add3`, copies) gather the inputs into ``w`` first.


@njit(**JIT_OPTIONS)
def _add2(a, b, out):
    """``out[:] = a + b``."""
    for j in range(out.shape[0]):
        out[j] = a[j] + b[j]


@njit(**JIT_OPTIONS)
def _add3(a, b, c, out):
    """``out[:] = a + b + c``."""
    for j in range(out.shape[0]):
        out[j] = a[j] + b[j] + c[j]


@njit(**JIT_OPTIONS)
def _copy(src, dst):
    """``dst[:] = src`` for 1-D arrays (a plain loop: 4x faster than numba's slice assignment)."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@njit(**JIT_OPTIONS)
def _accumulate(src, dst):
    """``dst += src``."""
    for j in range(dst.shape[0]):
        dst[j] += src[j]


@njit(**JIT_OPTIONS)
def _zero_padding(a, lengths):
    """Zero ``a[s, t]`` (B, T, K) at the padded steps ``t >= lengths[s]``.

    Cheaper than zero-filling whole arrays: callers allocate with np.empty.
    """
    zero = a.dtype.type(0.0)
    for s in range(a.shape[0]):
        for t in range(lengths[s], a.shape[1]):
            row = a[s, t]
            for j in range(row.shape[0]):
                row[j] = zero


@njit(**JIT_OPTIONS)
def _rnn_row(pre, rec, bias, h):
    """Elman step: ``h = tanh(pre + rec + bias)``, all (H,)."""
    for j in range(h.shape[0]):
        h[j] = tanh(pre[j] + rec[j] + bias[j])


@njit(**JIT_OPTIONS)
def _lstm_cell(w, h, hidden):
    """LSTM step in ``w`` (5H,) = [i, f, g, o pre-activations | c].

    The gates become their activations and ``c`` the new cell state; the new
    hidden state goes to ``h`` (H,).
    """
    for j in range(hidden):
        i = sigmoid(w[j])
        f = sigmoid(w[hidden + j])
        g = tanh(w[2 * hidden + j])
        o = sigmoid(w[3 * hidden + j])
        c = f * w[4 * hidden + j] + i * g
        w[j] = i
        w[hidden + j] = f
        w[2 * hidden + j] = g
        w[3 * hidden + j] = o
        w[4 * hidden + j] = c
        h[j] = o * tanh(c)


@njit(**JIT_OPTIONS)
def _gru_cell(w, h, hidden):
    """GRU step in ``w`` (4H,) = [r, z pre-activations | W_in x + b_in | W_hn h + b_hn].

    r, z and the middle part become the activated gates r, z, n; ``h`` (H,)
    is updated.
    """
    for j in range(hidden):
        r = sigmoid(w[j])
        z = sigmoid(w[hidden + j])
        n = tanh(w[2 * hidden + j] + r * w[3 * hidden + j])
        w[j] = r
        w[hidden + j] = z
        w[2 * hidden + j] = n
        h[j] = n + z * (h[j] - n)


@njit(**JIT_OPTIONS)
def _gru_gather(proj, rec, bias, bias_hn, hidden, w):
    """Fill a GRU work row ``w`` from the input part ``proj`` and recurrent part ``rec`` (3H,)."""
    h2 = 2 * hidden
    _add3(proj[:h2], rec[:h2], bias[:h2], w[:h2])
    _add2(proj[h2:], bias[h2:], w[h2 : 3 * hidden])
    _add2(rec[h2:], bias_hn, w[3 * hidden :])


# --------------------------------------------------------------------------
# Whole sequences, forward
#
# State buffers are time-major and in ``order``: ``hs`` (S, B, H) with
# ``hs[0]`` the initial state. With ``S == Tm + 1`` (Tm the longest length)
# the forward pass saves every state for the backward pass: ``hs[t + 1, b]``
# after step t, zero once sequence ``order[b]`` has ended. With ``S == 1`` it
# saves nothing and updates ``hs[0]`` in place. Saved per-step arrays
# (``gates``...) are time-major too, (Tm, B, ...), or have zero rows when not
# saving. Time-major rows of the running sequences of a step are one
# contiguous block: written and read back as a stream, and multiplied by the
# weights as they are, with no copy. The final states, each at its sequence's
# own last step, go to ``h_last`` (and ``c_last``), rows in ``order``.


@njit(**JIT_OPTIONS)
def _n_running(order, lengths, t, n):
    """Shrink ``n`` to the number of sequences longer than ``t``."""
    while n > 0 and lengths[order[n - 1]] <= t:
        n -= 1
    return n


@njit(**JIT_OPTIONS)
def _zero_rows(a, start):
    """Zero the rows ``a[start:]`` of a 2-D array."""
    zero = a.dtype.type(0.0)
    for b in range(start, a.shape[0]):
        row = a[b]
        for j in range(row.shape[0]):
            row[j] = zero


@njit(**JIT_OPTIONS)
def _states(hs, t, save):
    """The state buffers read (before step t) and written (after it)."""
    if save:
        return hs[t], hs[t + 1]
    return hs[0], hs[0]


@njit(**JIT_OPTIONS)
def rnn_forward(x, w_ih_t, w_hh_t, bias, order, lengths, chunk, hs, out, h_last):
    """Elman forward over a padded batch.

    x : (B, T, F). bias : (H,) both biases. chunk : steps per input projection.
    hs : (Tm + 1, B, H) or (1, B, H) states, see above.
    out : (B, T, H) out: the state at every real step, zero after.
    h_last : (B, H) out: final states.
    """
    n_seq, hidden = h_last.shape
    save = hs.shape[0] > 1
    x_buf = np.empty(n_seq * chunk * x.shape[2], hs.dtype)
    proj_buf = np.empty(n_seq * chunk * hidden, hs.dtype)
    rec = np.empty((n_seq, hidden), hs.dtype)
    n = n_seq
    n_steps = lengths[order[0]]
    for t0 in range(0, n_steps, chunk):
        t1 = min(t0 + chunk, n_steps)
        n = _n_running(order, lengths, t0, n)
        proj = _project_chunk(x, order, n, t0, t1, w_ih_t, x_buf, proj_buf)
        for t in range(t0, t1):
            n = _n_running(order, lengths, t, n)
            h_prev, h_next = _states(hs, t, save)
            _rows_times(h_prev[:n], w_hh_t, rec[:n])
            for b in range(n):
                s = order[b]
                h = h_next[b]
                _rnn_row(proj[b, t - t0], rec[b], bias, h)
                _copy(h, out[s, t])
                if t == lengths[s] - 1:
                    _copy(h, h_last[b])
            if save:
                _zero_rows(h_next, n)
    _zero_padding(out, lengths)


@njit(**JIT_OPTIONS)
def lstm_forward(
    x, w_ih_t, w_hh_t, bias, order, lengths, chunk, hs, cs, out, gates, h_last, c_last
):
    """LSTM forward over a padded batch.

    x : (B, T, F). bias : (4H,) both biases. chunk : steps per input projection.
    hs, cs : (Tm + 1, B, H) or (1, B, H) hidden and cell states, see above.
    out : (B, T, H) out: the hidden state at every real step, zero after.
    gates : (Tm, B, 4H) or zero rows; activated gates i, f, g, o out.
    h_last, c_last : (B, H) out: final states.
    """
    n_seq, hidden = h_last.shape
    g4 = 4 * hidden
    save = hs.shape[0] > 1
    x_buf = np.empty(n_seq * chunk * x.shape[2], hs.dtype)
    proj_buf = np.empty(n_seq * chunk * g4, hs.dtype)
    rec = np.empty((n_seq, g4), hs.dtype)
    work = np.empty((n_seq, 5 * hidden), hs.dtype)  # [gates | c] per sequence
    for b in range(n_seq):
        _copy(cs[0, b], work[b, g4:])
    n = n_seq
    n_steps = lengths[order[0]]
    for t0 in range(0, n_steps, chunk):
        t1 = min(t0 + chunk, n_steps)
        n = _n_running(order, lengths, t0, n)
        proj = _project_chunk(x, order, n, t0, t1, w_ih_t, x_buf, proj_buf)
        for t in range(t0, t1):
            n = _n_running(order, lengths, t, n)
            h_prev, h_next = _states(hs, t, save)
            _rows_times(h_prev[:n], w_hh_t, rec[:n])
            for b in range(n):
                s = order[b]
                w = work[b]
                h = h_next[b]
                _add3(proj[b, t - t0], rec[b], bias, w[:g4])
                _lstm_cell(w, h, hidden)
                _copy(h, out[s, t])
                if save:
                    _copy(w[:g4], gates[t, b])
                    _copy(w[g4:], cs[t + 1, b])
                if t == lengths[s] - 1:
                    _copy(h, h_last[b])
                    _copy(w[g4:], c_last[b])
            if save:
                _zero_rows(h_next, n)
                _zero_rows(cs[t + 1], n)
    _zero_padding(out, lengths)


@njit(**JIT_OPTIONS)
def gru_forward(
    x, w_ih_t, w_hh_t, bias, bias_hn, order, lengths, chunk, hs, out, gates, hn, h_last
):
    """GRU forward over a padded batch.

    x : (B, T, F). bias : (3H,) ``bias_ih`` plus the r and z parts of
    ``bias_hh``. bias_hn : (H,) the n part of ``bias_hh``. chunk : steps per
    input projection.
    hs : (Tm + 1, B, H) or (1, B, H) states, see above.
    out : (B, T, H) out: the state at every real step, zero after.
    gates : (Tm, B, 3H) or zero rows; activated gates r, z, n out.
    hn : (Tm, B, H) or zero rows; ``weight_hn @ h_prev + bias_hn`` out.
    h_last : (B, H) out: final states.
    """
    n_seq, hidden = h_last.shape
    g3 = 3 * hidden
    save = hs.shape[0] > 1
    x_buf = np.empty(n_seq * chunk * x.shape[2], hs.dtype)
    proj_buf = np.empty(n_seq * chunk * g3, hs.dtype)
    rec = np.empty((n_seq, g3), hs.dtype)
    w = np.empty(4 * hidden, hs.dtype)
    n = n_seq
    n_steps = lengths[order[0]]
    for t0 in range(0, n_steps, chunk):
        t1 = min(t0 + chunk, n_steps)
        n = _n_running(order, lengths, t0, n)
        proj = _project_chunk(x, order, n, t0, t1, w_ih_t, x_buf, proj_buf)
        for t in range(t0, t1):
            n = _n_running(order, lengths, t, n)
            h_prev, h_next = _states(hs, t, save)
            _rows_times(h_prev[:n], w_hh_t, rec[:n])
            for b in range(n):
                s = order[b]
                h = h_next[b]
                _gru_gather(proj[b, t - t0], rec[b], bias, bias_hn, hidden, w)
                if save:
                    _copy(h_prev[b], h)
                _gru_cell(w, h, hidden)
                _copy(h, out[s, t])
                if save:
                    _copy(w[:g3], gates[t, b])
                    _copy(w[g3:], hn[t, b])
                if t == lengths[s] - 1:
                    _copy(h, h_last[b])
            if save:
                _zero_rows(h_next, n)
    _zero_padding(out, lengths)


# --------------------------------------------------------------------------
# Whole sequences, backward (BPTT)
#
# Each kernel walks the steps backwards over the time-major arrays saved by
# the forward pass. ``dh`` (and ``dc``) hold the gradient of the loss w.r.t.
# the state after the current step, rows in ``order``: the final-state
# gradient at a sequence's last step, then what flows back from later steps;
# ``grad_out`` (caller's layout) at step t is added on top. The gradients
# w.r.t. the pre-activation gates go to ``dgates`` (Tm, B, G*H), zero for
# sequences that have ended: the recurrent product of a step reads its block
# as it is, and the caller gets the input and weight gradients from a few
# matrix products over all steps at once. Bias gradients are summed on the
# way. As in the forward pass, each cell's arithmetic runs in one flat row.


@njit(**JIT_OPTIONS)
def _n_started(order, lengths, t, n):
    """Grow ``n`` to the number of sequences longer than ``t``."""
    n_seq = order.shape[0]
    while n < n_seq and lengths[order[n]] > t:
        n += 1
    return n


@njit(**JIT_OPTIONS)
def rnn_backward(hs, order, lengths, w_hh, grad_out, dh, dgates, dbias):
    """Elman BPTT.

    hs : (Tm + 1, B, H) saved states. w_hh : (H, H).
    grad_out : (B, T, H) gradient w.r.t. the output.
    dh : (B, H) gradient w.r.t. the final state in, w.r.t. the initial state
        out (rows in ``order``).
    dgates : (Tm, B, H) out: gradient w.r.t. the pre-activation.
    dbias : (H,) zeros in; the bias gradient out.
    """
    one = dh.dtype.type(1.0)
    n = 0
    for t in range(lengths[order[0]] - 1, -1, -1):
        n = _n_started(order, lengths, t, n)
        for b in range(n):
            y = hs[t + 1, b]
            g = grad_out[order[b], t]
            dhb = dh[b]
            da = dgates[t, b]
            for j in range(dhb.shape[0]):
                da[j] = (dhb[j] + g[j]) * (one - y[j] * y[j])
            _accumulate(da, dbias)
        _zero_rows(dgates[t], n)
        _rows_times(dgates[t, :n], w_hh, dh[:n])


@njit(**JIT_OPTIONS)
def _lstm_cell_backward(w, hidden):
    """LSTM step backwards in ``w`` (8H,) = [i, f, g, o | c | c_prev | dh | dc].

    The gates become the gradients w.r.t. their pre-activations and ``dc``
    the gradient w.r.t. ``c_prev``; ``dh`` is the total gradient w.r.t. the
    step's hidden state output.
    """
    one = w.dtype.type(1.0)
    for j in range(hidden):
        i = w[j]
        f = w[hidden + j]
        g = w[2 * hidden + j]
        o = w[3 * hidden + j]
        tc = tanh(w[4 * hidden + j])
        dh = w[6 * hidden + j]
        dc = w[7 * hidden + j] + dh * o * (one - tc * tc)
        w[j] = dc * g * i * (one - i)
        w[hidden + j] = dc * w[5 * hidden + j] * f * (one - f)
        w[2 * hidden + j] = dc * i * (one - g * g)
        w[3 * hidden + j] = dh * tc * o * (one - o)
        w[7 * hidden + j] = dc * f


@njit(**JIT_OPTIONS)
def lstm_backward(gates, cs, order, lengths, w_hh, grad_out, dh, dc, dgates, dbias):
    """LSTM BPTT.

    gates : (Tm, B, 4H) saved activated gates. cs : (Tm + 1, B, H) saved
    cell states. w_hh : (4H, H).
    grad_out : (B, T, H) gradient w.r.t. the hidden state output.
    dh, dc : (B, H) gradients w.r.t. the final state in, w.r.t. the initial
        state out (rows in ``order``).
    dgates : (Tm, B, 4H) out: gradient w.r.t. the pre-activation gates.
    dbias : (4H,) zeros in; the bias gradient out.
    """
    n_seq, hidden = dh.shape
    g4 = 4 * hidden
    work = np.empty((n_seq, 8 * hidden), dh.dtype)
    for b in range(n_seq):
        _copy(dc[b], work[b, 7 * hidden :])
    n = 0
    for t in range(lengths[order[0]] - 1, -1, -1):
        n = _n_started(order, lengths, t, n)
        for b in range(n):
            w = work[b]
            _copy(gates[t, b], w[:g4])
            _copy(cs[t + 1, b], w[g4 : 5 * hidden])
            _copy(cs[t, b], w[5 * hidden : 6 * hidden])
            _add2(dh[b], grad_out[order[b], t], w[6 * hidden : 7 * hidden])
            _lstm_cell_backward(w, hidden)
            _copy(w[:g4], dgates[t, b])
            _accumulate(w[:g4], dbias)
        _zero_rows(dgates[t], n)
        _rows_times(dgates[t, :n], w_hh, dh[:n])
    for b in range(n_seq):
        _copy(work[b, 7 * hidden :], dc[b])


@njit(**JIT_OPTIONS)
def _gru_cell_backward(w, hidden):
    """GRU step backwards in ``w`` (6H,) = [r, z, n | a | h_prev | dh].

    ``a`` is ``W_hn h_prev + b_hn`` and ``dh`` the total gradient w.r.t. the
    step's output. Out: [dr, dz, dn | dn * r | dh * z | dh], the gradients
    w.r.t. the gates' input side, the n gate's recurrent side, and the direct
    path to ``h_prev``.
    """
    one = w.dtype.type(1.0)
    for j in range(hidden):
        r = w[j]
        z = w[hidden + j]
        n = w[2 * hidden + j]
        dh = w[5 * hidden + j]
        dn = dh * (one - z) * (one - n * n)
        w[j] = dn * w[3 * hidden + j] * r * (one - r)
        w[hidden + j] = dh * (w[4 * hidden + j] - n) * z * (one - z)
        w[2 * hidden + j] = dn
        w[3 * hidden + j] = dn * r
        w[4 * hidden + j] = dh * z


@njit(**JIT_OPTIONS)
def gru_backward(
    gates, hn, hs, order, lengths, w_hh, grad_out, dh, dgates, dgates_h, dbias, dbias_h
):
    """GRU BPTT.

    gates : (Tm, B, 3H) saved activated gates r, z, n. hn : (Tm, B, H)
    saved ``weight_hn @ h_prev + bias_hn``. hs : (Tm + 1, B, H) saved states.
    w_hh : (3H, H).
    grad_out : (B, T, H) gradient w.r.t. the output.
    dh : (B, H) gradient w.r.t. the final state in, w.r.t. the initial state
        out (rows in ``order``).
    dgates : (Tm, B, 3H) out: gradient w.r.t. the input side of the gates
        (``weight_ih @ x + bias_ih``).
    dgates_h : (Tm, B, 3H) out: gradient w.r.t. the recurrent side
        (``weight_hh @ h + bias_hh``): equal to ``dgates`` for r and z, times
        the reset gate for n.
    dbias, dbias_h : (3H,) zeros in; the bias gradients out.
    """
    hidden = dh.shape[1]
    g2 = 2 * hidden
    g3 = 3 * hidden
    direct = np.empty_like(dh)  # (B, H) the part of dh_prev through z * h_prev
    w = np.empty(6 * hidden, dh.dtype)
    n = 0
    for t in range(lengths[order[0]] - 1, -1, -1):
        n = _n_started(order, lengths, t, n)
        for b in range(n):
            _copy(gates[t, b], w[:g3])
            _copy(hn[t, b], w[g3 : 4 * hidden])
            _copy(hs[t, b], w[4 * hidden : 5 * hidden])
            _add2(dh[b], grad_out[order[b], t], w[5 * hidden :])
            _gru_cell_backward(w, hidden)
            d = dgates[t, b]
            d_h = dgates_h[t, b]
            _copy(w[:g3], d)
            _copy(w[:g2], d_h[:g2])
            _copy(w[g3 : 4 * hidden], d_h[g2:])
            _copy(w[4 * hidden : 5 * hidden], direct[b])
            _accumulate(d, dbias)
            _accumulate(d_h, dbias_h)
        _zero_rows(dgates[t], n)
        _zero_rows(dgates_h[t], n)
        _rows_times(dgates_h[t, :n], w_hh, dh[:n])
        for b in range(n):
            _accumulate(direct[b], dh[b])


# --------------------------------------------------------------------------
# One step of several streams (no lengths, nothing saved)
#
# Built for the smallest per-call cost at one stream: the weights come packed
# in one array ``packed`` (F + 1 + H + 1, G*H) = [weight_ih.T; bias_ih;
# weight_hh.T; bias_hh], so a call has few arguments to unbox, and the biases
# ride along in the products through a constant 1 appended to ``x`` and ``h``.


@njit(**JIT_OPTIONS)
def _step_products(x, h, packed, pre, rec):
    """``pre = [x, 1] @ packed[:F+1]`` and ``rec = [h, 1] @ packed[F+1:]``, (n, G*H) each."""
    n_streams, n_features = x.shape
    hidden = h.shape[1]
    one = h.dtype.type(1.0)
    vx = np.empty((n_streams, n_features + 1), h.dtype)
    vh = np.empty((n_streams, hidden + 1), h.dtype)
    for b in range(n_streams):
        _copy(x[b], vx[b, :n_features])
        vx[b, n_features] = one
        _copy(h[b], vh[b, :hidden])
        vh[b, hidden] = one
    _rows_times(vx, packed[: n_features + 1], pre)
    _rows_times(vh, packed[n_features + 1 :], rec)


@njit(**JIT_OPTIONS)
def rnn_step(x, packed, h):
    """One Elman step of ``n`` streams: ``x`` (n, F); ``h`` (n, H) updated in place."""
    n_streams, hidden = h.shape
    pre = np.empty((n_streams, hidden), h.dtype)
    rec = np.empty((n_streams, hidden), h.dtype)
    _step_products(x, h, packed, pre, rec)
    for b in range(n_streams):
        p = pre[b]
        r = rec[b]
        hb = h[b]
        for j in range(hidden):
            hb[j] = tanh(p[j] + r[j])


@njit(**JIT_OPTIONS)
def lstm_step(x, packed, h, c):
    """One LSTM step of ``n`` streams: ``x`` (n, F); ``h``, ``c`` (n, H) updated in place."""
    n_streams, hidden = h.shape
    g4 = 4 * hidden
    pre = np.empty((n_streams, g4), h.dtype)
    rec = np.empty((n_streams, g4), h.dtype)
    w = np.empty(5 * hidden, h.dtype)
    _step_products(x, h, packed, pre, rec)
    for b in range(n_streams):
        _add2(pre[b], rec[b], w[:g4])
        _copy(c[b], w[g4:])
        _lstm_cell(w, h[b], hidden)
        _copy(w[g4:], c[b])


@njit(**JIT_OPTIONS)
def gru_step(x, packed, h):
    """One GRU step of ``n`` streams: ``x`` (n, F); ``h`` (n, H) updated in place."""
    n_streams, hidden = h.shape
    g2 = 2 * hidden
    g3 = 3 * hidden
    pre = np.empty((n_streams, g3), h.dtype)
    rec = np.empty((n_streams, g3), h.dtype)
    w = np.empty(4 * hidden, h.dtype)
    _step_products(x, h, packed, pre, rec)
    for b in range(n_streams):
        _add2(pre[b, :g2], rec[b, :g2], w[:g2])
        _copy(pre[b, g2:], w[g2:g3])
        _copy(rec[b, g2:], w[g3:])
        _gru_cell(w, h[b], hidden)


# --------------------------------------------------------------------------
# Floating-point control (x86 only; see runtime.py)


@intrinsic
def _swap_mxcsr(typingctx, bits_or, bits_and):
    """Set the SSE control register MXCSR to ``(old | bits_or) & bits_and``; return ``old``."""
    if bits_or != types.uint32 or bits_and != types.uint32:
        return None

    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        pointer = builder.bitcast(slot, cgutils.voidptr_t)  # the intrinsics take an i8*
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t])
        store = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.stmxcsr")
        load = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.ldmxcsr")
        builder.call(store, [pointer])
        old = builder.load(slot)
        builder.store(builder.and_(builder.or_(old, args[0]), args[1]), slot)
        builder.call(load, [pointer])
        return old

    return types.uint32(types.uint32, types.uint32), codegen


@njit(**JIT_OPTIONS)
def set_mxcsr_bits(bits_or, bits_and):
    """Set this thread's MXCSR to ``(old | bits_or) & bits_and`` in one go; return ``old``.

    x86 only. ``set_mxcsr_bits(old, old)`` restores a saved value.
    """
    return _swap_mxcsr(np.uint32(bits_or), np.uint32(bits_and))
