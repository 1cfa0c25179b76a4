"""Plain NumPy references for the numba kernels, written for clarity, not speed.

Independent of ``sklearn_rnn._numba``: one sequence at a time, one step at a
time, the textbook equations in PyTorch's weight layout, ``np.tanh`` and
``np.exp``.
"""

import numpy as np

N_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def cell_step(cell, x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of one sequence: ``x`` (F,), ``state`` a tuple of (H,) arrays."""
    h = state[0]
    if cell == "rnn":
        return (np.tanh(weight_ih @ x + bias_ih + weight_hh @ h + bias_hh),)
    if cell == "lstm":
        i, f, g, o = np.split(weight_ih @ x + bias_ih + weight_hh @ h + bias_hh, 4)
        c = sigmoid(f) * state[1] + sigmoid(i) * np.tanh(g)
        return (sigmoid(o) * np.tanh(c), c)
    x_r, x_z, x_n = np.split(weight_ih @ x + bias_ih, 3)
    h_r, h_z, h_n = np.split(weight_hh @ h + bias_hh, 3)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return ((1.0 - z) * n + z * h,)


def forward(cell, x, lengths, weights, state):
    """Outputs (B, T, H), zero at padded steps, and the final state tuple."""
    n_seq, n_steps, _ = x.shape
    hidden = weights[1].shape[1]
    output = np.zeros((n_seq, n_steps, hidden), x.dtype)
    final = tuple(np.empty((n_seq, hidden), x.dtype) for _ in state)
    for b in range(n_seq):
        s = tuple(part[b] for part in state)
        for t in range(lengths[b]):
            s = cell_step(cell, x[b, t], s, *weights)
            output[b, t] = s[0]
        for k, part in enumerate(s):
            final[k][b] = part
    return output, final


def central_differences(f, array, eps=1e-6):
    """Gradient of the scalar ``f()`` w.r.t. ``array``, perturbed in place."""
    grad = np.zeros_like(array)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        up = f()
        flat[k] = saved - eps
        down = f()
        flat[k] = saved
        flat_grad[k] = (up - down) / (2 * eps)
    return grad
