"""The numba kernels equal torch's recurrent layers, a NumPy reference and finite differences."""

import os
import subprocess
import sys
import textwrap
from typing import NamedTuple

import naive  # tests/naive.py, plain NumPy references (pytest puts tests/ on sys.path)
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sklearn_rnn._numba import cells, config, kernels, runtime

CELLS = ["rnn", "lstm", "gru"]
LAYERS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Problem(NamedTuple):
    """A padded batch, weights, initial state and output gradients, all float64."""

    cell: str
    x: np.ndarray  # (B, T, F), random values at padded steps
    lengths: np.ndarray  # (B,)
    weights: list  # weight_ih, weight_hh, bias_ih, bias_hh
    state: tuple  # (B, H) each
    grad_output: np.ndarray  # (B, T, H)
    grad_state: tuple  # (B, H) each

    def astype(self, dtype):
        def cast(arrays):
            return type(arrays)(a.astype(dtype) for a in arrays)

        return self._replace(
            x=self.x.astype(dtype),
            weights=cast(self.weights),
            state=cast(self.state),
            grad_output=self.grad_output.astype(dtype),
            grad_state=cast(self.grad_state),
        )


def make_problem(cell, lengths, n_features, hidden, seed, scale=1.0, extra_steps=0):
    """Weights uniform in +-scale/sqrt(H) (torch's initialisation at scale 1)."""
    rng = np.random.default_rng(seed)
    rows = naive.N_GATES[cell] * hidden
    lengths = np.asarray(lengths, dtype=np.int64)
    n_seq, n_steps = len(lengths), int(lengths.max()) + extra_steps
    bound = scale / np.sqrt(hidden)
    weights = [
        rng.uniform(-bound, bound, size=s)
        for s in [(rows, n_features), (rows, hidden), (rows,), (rows,)]
    ]
    n_states = len(cells.state_names(cell))
    return Problem(
        cell=cell,
        x=rng.normal(size=(n_seq, n_steps, n_features)),
        lengths=lengths,
        weights=weights,
        state=tuple(rng.normal(scale=0.5, size=(n_seq, hidden)) for _ in range(n_states)),
        grad_output=rng.normal(size=(n_seq, n_steps, hidden)),
        grad_state=tuple(rng.normal(size=(n_seq, hidden)) for _ in range(n_states)),
    )


@st.composite
def problems(draw, max_batch=6, max_length=15):
    """The issue's ranges: batch 1-6, ragged lengths 1-15, input 1-5, hidden 1-8."""
    return make_problem(
        cell=draw(st.sampled_from(CELLS)),
        lengths=draw(st.lists(st.integers(1, max_length), min_size=1, max_size=max_batch)),
        n_features=draw(st.integers(1, 5)),
        hidden=draw(st.integers(1, 8)),
        seed=draw(st.integers(0, 2**32 - 1)),
        scale=draw(st.sampled_from([0.1, 1.0, 4.0])),  # near-linear to saturated gates
        extra_steps=draw(st.integers(0, 3)),
    )


def run_numba(problem):
    """Forward and backward through the wrapper."""
    result = cells.forward(problem.cell, problem.x, problem.lengths, problem.weights, problem.state)
    grads = cells.backward(result.saved, problem.grad_output, problem.grad_state)
    return result, grads


def run_torch(problem):
    """The same through torch.nn.RNN/LSTM/GRU on packed sequences, float64 autograd."""
    cell, x = problem.cell, problem.x
    _, n_steps, n_features = x.shape
    hidden = problem.weights[1].shape[1]
    layer = LAYERS[cell](n_features, hidden, batch_first=True).double()
    with torch.no_grad():
        for name, w in zip(cells.Weights._fields, problem.weights):
            getattr(layer, f"{name}_l0").copy_(torch.from_numpy(w))
    xt = torch.tensor(x, requires_grad=True)
    state = [torch.tensor(s[None], requires_grad=True) for s in problem.state]  # (1, B, H)
    packed = pack_padded_sequence(
        xt, torch.from_numpy(problem.lengths), batch_first=True, enforce_sorted=False
    )
    out, final = layer(packed, tuple(state) if cell == "lstm" else state[0])
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=n_steps)  # zero padded
    final = final if cell == "lstm" else (final,)
    loss = (out * torch.from_numpy(problem.grad_output)).sum()
    loss = loss + sum((f[0] * torch.from_numpy(g)).sum() for f, g in zip(final, problem.grad_state))
    loss.backward()
    grads = {
        "x": xt.grad.numpy(),
        "state": tuple(s.grad[0].numpy() for s in state),
        **{name: getattr(layer, f"{name}_l0").grad.numpy() for name in cells.Weights._fields},
    }
    return out.detach().numpy(), tuple(f[0].detach().numpy() for f in final), grads


