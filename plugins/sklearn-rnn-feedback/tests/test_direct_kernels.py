"""DirectFeedbackCell's numba kernels equal torch autograd through the masked step loop,
central finite differences and the NumPy reference, on ragged batches."""

import subprocess
import sys
import textwrap
from typing import NamedTuple

import naive
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sklearn_rnn_feedback import DirectFeedbackCell
from sklearn_rnn_feedback._direct_numba import DirectKernels, kernels_for


class Problem(NamedTuple):
    """A ragged batch, weights, initial state and output gradients, all float64."""

    nonlinearity: str
    x: np.ndarray  # (B, T, F), random values at padded steps
    lengths: np.ndarray  # (B,) int64
    params: tuple  # weight_ih (H, F), weight_hh (H,), bias (H,)
    state: tuple  # (h0,) (B, H)
    grad_outputs: np.ndarray  # (B, T, H)
    grad_state: tuple  # (B, H)

    def astype(self, dtype):
        def cast(arrays):
            return tuple(a.astype(dtype) for a in arrays)

        return self._replace(
            x=self.x.astype(dtype),
            params=cast(self.params),
            state=cast(self.state),
            grad_outputs=self.grad_outputs.astype(dtype),
            grad_state=cast(self.grad_state),
        )

    @property
    def kernels(self):
        return kernels_for(self.nonlinearity)

    def forward(self, save=False):
        """The kernels' forward: (outputs, final_state, saved)."""
        return self.kernels.forward(self.x, self.lengths, self.params, self.state, save)

    def reference(self):
        """tests/naive.py's masked loop of the equations: (outputs, final h)."""
        w, u, b = self.params
        weights = dict(weight_ih=w, weight_hh=u, bias=b)
        return naive.run(
            lambda x_t, h: naive.direct_step(x_t, h, weights, self.nonlinearity),
            self.x,
            self.lengths,
            self.state[0],
        )


def make_problem(nonlinearity, lengths, n_features, hidden, seed, extra_steps=0):
    """Weights as the cell initialises them: W, b in +-1/sqrt(H), u in [0, 1]."""
    rng = np.random.default_rng(seed)
    lengths = np.asarray(lengths, dtype=np.int64)
    n_seq, n_steps = len(lengths), int(lengths.max()) + extra_steps
    bound = 1 / np.sqrt(hidden)
    params = (
        rng.uniform(-bound, bound, size=(hidden, n_features)),
        rng.uniform(0, 1, size=hidden),
        rng.uniform(-bound, bound, size=hidden),
    )
    return Problem(
        nonlinearity=nonlinearity,
        x=rng.normal(size=(n_seq, n_steps, n_features)),
        lengths=lengths,
        params=params,
        state=(rng.normal(scale=0.5, size=(n_seq, hidden)),),
        grad_outputs=rng.normal(size=(n_seq, n_steps, hidden)),
        grad_state=(rng.normal(size=(n_seq, hidden)),),
    )


@st.composite
def problems(draw, extra_steps=0):
    """batch 1-4, ragged lengths 1-10, input 1-4, hidden 1-6, both nonlinearities."""
    return make_problem(
        nonlinearity=draw(st.sampled_from(["tanh", "relu"])),
        lengths=draw(st.lists(st.integers(1, 10), min_size=1, max_size=4)),
        n_features=draw(st.integers(1, 4)),
        hidden=draw(st.integers(1, 6)),
        seed=draw(st.integers(0, 2**32 - 1)),
        extra_steps=extra_steps,
    )


def run_kernels(problem):
    """forward then backward: (outputs, final_state, grad_x, grad_params, grad_state)."""
    outputs, final, saved = problem.forward(save=True)
    grads = problem.kernels.backward(saved, problem.grad_outputs, problem.grad_state)
    grad_x, grad_params, grad_state = grads
    return outputs, final, grad_x, grad_params, grad_state


def torch_cell(problem):
    """A float64 DirectFeedbackCell with the problem's weights."""
    hidden, n_features = problem.params[0].shape
    cell = DirectFeedbackCell(n_features, hidden, nonlinearity=problem.nonlinearity).double()
    with torch.no_grad():
        for p, value in zip(cell.parameters(), problem.params):
            p.copy_(torch.as_tensor(value))
    return cell


