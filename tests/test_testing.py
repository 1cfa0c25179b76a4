"""The conformance kit (sklearn_rnn.testing): built-in cells pass, broken cells are caught.

Each broken cell below breaks one rule of docs/cell_protocol.md; the kit
must fail it in the check for that rule, with a message that names the rule.
``DiagonalCell`` implements the richer interface (``numba_kernels``) in plain
NumPy, which the protocol allows, so that a kernel with a wrong backward can
be caught without compiling anything.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_rnn.testing import (
    CellCheckError,
    cell_checks,
    check_cell,
    check_numba_kernels,
    parametrize_with_cell_checks,
)


class Elman(nn.Module):
    """A correct cell: Elman with tanh."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.linear = nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x_t, state):
        h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))  # (B, H)
        return h_t, h_t


# --- broken cells: one rule each ---------------------------------------------


class WrongSignature(Elman):
    def __init__(self, hidden_size):
        super().__init__(1, hidden_size)


class NoParameters(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size

    def forward(self, x_t, state):
        return state, state


class WrongDtypeInitState(Elman):
    def init_state(self, batch_size, device, dtype):
        return torch.zeros(batch_size, self.linear.out_features, device=device)  # float32 always


class WrongOutputShape(Elman):
    def forward(self, x_t, state):
        h_t, _ = super().forward(x_t, state)
        return torch.cat([h_t, h_t], dim=1), h_t  # (B, 2H)


class ReturnsOnlyOutput(Elman):
    def forward(self, x_t, state):
        return super().forward(x_t, state)[0]


class InPlaceState(Elman):
    def forward(self, x_t, state):
        h_t, _ = super().forward(x_t, state)
        state.mul_(0.5).add_(h_t)  # writes into the state the host keeps
        return state, state


class BatchStatistics(Elman):
    def forward(self, x_t, state):
        h_t, _ = super().forward(x_t, state)
        h_t = h_t - h_t.mean(dim=0, keepdim=True)  # mixes the rows
        return h_t, h_t


class AlwaysDropout(Elman):
    def forward(self, x_t, state):
        h_t, _ = super().forward(x_t, state)
        h_t = F.dropout(h_t, 0.5, training=True)  # ignores eval()
        return h_t, h_t


class _WrongTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y)  # should be 1 - y**2


class WrongGradient(Elman):
    def forward(self, x_t, state):
        h_t = _WrongTanh.apply(self.linear(torch.cat([x_t, state], dim=1)))
        return h_t, h_t


class UnusedParameter(Elman):
    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        self.gate = nn.Parameter(torch.zeros(hidden_size))


class Unpicklable(Elman):
    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        self.activation = lambda v: torch.tanh(v)

    def forward(self, x_t, state):
        h_t = self.activation(self.linear(torch.cat([x_t, state], dim=1)))
        return h_t, h_t


class PlainTensorWeight(Elman):
    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        self.scale = torch.rand(hidden_size) + 0.5  # not a parameter or buffer: lost by state_dict

    def forward(self, x_t, state):
        h_t, _ = super().forward(x_t, state)
        h_t = h_t * self.scale.to(h_t.dtype)
        return h_t, h_t


class UnmaskedFused(Elman):
    def forward_sequence(self, x, lengths, state):
        outputs = []
        for t in range(x.shape[1]):  # ignores lengths: runs over the padding
            h_t, state = self(x[:, t], state)
            outputs.append(h_t)
        return torch.stack(outputs, dim=1), state


# --- a cell with NumPy "kernels" (the richer interface) ------------------------


class DiagonalKernels:
    """``h_t = tanh(W x_t + u * h_{t-1} + b)`` over padded batches, in NumPy."""

    gradient_scale = 1.0  # a broken subclass changes it

    @staticmethod
    def _step(x_t, h, params):
        weight, recurrent, bias = params
        return np.tanh(x_t @ weight.T + recurrent * h + bias)

    @classmethod
    def forward(cls, x, lengths, params, state, save):
        (h,) = state
        h = h.copy()
        outputs = np.zeros(x.shape[:2] + (h.shape[1],), dtype=x.dtype)  # (B, T, H)
        history = []
        for t in range(x.shape[1]):
            active = (lengths > t)[:, None]  # (B, 1)
            history.append(h)
            new = cls._step(x[:, t], h, params)
            h = np.where(active, new, h)
            outputs[:, t] = np.where(active, new, 0.0)
        saved = (x, lengths, params, history) if save else None
        return outputs, (h,), saved

    @classmethod
    def backward(cls, saved, grad_outputs, grad_final_state):
        x, lengths, params, history = saved
        weight, recurrent, bias = params
        grad_h = grad_final_state[0]
        grad_h = np.zeros_like(history[0]) if grad_h is None else grad_h.copy()
        grads = [np.zeros_like(p) for p in params]
        grad_x = np.zeros_like(x)
        for t in reversed(range(x.shape[1])):
            active = (lengths > t)[:, None]
            h_prev = history[t]
            new = cls._step(x[:, t], h_prev, params)
            grad_pre = np.where(active, (grad_outputs[:, t] + grad_h) * (1 - new**2), 0.0)
            grad_pre *= cls.gradient_scale
            grads[0] += grad_pre.T @ x[:, t]
            grads[1] += (grad_pre * h_prev).sum(axis=0)
            grads[2] += grad_pre.sum(axis=0)
            grad_x[:, t] = grad_pre @ weight
            grad_h = np.where(active, grad_pre * recurrent, grad_h)
        return grad_x, tuple(grads), (grad_h,)

    @classmethod
    def step(cls, x_t, state, params):
        h = cls._step(x_t, state[0], params)
        return h, (h,)