def assert_close(actual, desired, rtol, atol=0.0, what=""):
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=what)


def assert_grads_close(grads, reference, rtol, atol):
    """``grads``: a Gradients; ``reference``: a dict with the same names."""
    for name in ("x",) + cells.Weights._fields:
        assert_close(getattr(grads, name), reference[name], rtol, atol, f"gradient of {name}")
    for ours, theirs in zip(grads.state, reference["state"], strict=True):
        assert_close(ours, theirs, rtol, atol, "gradient of the initial state")


# --------------------------------------------------------------------------
# Agreement with torch, the NumPy reference and finite differences


@settings(max_examples=40, deadline=None)
@given(problem=problems())
def test_forward_matches_torch_and_naive(problem):
    """Outputs and final states equal torch's packed layer and tests/naive.py (1e-10)."""
    result = cells.forward(problem.cell, problem.x, problem.lengths, problem.weights, problem.state)
    out, final, _ = run_torch(problem)
    assert_close(result.output, out, rtol=1e-10, atol=1e-13, what="output vs torch")
    for ours, theirs in zip(result.state, final, strict=True):
        assert_close(ours, theirs, rtol=1e-10, atol=1e-13, what="final state vs torch")
    out, final = naive.forward(
        problem.cell, problem.x, problem.lengths, problem.weights, problem.state
    )
    assert_close(result.output, out, rtol=1e-10, atol=1e-13, what="output vs naive")
    for ours, theirs in zip(result.state, final, strict=True):
        assert_close(ours, theirs, rtol=1e-10, atol=1e-13, what="final state vs naive")