def run_torch(problem):
    """The same through DirectFeedbackCell's masked step loop and autograd (float64)."""
    cell = torch_cell(problem)
    x = torch.tensor(problem.x, requires_grad=True)
    h = h0 = torch.tensor(problem.state[0], requires_grad=True)
    lengths = torch.as_tensor(problem.lengths)
    outputs = []
    for t in range(x.shape[1]):
        out, new = cell(x[:, t], h)
        running = (t < lengths)[:, None]
        h = torch.where(running, new, h)
        outputs.append(torch.where(running, out, torch.zeros_like(out)))
    outputs = torch.stack(outputs, dim=1)
    loss = (outputs * torch.as_tensor(problem.grad_outputs)).sum() + (
        h * torch.as_tensor(problem.grad_state[0])
    ).sum()
    grads = torch.autograd.grad(loss, [x, *cell.parameters(), h0])
    as_np = [g.numpy() for g in grads]
    return outputs.detach().numpy(), (h.detach().numpy(),), as_np[0], tuple(as_np[1:4]), (as_np[4],)


def loss_of(problem):
    """The scalar whose gradients backward() returns: <outputs, g_out> + <final, g_state>."""
    outputs, final, _ = problem.forward()
    return np.sum(outputs * problem.grad_outputs) + np.sum(final[0] * problem.grad_state[0])


def pre_activations(problem):
    """Every real step's pre-activation, from the NumPy reference."""
    w, u, b = problem.params
    outputs, _ = problem.reference()
    previous = np.concatenate([problem.state[0][:, None], outputs[:, :-1]], axis=1)
    pre = problem.x @ w.T + u * previous + b
    real = np.arange(problem.x.shape[1])[None, :] < problem.lengths[:, None]
    return pre[real]


def assert_all_close(got, want, rtol, atol):
    for g, w in zip(got, want):
        if isinstance(w, tuple):
            assert_all_close(g, w, rtol, atol)
        else:
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


