r"""Recurrent cells for the three kinds of feedback an Elman cell does not have.

The literature on recurrent networks (e.g. Kriesel 2007, ch. 3) tells
feedback connections apart by where a neuron's output goes back in:

* **direct**: into the neuron itself only (a diagonal recurrent matrix);
* **lateral**: into neurons of its own layer (a full matrix within the
  layer: the Elman cell, built into sklearn-rnn as ``"rnn"``);
* **indirect**: into neurons of an earlier layer (Jordan networks feed the
  output back towards the input);
* **full**: from every neuron into every neuron.

This module holds a cell for each kind sklearn-rnn lacks:
:class:`DirectFeedbackCell`, :class:`IndirectFeedbackCell` and
:class:`FullFeedbackCell`. They follow sklearn-rnn's cell protocol
(``docs/cell_protocol.md``) and are registered as the cells ``"direct"``,
``"indirect"`` and ``"full"`` through the ``sklearn_rnn.cells`` entry-point
group. Importing this module imports torch, not numba.

References
----------
.. [1] D. Kriesel, "A Brief Introduction to Neural Networks", 2007, chapter 3
   (direct, indirect and lateral recurrences; completely linked networks).
.. [2] M. I. Jordan, "Serial order: a parallel distributed processing
   approach", ICS Report 8604, University of California, San Diego, 1986.
.. [3] S. Li, W. Li, C. Cook, C. Zhu and Y. Gao, "Independently Recurrent
   Neural Network (IndRNN): Building a longer and deeper RNN", CVPR 2018,
   arXiv:1803.04831.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._direct_numba import NONLINEARITIES, kernels_for

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def _uniform_(parameters, low, high):
    with torch.no_grad():
        for p in parameters:
            p.uniform_(low, high)


class _NumbaKernels:
    """The ``numba_kernels`` class attribute of :class:`DirectFeedbackCell`.

    The kernels depend on the nonlinearity, a constructor argument: read
    through an instance, the attribute gives that instance's kernels; read
    through the class, those of the default nonlinearity ("tanh"). Neither
    imports numba: the kernels import it when they first run.
    """

    def __get__(self, cell, owner=None):
        return kernels_for("tanh" if cell is None else cell.nonlinearity)


class DirectFeedbackCell(nn.Module):
    r"""Direct feedback (IndRNN): each unit's previous output feeds back into itself only.

    An independently recurrent cell [1]_: the recurrent weights are a vector
    :math:`u`, one self-connection per unit, instead of the Elman cell's
    full matrix,

    .. math::

        h_t = \phi(W x_t + u \odot h_{t-1} + b),

    with :math:`\odot` the elementwise product and :math:`\phi` the
    nonlinearity. Units interact only through the layers above and below.
    The state is :math:`h_t` itself, a tensor of shape ``(batch, hidden_size)``,
    and so is the output.

    Parameters
    ----------
    input_size : int
        Number of input features :math:`F`.
    hidden_size : int
        Number of units :math:`H`.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        :math:`\phi`. IndRNN uses ReLU, which lets a unit with :math:`u = 1`
        keep its value indefinitely but leaves the state unbounded; tanh keeps
        every state in :math:`(-1, 1)` and, with :math:`|u| \le 1`, every
        step's gradient factor :math:`|u \, \phi'| \le 1`, which is safer
        without IndRNN's weight clipping (see Notes), hence the default.
    recurrent_max : float, default=1.0
        :math:`u` is initialised uniformly in ``[0, recurrent_max]``.

    Attributes
    ----------
    weight_ih : torch.nn.Parameter of shape (hidden_size, input_size)
        :math:`W`, initialised uniformly in :math:`\pm 1/\sqrt{H}` like torch's
        recurrent layers.
    weight_hh : torch.nn.Parameter of shape (hidden_size,)
        :math:`u`, initialised uniformly in ``[0, recurrent_max]``.
    bias : torch.nn.Parameter of shape (hidden_size,)
        :math:`b`, initialised uniformly in :math:`\pm 1/\sqrt{H}`.
    numba_kernels : DirectKernels
        The NumPy/numba forward, backward and step of this cell (protocol's
        richer interface), for its nonlinearity; read through the class, those
        of "tanh".
    description : str
        One line for ``available_cells()``.

    Notes
    -----
    **Initialisation of u.** A unit's memory lasts about
    :math:`1 / (1 - |u|)` steps and its gradient through :math:`k` steps scales
    like :math:`|u|^k`. IndRNN [1]_ therefore keeps :math:`|u|` within a
    bound during training, :math:`2^{1/T}` for ReLU over :math:`T` steps (a
    gradient may then grow at most 2-fold over the sequence), and its public
    implementations draw :math:`u` uniformly in :math:`[0, \text{bound}]`, or
    :math:`[0, 1]` without one (e.g. the TensorFlow ``IndRNNCell`` of
    batzner/indrnn). The default here, :math:`u \sim U(0, 1)`, follows them:
    every unit starts as a leaky integrator with its own time scale, none
    oscillates in sign, none explodes. For ReLU on sequences of length
    :math:`T`, pass ``recurrent_max=2 ** (1 / T)``.

    The cell does not clip :math:`u` during training as IndRNN does (the
    host's training loop has no hook for it); gradient clipping or a small
    learning rate keep :math:`|u|` near its initial range in practice.

    The numba kernels (``numba_kernels``) compute the same function, its
    gradients (hand-derived backpropagation through time) and single steps
    on NumPy arrays; they flush gradients smaller than the smallest normal
    float to zero.

    References
    ----------
    .. [1] S. Li, W. Li, C. Cook, C. Zhu and Y. Gao, "Independently Recurrent
       Neural Network (IndRNN): Building a longer and deeper RNN", CVPR 2018,
       arXiv:1803.04831.
    .. [2] D. Kriesel, "A Brief Introduction to Neural Networks", 2007,
       chapter 3 (direct recurrences).

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn_feedback.cells import DirectFeedbackCell
    >>> _ = torch.manual_seed(0)
    >>> cell = DirectFeedbackCell(3, 4)
    >>> [(name, tuple(p.shape)) for name, p in cell.named_parameters()]
    [('weight_ih', (4, 3)), ('weight_hh', (4,)), ('bias', (4,))]
    >>> x = torch.randn(2, 5, 3)  # (batch, time, features)
    >>> h = torch.zeros(2, 4)
    >>> for t in range(5):
    ...     out, h = cell(x[:, t], h)
    >>> out.shape, bool(torch.equal(out, h))
    (torch.Size([2, 4]), True)
    """

    description = "Direct feedback (IndRNN): h = act(W x + u * h_prev + b), u a vector"
    numba_kernels = _NumbaKernels()

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", recurrent_max=1.0):
        super().__init__()
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {', '.join(map(repr, NONLINEARITIES))}; "
                f"got {nonlinearity!r}."
            )
        if not recurrent_max > 0:
            raise ValueError(f"recurrent_max must be positive; got {recurrent_max!r}.")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        self.recurrent_max = recurrent_max
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight again (see the class docstring for the ranges)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        _uniform_([self.weight_ih, self.bias], -bound, bound)
        _uniform_([self.weight_hh], 0.0, self.recurrent_max)

    def forward(self, x_t, state):
        """One step: ``x_t`` (B, F), ``state`` (B, H) -> ``(h_t, h_t)``."""
        pre = F.linear(x_t, self.weight_ih, self.bias) + self.weight_hh * state  # (B, H)
        h = _ACTIVATIONS[self.nonlinearity](pre)  # (B, H)
        return h, h

    def extra_repr(self):
        return (
            f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}, "
            f"recurrent_max={self.recurrent_max}"
        )


class IndirectFeedbackCell(nn.Module):
    r"""Indirect feedback: a two-level cell whose upper level feeds back into the lower one.

    Two levels of ``hidden_size`` units each; the upper level's previous
    output is the only recurrent input, and it goes into the lower level, an
    earlier layer (output-to-earlier-layer feedback, as in Jordan networks
    [2]_, where the output units feed the state units that the input layer
    reads):

    .. math::

        l_t &= \tanh(W_{il} x_t + W_{ul} h_{t-1} + b_l), \\
        h_t &= \tanh(W_{lu} l_t + b_u).

    Neither level has lateral (within-level) or direct (self) weights: the
    feedback is purely indirect, the taxonomy's third kind [1]_ (the cell with
    every kind at once is :class:`FullFeedbackCell`). The output is the
    upper level :math:`h_t` and so is the state, a tensor of shape
    ``(batch, hidden_size)``: :math:`l_{t-1}` is not read by the next step, so
    it is not kept.

    Parameters
    ----------
    input_size : int
        Number of input features :math:`F`.
    hidden_size : int
        Number of units :math:`H` of each level.

    Attributes
    ----------
    weight_ih : torch.nn.Parameter of shape (hidden_size, input_size)
        :math:`W_{il}`, input to lower level.
    weight_lu : torch.nn.Parameter of shape (hidden_size, hidden_size)
        :math:`W_{lu}`, lower to upper level, within a step.
    weight_ul : torch.nn.Parameter of shape (hidden_size, hidden_size)
        :math:`W_{ul}`, the feedback: upper level at :math:`t-1` to lower
        level at :math:`t`.
    bias_lower, bias_upper : torch.nn.Parameter of shape (hidden_size,)
        :math:`b_l`, :math:`b_u`.
    description : str
        One line for ``available_cells()``.

    Notes
    -----
    Every weight is initialised uniformly in :math:`\pm 1/\sqrt{H}`, like
    torch's recurrent layers.

    References
    ----------
    .. [1] D. Kriesel, "A Brief Introduction to Neural Networks", 2007,
       chapter 3 (indirect recurrences; Jordan networks).
    .. [2] M. I. Jordan, "Serial order: a parallel distributed processing
       approach", ICS Report 8604, University of California, San Diego,
       1986.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn_feedback.cells import IndirectFeedbackCell
    >>> _ = torch.manual_seed(0)
    >>> cell = IndirectFeedbackCell(3, 4)
    >>> x = torch.randn(2, 5, 3)
    >>> h = torch.zeros(2, 4)
    >>> for t in range(5):
    ...     out, h = cell(x[:, t], h)
    >>> out.shape, h.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    description = "Indirect feedback: two levels, the upper level's output feeds the lower level"

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_lu = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.weight_ul = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_lower = nn.Parameter(torch.empty(hidden_size))
        self.bias_upper = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight again, uniformly in +-1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        _uniform_(self.parameters(), -bound, bound)

    def forward(self, x_t, state):
        """One step: ``x_t`` (B, F), ``state`` = upper level (B, H) -> ``(h_t, h_t)``."""
        lower = torch.tanh(
            F.linear(x_t, self.weight_ih, self.bias_lower) + F.linear(state, self.weight_ul)
        )  # (B, H)
        upper = torch.tanh(F.linear(lower, self.weight_lu, self.bias_upper))  # (B, H)
        return upper, upper

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class FullFeedbackCell(nn.Module):
    r"""Full feedback: two levels in which every unit feeds every unit at the next step.

    A completely linked recurrent cell [1]_ of two levels, lower :math:`l` and
    upper :math:`u`, of ``hidden_size`` units each. Within a step the signal
    flows forwards, input to lower to upper; across steps, the previous
    outputs of *both* levels, :math:`s_{t-1} = [l_{t-1}; u_{t-1}]`, feed *both*
    levels through one full :math:`2H \times 2H` matrix
    :math:`R = \begin{bmatrix} R_l \\ R_u \end{bmatrix}`:

    .. math::

        l_t &= \tanh(W_{il} x_t + R_l s_{t-1} + b_l), \\
        u_t &= \tanh(W_{lu} l_t + R_u s_{t-1} + b_u).

    :math:`R` holds every kind of feedback: its diagonal is direct feedback,
    its diagonal blocks lateral feedback within each level, its upper-right
    block (:math:`u_{t-1} \to l_t`) indirect feedback, and its lower-left
    block the delayed forward connections (:math:`l_{t-1} \to u_t`). The
    upper level reads :math:`l_t` of the same step, so the output at step
    :math:`t` depends on :math:`x_t`. The output is :math:`u_t`; the state
    is the tuple ``(l_t, u_t)``, each of shape ``(batch, hidden_size)``.

    Parameters
    ----------
    input_size : int
        Number of input features :math:`F`.
    hidden_size : int
        Number of units :math:`H` of each level.

    Attributes
    ----------
    weight_ih : torch.nn.Parameter of shape (hidden_size, input_size)
        :math:`W_{il}`, input to lower level.
    weight_lu : torch.nn.Parameter of shape (hidden_size, hidden_size)
        :math:`W_{lu}`, lower to upper level, within a step.
    weight_hh : torch.nn.Parameter of shape (2 * hidden_size, 2 * hidden_size)
        :math:`R`, rows and columns ordered ``[lower, upper]``.
    bias_lower, bias_upper : torch.nn.Parameter of shape (hidden_size,)
        :math:`b_l`, :math:`b_u`.
    description : str
        One line for ``available_cells()``.

    Notes
    -----
    Every weight is initialised uniformly in :math:`\pm 1/\sqrt{H}`, like
    torch's recurrent layers.

    References
    ----------
    .. [1] D. Kriesel, "A Brief Introduction to Neural Networks", 2007,
       chapter 3 (completely linked networks).

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn_feedback.cells import FullFeedbackCell
    >>> _ = torch.manual_seed(0)
    >>> cell = FullFeedbackCell(3, 4)
    >>> x = torch.randn(2, 5, 3)
    >>> state = cell.init_state(2, torch.device("cpu"), torch.float32)
    >>> for t in range(5):
    ...     out, state = cell(x[:, t], state)
    >>> out.shape, [tuple(s.shape) for s in state]
    (torch.Size([2, 4]), [(2, 4), (2, 4)])
    >>> bool(torch.equal(out, state[1]))
    True
    """

    description = "Full feedback: two levels, every unit feeds every unit at the next step"

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_lu = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.weight_hh = nn.Parameter(torch.empty(2 * hidden_size, 2 * hidden_size))
        self.bias_lower = nn.Parameter(torch.empty(hidden_size))
        self.bias_upper = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight again, uniformly in +-1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        _uniform_(self.parameters(), -bound, bound)

    def init_state(self, batch_size, device, dtype):
        """Zeros ``(l, u)``, each of shape ``(batch_size, hidden_size)``."""
        shape = (batch_size, self.hidden_size)
        return (
            torch.zeros(shape, device=device, dtype=dtype),
            torch.zeros(shape, device=device, dtype=dtype),
        )

    def forward(self, x_t, state):
        """One step: ``x_t`` (B, F), ``state`` = ``(l, u)`` each (B, H) -> ``(u_t, (l_t, u_t))``."""
        lower, upper = state
        rec = F.linear(torch.cat([lower, upper], dim=1), self.weight_hh)  # (B, 2H)
        rec_lower, rec_upper = rec.chunk(2, dim=1)  # (B, H) each
        lower = torch.tanh(F.linear(x_t, self.weight_ih, self.bias_lower) + rec_lower)  # (B, H)
        upper = torch.tanh(F.linear(lower, self.weight_lu, self.bias_upper) + rec_upper)  # (B, H)
        return upper, (lower, upper)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"