@settings(max_examples=40, deadline=None)
@given(problem=problems())
def test_backward_matches_torch_autograd(problem):
    """BPTT gradients w.r.t. every weight, the input and the initial state equal autograd's."""
    _, grads = run_numba(problem)
    _, _, reference = run_torch(problem)
    assert_grads_close(grads, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_backward_matches_central_differences(cell):
    """The gradients are those of the forward pass: central differences agree to 1e-5."""
    problem = make_problem(cell, [3, 1, 2], n_features=2, hidden=3, seed=7, scale=2.0)

    def loss():
        result = cells.forward(cell, problem.x, problem.lengths, problem.weights, problem.state)
        return np.sum(result.output * problem.grad_output) + sum(
            np.sum(s * g) for s, g in zip(result.state, problem.grad_state)
        )

    _, grads = run_numba(problem)
    numeric = {
        name: naive.central_differences(loss, w)
        for name, w in zip(cells.Weights._fields, problem.weights)
    }
    numeric["x"] = naive.central_differences(loss, problem.x)
    numeric["state"] = tuple(naive.central_differences(loss, s) for s in problem.state)
    assert_grads_close(grads, numeric, rtol=1e-5, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(problem=problems(), extra=st.integers(1, 4), data=st.data())
def test_padding_length_and_values_do_not_matter(problem, extra, data):
    """More padding, filled with anything (even NaN), changes no output and no gradient."""
    fill = data.draw(st.sampled_from([np.nan, np.inf, 1e30, -3.0]))
    result, grads = run_numba(problem)
    n_seq, n_steps, n_features = problem.x.shape
    padded = np.full((n_seq, n_steps + extra, n_features), fill)
    grad_output = np.full((n_seq, n_steps + extra, result.output.shape[2]), fill)
    for b, length in enumerate(problem.lengths):
        padded[b, :length] = problem.x[b, :length]
        grad_output[b, :length] = problem.grad_output[b, :length]
    other = problem._replace(x=padded, grad_output=grad_output)
    result2, grads2 = run_numba(other)
    assert_close(result2.output[:, :n_steps], result.output, rtol=1e-12, atol=1e-15)
    assert not result2.output[:, n_steps:].any()
    for ours, theirs in zip(result2.state, result.state):
        assert_close(ours, theirs, rtol=1e-12, atol=1e-15)
    real = np.arange(n_steps) < problem.lengths[:, None]  # (B, T)
    assert not grads.x[~real].any() and not grads2.x[:, n_steps:].any()
    grads2 = grads2._replace(x=grads2.x[:, :n_steps])
    assert_grads_close(grads2, grads._asdict(), rtol=1e-10, atol=1e-13)


@settings(max_examples=15, deadline=None)
@given(problem=problems(max_batch=4))
def test_each_sequence_alone_equals_its_row_in_the_batch(problem):
    """Outputs, final state and input gradients do not depend on the other sequences."""
    result, grads = run_numba(problem)
    for b, length in enumerate(problem.lengths):
        alone = problem._replace(
            x=problem.x[b : b + 1, :length],
            lengths=problem.lengths[b : b + 1],
            state=tuple(s[b : b + 1] for s in problem.state),
            grad_output=problem.grad_output[b : b + 1, :length],
            grad_state=tuple(g[b : b + 1] for g in problem.grad_state),
        )
        result1, grads1 = run_numba(alone)
        assert_close(result1.output[0], result.output[b, :length], rtol=1e-11, atol=1e-14)
        assert_close(grads1.x[0], grads.x[b, :length], rtol=1e-10, atol=1e-13)
        for ours, theirs in zip(grads1.state, grads.state):
            assert_close(ours[0], theirs[b], rtol=1e-10, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(problem=problems())
def test_float32_agrees_with_float64(problem):
    """float32 in, float32 out, computed in float32 to float32 precision."""
    result64, grads64 = run_numba(problem)
    result32, grads32 = run_numba(problem.astype(np.float32))
    pairs = [(result32.output, result64.output), (grads32.x, grads64.x)]
    pairs += list(zip(result32.state, result64.state)) + list(zip(grads32.state, grads64.state))
    pairs += [(getattr(grads32, n), getattr(grads64, n)) for n in cells.Weights._fields]
    for ours, reference in pairs:
        assert ours.dtype == np.float32
        # Measured worst case over 300 random problems: 2.4e-6 of max(1, |reference|).
        assert_close(ours, reference, rtol=0, atol=2e-5 * max(1.0, np.abs(reference).max()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_streams", [1, 3])
@pytest.mark.parametrize("cell", CELLS)
def test_step_by_step_equals_forward(cell, n_streams, dtype):
    """step() over a sequence gives forward()'s outputs and final state, and keeps its input."""
    problem = make_problem(cell, [9] * n_streams, n_features=3, hidden=5, seed=1).astype(dtype)
    result = cells.forward(cell, problem.x, None, problem.weights, problem.state)
    weights = cells.prepare_weights(cell, problem.weights)
    state = problem.state
    for t in range(problem.x.shape[1]):
        before = [s.copy() for s in state]
        h_t, new_state = cells.step(cell, problem.x[:, t], state, weights)
        for s, b in zip(state, before):
            np.testing.assert_array_equal(s, b)
        assert h_t is new_state[0] and h_t.dtype == dtype
        tolerance = 1e-5 if dtype == np.float32 else 1e-12
        assert_close(h_t, result.output[:, t], rtol=tolerance, atol=tolerance)
        state = new_state
    for ours, theirs in zip(state, result.state):
        assert_close(ours, theirs, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("cell", CELLS)
def test_defaults_and_prediction_mode(cell):
    """lengths=None means all steps, state=None zeros, and save=False changes no output."""
    problem = make_problem(cell, [4, 4], n_features=2, hidden=3, seed=2)
    zeros = tuple(np.zeros_like(s) for s in problem.state)
    full = cells.forward(cell, problem.x, [4, 4], problem.weights, zeros)
    default = cells.forward(cell, problem.x, None, problem.weights)
    light = cells.forward(cell, problem.x, None, problem.weights, save=False)
    assert light.saved is None
    for result in (default, light):
        np.testing.assert_array_equal(result.output, full.output)
        for ours, theirs in zip(result.state, full.state):
            np.testing.assert_array_equal(ours, theirs)
    grads = cells.backward(full.saved)  # no gradient in: all zero
    assert not any(np.any(g) for g in (grads.x, *grads.state, grads.weight_hh, grads.bias_hh))


# --------------------------------------------------------------------------
# Validation in the wrapper


def _bad_calls():
    """(description, call, exception, message pattern) for wrong arguments."""
    rng = np.random.default_rng(0)
    w = [rng.normal(size=s) for s in [(16, 3), (16, 4), (16,), (16,)]]  # lstm, H=4, F=3
    x = rng.normal(size=(2, 5, 3))
    ok = cells.forward("lstm", x, None, w)
    w32 = [a.astype(np.float32) for a in w]
    return [
        ("unknown cell", lambda: cells.forward("elman", x, None, w), ValueError, "Unknown cell"),
        ("2-D x", lambda: cells.forward("lstm", x[0], None, w), ValueError, "3-D array"),
        ("no sequence", lambda: cells.forward("lstm", x[:0], None, w), ValueError, "at least 1"),
        (
            "wrong features",
            lambda: cells.forward("lstm", x[:, :, :2], None, w),
            ValueError,
            "input_size=3",
        ),
        (
            "integer x",
            lambda: cells.forward("lstm", x.astype(int), None, w),
            TypeError,
            "float32 or float64",
        ),
        (
            "mixed dtypes",
            lambda: cells.forward("lstm", x.astype(np.float32), None, w),
            TypeError,
            "one dtype",
        ),
        (
            "mixed weights",
            lambda: cells.forward("lstm", x, None, [w32[0]] + w[1:]),
            TypeError,
            "one dtype",
        ),
        ("wrong gate count", lambda: cells.forward("gru", x, None, w), ValueError, "weight_hh"),
        (
            "bias shape",
            lambda: cells.forward("lstm", x, None, w[:3] + [w[3][:4]]),
            ValueError,
            "bias_hh",
        ),
        ("3 weights", lambda: cells.forward("lstm", x, None, w[:3]), TypeError, "4 arrays"),
        ("length 0", lambda: cells.forward("lstm", x, [0, 5], w), ValueError, "between 1"),
        ("length > T", lambda: cells.forward("lstm", x, [6, 5], w), ValueError, "between 1"),
        ("float lengths", lambda: cells.forward("lstm", x, [5.0, 5.0], w), TypeError, "integers"),
        ("lengths shape", lambda: cells.forward("lstm", x, [5], w), ValueError, r"\(2,\)"),
        (
            "one state array",
            lambda: cells.forward("lstm", x, None, w, (np.zeros((2, 4)),)),
            ValueError,
            r"\(h, c\)",
        ),
        (
            "state shape",
            lambda: cells.forward("lstm", x, None, w, (np.zeros((2, 3)),) * 2),
            ValueError,
            "state h",
        ),
        (
            "state array",
            lambda: cells.forward("lstm", x, None, w, np.zeros((2, 4))),
            TypeError,
            "tuple",
        ),
        (
            "grad shape",
            lambda: cells.backward(ok.saved, np.zeros((2, 4, 4))),
            ValueError,
            "grad_output",
        ),
        (
            "grad dtype",
            lambda: cells.backward(ok.saved, ok.output.astype(np.float32)),
            TypeError,
            "grad_output",
        ),
        ("not saved", lambda: cells.backward(ok), TypeError, "Saved"),
        (
            "step features",
            lambda: cells.step("lstm", x[:, 0, :2], None, w),
            ValueError,
            "input_size",
        ),
        ("step 1-D", lambda: cells.step("lstm", x[0, 0], None, w), ValueError, "2-D"),
        (
            "step dtype",
            lambda: cells.step("lstm", x[:, 0].astype(np.float32), None, w),
            TypeError,
            "one dtype",
        ),
        (
            "step state",
            lambda: cells.step("lstm", x[:, 0], (np.zeros((3, 4)),) * 2, w),
            ValueError,
            "state h",
        ),
        (
            "prepared for another cell",
            lambda: cells.step("gru", x[:, 0], None, cells.prepare_weights("lstm", w)),
            ValueError,
            "prepared for cell 'lstm'",
        ),
    ]


@pytest.mark.parametrize("case", _bad_calls(), ids=lambda case: case[0])
def test_wrapper_rejects_bad_arguments_before_any_kernel(case):
    """Wrong shapes, dtypes or lengths raise ValueError/TypeError naming the problem."""
    _, call, exception, pattern = case
    with pytest.raises(exception, match=pattern):
        call()


def test_wrapper_accepts_non_contiguous_arrays():
    """Views in any layout are copied to contiguous arrays, with the same results."""
    problem = make_problem("gru", [4, 2, 3], n_features=3, hidden=4, seed=3)
    expected = cells.forward("gru", problem.x, problem.lengths, problem.weights, problem.state)
    x = np.asfortranarray(problem.x)
    weights = [np.asfortranarray(w) for w in problem.weights]
    state = (np.asfortranarray(problem.state[0]),)
    result = cells.forward("gru", x, problem.lengths, weights, state)
    np.testing.assert_array_equal(result.output, expected.output)


# --------------------------------------------------------------------------
# Runtime: compiler options, threads, denormals


def test_compiler_options():
    """Cached, fast-math without nnan/ninf, numpy error model, never parallel."""
    assert config.JIT_OPTIONS["cache"] is True
    assert config.JIT_OPTIONS["error_model"] == "numpy"
    assert not {"nnan", "ninf", "fast"} & set(config.FASTMATH)
    assert "parallel" not in config.JIT_OPTIONS


def test_runtime_restores_blas_threads_and_floating_point_mode():
    """Inside: one BLAS thread (and FTZ/DAZ on x86); after: the caller's settings again."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    before = blas_threads()
    with runtime.kernel_runtime():
        assert set(blas_threads()) == {1}
        if runtime.flushes_denormals():
            assert np.float32(1e-38) * np.float32(1e-3) == 0
    assert blas_threads() == before
    assert np.float32(1e-38) * np.float32(1e-3) != 0  # denormals are back


@pytest.mark.skipif(not runtime.flushes_denormals(), reason="denormals are flushed on x86 only")
def test_backward_produces_no_denormals():
    """Gradients decaying over 300 steps become 0 instead of slow denormal floats."""
    problem = make_problem("lstm", [300, 250], n_features=2, hidden=4, seed=0).astype(np.float32)
    result = cells.forward("lstm", problem.x, problem.lengths, problem.weights)
    grads = cells.backward(result.saved, None, (np.ones((2, 4), np.float32), None))
    tiny = np.finfo(np.float32).tiny
    assert (grads.x[0, :50] == 0).any()  # the gradient did decay below float32's range
    assert not ((grads.x != 0) & (np.abs(grads.x) < tiny)).any()


def test_kernels_leave_torch_threads_alone():
    """After the kernels ran (BLAS paths included), torch's and OpenMP's threads are unchanged.

    In a fresh process: a parallel numba kernel on numba's default threading
    layer once changed torch's OpenMP threads and made nn.LSTM 4000x slower.
    """
    code = textwrap.dedent(
        """
        import numpy as np, torch
        from threadpoolctl import threadpool_info
        torch.set_num_threads(1)
        layer = torch.nn.LSTM(3, 4, batch_first=True)
        layer(torch.randn(2, 5, 3))
        def openmp():  # thread counts of the OpenMP runtimes loaded so far (torch's)
            return {i["filepath"]: i["num_threads"] for i in threadpool_info()
                    if i["user_api"] == "openmp"}
        before = (torch.get_num_threads(), openmp())
        from sklearn_rnn._numba import cells
        rng = np.random.default_rng(0)
        for cell in ("rnn", "lstm", "gru"):
            g = cells.n_gates(cell)
            w = [rng.normal(size=s).astype(np.float32) for s in [(g * 4, 3), (g * 4, 4), (g * 4,), (g * 4,)]]
            x = rng.normal(size=(3, 6, 3)).astype(np.float32)
            r = cells.forward(cell, x, [6, 2, 4], w)
            cells.backward(r.saved, np.ones_like(r.output))
            cells.step(cell, x[:, 0], None, w)
            cells.step(cell, x[:1, 0], None, w)
        layer(torch.randn(2, 5, 3))
        after = (torch.get_num_threads(), {k: v for k, v in openmp().items() if k in before[1]})
        assert after == before, (before, after)
        print(before, after)
        """
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def test_kernels_module_is_the_only_one_jitting():
    """All jitted code lives in kernels.py: numba's cache only watches the file it loads from."""
    import numba

    for name in ("cells", "config", "runtime"):
        module = sys.modules[f"sklearn_rnn._numba.{name}"]
        assert not any(
            isinstance(v, numba.core.registry.CPUDispatcher) for v in vars(module).values()
        )
    if not numba.config.DISABLE_JIT:
        assert isinstance(kernels.lstm_forward, numba.core.registry.CPUDispatcher)