@settings(max_examples=40, deadline=None)
@given(problem=problems(extra_steps=0) | problems(extra_steps=2))
def test_forward_backward_match_torch_autograd(problem):
    """Outputs, final state and all gradients equal torch autograd through the masked loop."""
    assert_all_close(run_kernels(problem), run_torch(problem), rtol=1e-9, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(problem=problems(), data=st.data())
def test_backward_matches_central_differences(problem, data):
    """<gradient, v> equals the central difference of the loss along v, for each input in turn."""
    if problem.nonlinearity == "relu":
        assume(np.min(np.abs(pre_activations(problem))) > 1e-4)  # no kink within reach of eps
    grad_x, grad_params, grad_state = run_kernels(problem)[2:]
    real = (np.arange(problem.x.shape[1])[None, :] < problem.lengths[:, None])[:, :, None]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    eps = 1e-6
    cases = [("x", None, grad_x * real)]  # padded steps are not inputs
    cases += [("params", i, g) for i, g in enumerate(grad_params)]
    cases += [("state", 0, grad_state[0])]
    for field, index, grad in cases:
        v = rng.normal(size=grad.shape)
        if field == "x":
            v = v * real

        def shifted(sign):
            value = getattr(problem, field)
            if index is None:
                return problem._replace(**{field: value + sign * eps * v})
            value = list(value)
            value[index] = value[index] + sign * eps * v
            return problem._replace(**{field: tuple(value)})

        numeric = (loss_of(shifted(1)) - loss_of(shifted(-1))) / (2 * eps)
        analytic = np.sum(grad * v)
        assert abs(numeric - analytic) <= 1e-6 * (1 + abs(analytic)), (field, index)


def test_backward_matches_coordinatewise_differences():
    """Each coordinate of each gradient equals its central difference, on a ragged batch."""
    problem = make_problem("tanh", [4, 1, 3], n_features=2, hidden=3, seed=1, extra_steps=1)
    grad_x, grad_params, grad_state = run_kernels(problem)[2:]
    eps = 1e-6

    def numeric(get, set_):
        out = np.zeros_like(get(problem))
        for i in np.ndindex(out.shape):
            plus, minus = get(problem).copy(), get(problem).copy()
            plus[i] += eps
            minus[i] -= eps
            out[i] = (loss_of(set_(plus)) - loss_of(set_(minus))) / (2 * eps)
        return out

    np.testing.assert_allclose(
        grad_x, numeric(lambda p: p.x, lambda a: problem._replace(x=a)), atol=1e-8
    )
    for i in range(3):

        def set_param(a, i=i):
            params = list(problem.params)
            params[i] = a
            return problem._replace(params=tuple(params))

        np.testing.assert_allclose(
            grad_params[i], numeric(lambda p, i=i: p.params[i], set_param), atol=1e-8
        )
    np.testing.assert_allclose(
        grad_state[0],
        numeric(lambda p: p.state[0], lambda a: problem._replace(state=(a,))),
        atol=1e-8,
    )


@settings(max_examples=25, deadline=None)
@given(problem=problems(extra_steps=2))
def test_forward_matches_numpy_reference(problem):
    """Outputs and final state equal tests/naive.py's masked loop of the equations."""
    expected, expected_final = problem.reference()
    outputs, final, _ = problem.forward()
    np.testing.assert_allclose(outputs, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(final[0], expected_final, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(problem=problems())
def test_step_equals_one_forward_step(problem):
    """step() is forward() over one step (lengths 1), and the torch cell's forward."""
    k = problem.kernels
    x_t = problem.x[:, 0]
    h, new_state = k.step(x_t, problem.state, problem.params)
    one_step = problem._replace(x=x_t[:, None].copy(), lengths=np.ones(len(x_t), np.int64))
    outputs, final, _ = one_step.forward()
    np.testing.assert_allclose(h, outputs[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(new_state[0], final[0], rtol=1e-12, atol=1e-12)
    assert new_state[0] is h
    cell = torch_cell(problem)
    with torch.no_grad():
        expected, _ = cell(torch.as_tensor(x_t), torch.as_tensor(problem.state[0]))
    np.testing.assert_allclose(h, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_step_streams_a_sequence():
    """Stepping a sequence one step at a time gives forward()'s outputs."""
    problem = make_problem("relu", [7, 7], n_features=3, hidden=5, seed=3)
    k = problem.kernels
    outputs, final, _ = k.forward(problem.x, problem.lengths, problem.params, problem.state, False)
    state = problem.state
    for t in range(7):
        h, state = k.step(problem.x[:, t], state, problem.params)
        np.testing.assert_allclose(h, outputs[:, t], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state[0], final[0], rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(problem=problems(extra_steps=1))
def test_float32_agrees_with_float64(problem):
    """float32 runs in float32 (no conversion) and agrees with float64 at float32 precision."""
    want = run_kernels(problem)
    got = run_kernels(problem.astype(np.float32))

    def check(g, w):
        if isinstance(w, tuple):
            for gi, wi in zip(g, w):
                check(gi, wi)
            return
        assert g.dtype == np.float32
        scale = max(1.0, float(np.abs(w).max()))
        np.testing.assert_allclose(g, w, rtol=0, atol=2e-5 * scale)

    for g, w in zip(got, want):
        check(g, w)


@settings(max_examples=20, deadline=None)
@given(problem=problems(extra_steps=2))
def test_padding_is_never_read(problem):
    """NaN at padded steps of x and grad_outputs changes nothing; outputs and grad_x are 0 there."""
    padded = np.arange(problem.x.shape[1])[None, :] >= problem.lengths[:, None]
    dirty = problem._replace(
        x=np.where(padded[:, :, None], np.nan, problem.x),
        grad_outputs=np.where(padded[:, :, None], np.nan, problem.grad_outputs),
    )
    clean = run_kernels(problem)
    assert_all_close(run_kernels(dirty), clean, rtol=0, atol=0)
    outputs, _, grad_x = clean[:3]
    assert not outputs[padded].any() and not grad_x[padded].any()


def test_final_state_stops_at_each_length():
    """A finished sequence's final state is its output at its own last step."""
    problem = make_problem("tanh", [5, 2, 4], n_features=2, hidden=3, seed=0, extra_steps=3)
    outputs, final, _ = problem.forward()
    for b, n in enumerate(problem.lengths):
        np.testing.assert_array_equal(final[0][b], outputs[b, n - 1])


def test_inputs_are_not_modified_and_views_are_accepted():
    """Nothing given is written to; non-contiguous views give the same result as copies."""
    problem = make_problem("tanh", [3, 5], n_features=3, hidden=4, seed=2)
    before = [a.copy() for a in (problem.x, *problem.params, *problem.state, problem.grad_outputs)]
    result = run_kernels(problem)
    after = [problem.x, *problem.params, *problem.state, problem.grad_outputs]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    views = problem._replace(
        x=np.asfortranarray(problem.x),
        params=(
            np.asfortranarray(problem.params[0]),
            np.repeat(problem.params[1], 2)[::2],  # strided
            problem.params[2],
        ),
        grad_outputs=np.asfortranarray(problem.grad_outputs),
    )
    assert_all_close(run_kernels(views), result, rtol=0, atol=1e-15)


def test_none_means_zeros():
    """state=None, grad_outputs=None and grad_final_state entries None stand for zeros."""
    problem = make_problem("tanh", [3, 2], n_features=2, hidden=3, seed=4)
    k = problem.kernels
    zeros = (np.zeros_like(problem.state[0]),)
    out_none, _, saved = k.forward(problem.x, problem.lengths, problem.params, None, True)
    out_zero, _, _ = k.forward(problem.x, problem.lengths, problem.params, zeros, False)
    np.testing.assert_array_equal(out_none, out_zero)
    grads_none = k.backward(saved, None, (None,))
    assert not grads_none[0].any() and not any(g.any() for g in grads_none[1])


def test_save_false_returns_no_saved():
    """Without save, forward returns None as saved (prediction)."""
    problem = make_problem("tanh", [3], n_features=2, hidden=3, seed=5)
    assert problem.forward(save=False)[2] is None


def test_long_sequence_gradients_flush_instead_of_going_denormal():
    """A gradient decaying through 500 steps jumps from normal floats to zero, never denormal.

    One unit, W = 1: grad_x is the pre-activation gradient itself, which
    halves (at least) at every step back through u = 0.5; without flushing it
    would pass through the 23 halvings of float32's denormal range.
    """
    problem = make_problem("tanh", [500], n_features=1, hidden=1, seed=6).astype(np.float32)
    params = (np.ones((1, 1), np.float32), np.full(1, 0.5, np.float32), problem.params[2])
    grad_outputs = np.zeros_like(problem.grad_outputs)
    grad_outputs[0, -1] = 1.0
    k = problem.kernels
    _, _, saved = k.forward(problem.x, problem.lengths, params, problem.state, True)
    grad_x, _, grad_state = k.backward(saved, grad_outputs, None)
    tiny = np.finfo(np.float32).tiny
    assert not np.any((grad_x != 0) & (np.abs(grad_x) < tiny))
    assert grad_x[0, -1].any() and not grad_x[0, :300].any() and not grad_state[0].any()


# --------------------------------------------------------------------------
# Bad input: ValueError/TypeError before any kernel runs


def _good():
    problem = make_problem("tanh", [3, 2], n_features=2, hidden=3, seed=0)
    return dict(x=problem.x, lengths=problem.lengths, params=problem.params, state=problem.state)


BAD_FORWARD = [
    ("x", lambda g: g["x"].astype(np.float32), TypeError, "x has dtype float32 but weight_ih"),
    ("x", lambda g: g["x"].astype(np.int64), TypeError, "x has dtype int64; expected float32"),
    ("x", lambda g: torch.as_tensor(g["x"]), TypeError, "x must be a NumPy array; got Tensor"),
    ("x", lambda g: g["x"][0], ValueError, "expected a 3-D array"),
    ("x", lambda g: g["x"][:, :, :1], ValueError, "x has 1 features"),
    ("x", lambda g: g["x"][:, :0], ValueError, "every dimension must be at least 1"),
    ("lengths", lambda g: np.array([3.0, 2.0]), TypeError, "lengths has dtype float64"),
    ("lengths", lambda g: np.array([3, 2, 1]), ValueError, r"lengths has shape \(3,\)"),
    ("lengths", lambda g: np.array([4, 2]), ValueError, "between 1 and the number of time steps 3"),
    ("lengths", lambda g: np.array([3, 0]), ValueError, "got 0"),
    ("params", lambda g: g["params"][:2], TypeError, "params must be a tuple of 3 arrays"),
    ("params", lambda g: g["params"][0], TypeError, "params must be a tuple of 3 arrays"),
    (
        "params",
        lambda g: (g["params"][0], g["params"][1].astype(np.float32), g["params"][2]),
        TypeError,
        "weight_hh has dtype float32 but weight_ih has dtype float64",
    ),
    (
        "params",
        lambda g: (g["params"][0], g["params"][1][:2], g["params"][2]),
        ValueError,
        r"weight_hh has shape \(2,\); expected \(3,\)",
    ),
    (
        "params",
        lambda g: (g["params"][0].ravel(), g["params"][1], g["params"][2]),
        ValueError,
        "weight_ih has shape",
    ),
    ("state", lambda g: g["state"][0], TypeError, "Wrap a single array as"),
    ("state", lambda g: g["state"] * 2, ValueError, "state has 2 arrays"),
    ("state", lambda g: (g["state"][0][:1],), ValueError, r"state\[0\] has shape \(1, 3\)"),
    ("state", lambda g: (g["state"][0].astype(np.float32),), TypeError, r"state\[0\] has dtype"),
]


@pytest.mark.parametrize("field, make_bad, error, match", BAD_FORWARD)
def test_bad_forward_input(field, make_bad, error, match):
    """Wrong types, dtypes, shapes and lengths raise a clear error (no numba typing error)."""
    args = _good()
    args[field] = make_bad(args)
    with pytest.raises(error, match=match):
        kernels_for("tanh").forward(args["x"], args["lengths"], args["params"], args["state"], True)


def test_bad_backward_and_step_input():
    """backward checks saved and the gradients; step checks x_t, state and params."""
    args = _good()
    k = kernels_for("tanh")
    outputs, _, saved = k.forward(args["x"], args["lengths"], args["params"], args["state"], True)
    with pytest.raises(TypeError, match="saved must be the third value"):
        k.backward(None, outputs, None)
    with pytest.raises(ValueError, match="from the 'tanh' kernels"):
        kernels_for("relu").backward(saved, outputs, None)
    with pytest.raises(ValueError, match="grad_outputs has shape"):
        k.backward(saved, outputs[:, :1], None)
    with pytest.raises(TypeError, match="grad_outputs has dtype float32"):
        k.backward(saved, outputs.astype(np.float32), None)
    with pytest.raises(ValueError, match=r"grad_final_state\[0\] has shape"):
        k.backward(saved, outputs, (np.zeros((1, 3)),))
    with pytest.raises(ValueError, match="expected a 2-D array"):
        k.step(args["x"], args["state"], args["params"])
    with pytest.raises(ValueError, match=r"state\[0\] has shape \(2, 3\); expected \(1, 3\)"):
        k.step(args["x"][:1, 0], args["state"], args["params"])
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        DirectKernels("sigmoid")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_within_a_few_ulp(dtype):
    """The kernels' tanh is within 4 ulp of tanh, tiny to huge arguments; NaN and inf behave."""
    from numba import njit

    from sklearn_rnn_feedback import _kernels

    @njit
    def tanh_all(a, out):
        for i in range(a.shape[0]):
            out[i] = _kernels._tanh(a[i])

    finfo = np.finfo(dtype)
    grid = np.concatenate(
        [
            np.linspace(-25, 25, 200001),
            np.geomspace(float(finfo.tiny), 30, 20000),
            -np.geomspace(float(finfo.tiny), 30, 20000),
            [0.0, 0.125, -0.125, np.nextafter(0.125, 0)],
        ]
    ).astype(dtype)
    out = np.empty_like(grid)
    tanh_all(grid, out)
    want = np.tanh(grid.astype(np.longdouble))
    assert out.dtype == dtype
    assert np.all(np.abs(out - want) <= 4 * finfo.eps * np.maximum(np.abs(want), finfo.tiny))
    special = np.array([np.nan, np.inf, -np.inf, -0.0], dtype)
    tanh_all(special, out[:4])
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == -1 and out[3] == 0


def test_kernels_pickle_to_the_shared_instances():
    """The kernels objects pickle (as references to the shared instances)."""
    import pickle

    for name in ("tanh", "relu"):
        assert pickle.loads(pickle.dumps(kernels_for(name))) is kernels_for(name)


def test_importing_the_cells_does_not_import_numba():
    """numba is imported by the first kernel call, not by the cells or their numba_kernels."""
    code = textwrap.dedent(
        """
        import sys
        from sklearn_rnn_feedback.cells import DirectFeedbackCell
        kernels = DirectFeedbackCell(2, 3).numba_kernels
        assert "numba" not in sys.modules, "cells imported numba"
        import numpy as np
        kernels.step(np.zeros((1, 2), np.float32), None, tuple(
            p.detach().numpy() for p in DirectFeedbackCell(2, 3).parameters()))
        assert "numba" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