class DiagonalCell(nn.Module):
    """``h_t = tanh(W x_t + u * h_{t-1} + b)`` with NumPy kernels."""

    numba_kernels = DiagonalKernels

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(hidden_size, input_size) * 0.5)
        self.recurrent = nn.Parameter(torch.rand(hidden_size))
        self.bias = nn.Parameter(torch.randn(hidden_size) * 0.1)

    def forward(self, x_t, state):
        h_t = torch.tanh(F.linear(x_t, self.weight, self.bias) + self.recurrent * state)
        return h_t, h_t


class WrongKernelGradients(DiagonalKernels):
    gradient_scale = 1.5


class WrongKernelBackward(DiagonalCell):
    numba_kernels = WrongKernelGradients


class WrongKernelStep(DiagonalKernels):
    @classmethod
    def step(cls, x_t, state, params):
        return state[0], state  # does not advance


class WrongStepCell(DiagonalCell):
    numba_kernels = WrongKernelStep


BROKEN = [
    # (cell, the check that must fail, words of the rule in the message)
    (WrongSignature, "check_construction", "input_size, hidden_size"),
    (NoParameters, "check_construction", "nn.Parameter"),
    (WrongDtypeInitState, "check_init_state", "device and dtype it is given"),
    (WrongOutputShape, "check_step_shapes", "h_t of shape (batch, hidden_size)"),
    (ReturnsOnlyOutput, "check_step_shapes", "must return a pair (h_t, new_state)"),
    (InPlaceState, "check_state_not_modified", "does not modify state in place"),
    (BatchStatistics, "check_rows_independent", "computed from that row alone"),
    (AlwaysDropout, "check_deterministic", "self.training"),
    (WrongGradient, "check_gradients", "finite differences"),
    (UnusedParameter, "check_gradients", "no gradient reaches gate"),
    (Unpicklable, "check_pickle", "can be pickled"),
    (PlainTensorWeight, "check_pickle", "load_state_dict into a new cell"),
    (UnmaskedFused, "check_forward_sequence", "zeros at padded steps"),
    (WrongKernelBackward, "check_numba_kernels", "gradients of numba_kernels"),
    (WrongStepCell, "check_numba_kernels", "numba_kernels.step equals forward"),
]


@pytest.mark.parametrize(
    "cell_cls, failing_check, words", BROKEN, ids=[cls.__name__ for cls, *_ in BROKEN]
)
def test_broken_cell_is_caught_by_its_check(cell_cls, failing_check, words):
    """check_cell fails exactly at the check of the broken rule, and says what to fix."""
    passed = []
    for check in cell_checks(cell_cls):
        if check.__name__ == failing_check:
            with pytest.raises(CellCheckError) as excinfo:
                check(cell_cls)
            message = str(excinfo.value)
            assert message.startswith(cell_cls.__qualname__ + ":")
            assert words in message
            assert "Fix:" in message or "raised" in message
            break
        check(cell_cls)  # the rules before it hold for this cell
        passed.append(check.__name__)
    else:
        pytest.fail(f"{failing_check} is not among the checks of {cell_cls.__name__}: {passed}")
    with pytest.raises(CellCheckError, match=failing_check if "raised" in message else None):
        check_cell(cell_cls)


def test_correct_cells_pass():
    check_cell(Elman)
    check_cell(DiagonalCell)  # the NumPy kernels agree with autograd, step by step


def test_kernel_check_only_for_cells_with_kernels():
    names = [check.__name__ for check in cell_checks(Elman)]
    assert "check_numba_kernels" not in names and "check_forward_sequence" not in names
    names = [check.__name__ for check in cell_checks(UnmaskedFused)]
    assert "check_forward_sequence" in names
    assert "check_numba_kernels" in [c.__name__ for c in cell_checks(DiagonalCell)]
    assert names[-1] == "check_in_estimator"


def test_crash_inside_a_check_is_reported_with_the_check_name():
    class Crashes(Elman):
        def init_state(self, batch_size, device, dtype):
            raise RuntimeError("boom")

    with pytest.raises(CellCheckError, match=r"Crashes: check_init_state raised RuntimeError: boom"):
        check_cell(Crashes)


def test_names_resolve_through_the_registry():
    assert [c.__name__ for c in cell_checks("rnn")] == [c.__name__ for c in cell_checks(
        __import__("sklearn_rnn").get_cell("rnn"))]
    with pytest.raises(ValueError, match="Unknown cell"):
        check_cell("no-such-cell")


def test_kernel_check_is_callable_alone():
    check_numba_kernels(DiagonalCell)
    with pytest.raises(CellCheckError):
        check_numba_kernels(WrongKernelBackward)


@parametrize_with_cell_checks(["rnn", "lstm", "gru"])
def test_builtin_cells_pass(cell_cls, check):
    check(cell_cls)
