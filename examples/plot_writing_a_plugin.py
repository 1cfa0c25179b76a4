"""
Writing a cell: a forget-gate-only LSTM
=======================================

Every estimator's ``cell`` parameter takes a name from the cell registry, and
the registry is open: a cell is a small ``torch.nn.Module`` that computes one
time step, and a plugin package adds cells by name. This example writes a
cell in the script itself, checks it against the cell protocol with the
conformance kit of ``sklearn_rnn.testing``, registers it for this process
with :func:`~sklearn_rnn.register_cell`, and trains it on the JapaneseVowels
recordings (:func:`~sklearn_rnn.datasets.load_japanese_vowels`, bundled with
sklearn-rnn) next to the built-in GRU. It ends with the lines of
``pyproject.toml`` that make the cell an installable plugin.

:doc:`/writing_a_plugin` builds such a plugin step by step (a package, its
entry point, its tests, a grid search over its cell); :doc:`/cell_protocol`
lists the rules a cell follows.
"""

# %%
# The cell
# --------
# JANET ("just another network", van der Westhuizen and Lasenby, 2018,
# arXiv:1804.04849) is an LSTM reduced to its forget gate. The input gate is
# tied to the forget gate, there is no output gate, and the memory is the
# output:
#
# .. math::
#
#     s_t &= W_f x_t + U_f h_{t-1} + b_f \\
#     \tilde c_t &= \tanh(W_c x_t + U_c h_{t-1} + b_c) \\
#     h_t &= \sigma(s_t) \odot h_{t-1} + (1 - \sigma(s_t - \beta)) \odot \tilde c_t
#
# The shift :math:`\beta = 1` lets a little more new information in than the
# forget gate lets old information out. The forget bias :math:`b_f` starts
# with the "chrono" initialisation of Tallec and Ollivier (2018),
# :math:`\log u` with :math:`u` uniform in :math:`[1, T_{max} - 1]`, which
# spreads the units' memory over time scales of up to :math:`T_{max}` steps
# (30 here: the longest recording has 29 frames).
#
# What the host needs from a cell: a constructor that takes ``input_size``
# and ``hidden_size`` first, every weight an ``nn.Parameter``, and
# ``forward(x_t, state)`` returning the step's output and the new state.
# JANET's state is a single ``(batch, hidden_size)`` tensor, the output
# itself, so the host starts it at zeros and the cell needs no
# ``init_state``. The class is defined at the top level of the script, so
# that estimators using it can be pickled.
import math
import os
import warnings

import matplotlib.pyplot as plt
import torch
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from torch import nn
from torch.nn import functional as F

from sklearn_rnn import (
    RecurrentClassifier,
    SequenceScaler,
    available_cells,
    plot_learning_curve,
    register_cell,
)
from sklearn_rnn.cells import unregister_cell
from sklearn_rnn.datasets import load_japanese_vowels
from sklearn_rnn.testing import cell_checks, check_cell

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run


class JANETCell(nn.Module):
    """JANET (van der Westhuizen and Lasenby 2018): an LSTM with only a forget gate."""

    def __init__(self, input_size, hidden_size, max_length=30, beta=1.0):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.max_length = max_length  # T_max of the chrono initialisation
        self.beta = beta
        self.weight_ih = nn.Parameter(torch.empty(2 * hidden_size, input_size))  # [W_f; W_c]
        self.weight_hh = nn.Parameter(torch.empty(2 * hidden_size, hidden_size))  # [U_f; U_c]
        self.bias = nn.Parameter(torch.empty(2 * hidden_size))  # [b_f; b_c]
        self.reset_parameters()

    def reset_parameters(self):
        # As torch.nn.LSTMCell, every weight uniform in (-1/sqrt(H), 1/sqrt(H)); then chrono b_f.
        bound = 1 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)
        with torch.no_grad():
            self.bias[: self.hidden_size].uniform_(1, self.max_length - 1).log_()

    def forward(self, x_t, h):
        # x_t: (B, F); h: (B, H), the previous output, which is the whole state
        s_x, c_x = F.linear(x_t, self.weight_ih, self.bias).chunk(2, dim=1)  # (B, H) each
        s_h, c_h = F.linear(h, self.weight_hh).chunk(2, dim=1)  # (B, H) each
        s = s_x + s_h  # (B, H) forget gate, before the sigmoid
        c_tilde = torch.tanh(c_x + c_h)  # (B, H) candidate
        h_t = torch.sigmoid(s) * h + (1 - torch.sigmoid(s - self.beta)) * c_tilde  # (B, H)
        return h_t, h_t  # the output, and the state for the next step


# %%
# Checking it
# -----------
# :func:`~sklearn_rnn.testing.check_cell` runs every rule of the cell
# protocol on small seeded cells: shapes and dtypes, rows of a batch
# computed independently, padding that changes nothing, gradients against
# finite differences, pickling, and a short fit of real estimators. It
# returns nothing when the cell passes and raises a
# :class:`~sklearn_rnn.testing.CellCheckError` naming the broken rule
# otherwise. A plugin's test suite runs the same checks, one test each, with
# :func:`~sklearn_rnn.testing.parametrize_with_cell_checks`.
check_cell(JANETCell)
checks_passed = [check.__name__ for check in cell_checks(JANETCell)]
print(f"JANETCell passed {len(checks_passed)} checks: {', '.join(checks_passed)}")

# %%
# Registering and training it
# ---------------------------
# :func:`~sklearn_rnn.register_cell` gives the class a name for this
# process; every estimator then takes ``cell="janet"``, as it takes
# ``cell="gru"``. It refuses a name that is already taken (a built-in cell,
# an installed plugin, an earlier registration) unless ``overwrite=True``.
# Passing the class itself, ``cell=JANETCell``, works without registering.
register_cell("janet", JANETCell)
info = available_cells()["janet"]
print(f"registered: {info.name} ({info.source}), {info.value}, capabilities {info.capabilities}")

# %%
# The two classifiers share every setting but the cell. With
# ``early_stopping=True`` each holds out 10% of the training recordings,
# records the validation loss of every epoch, and keeps the weights of the
# best epoch.
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # the quick run ends at max_iter
X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)

models, accuracy = {}, {}
for cell in ("janet", "gru"):
    models[cell] = make_pipeline(
        SequenceScaler(),
        RecurrentClassifier(
            cell=cell,
            hidden_size=16 if QUICK else 32,
            max_iter=10 if QUICK else 40,
            learning_rate=1e-2,
            early_stopping=True,
            random_state=0,
        ),
    ).fit(X_train, y_train)
    accuracy[cell] = models[cell].score(X_test, y_test)
accuracy["one speaker for all"] = DummyClassifier().fit(X_train, y_train).score(X_test, y_test)
for name, value in accuracy.items():
    print(f"{name}: test accuracy {value:.3f}")
janet_accuracy, gru_accuracy = accuracy["janet"], accuracy["gru"]

# %%
# The learning curves. :func:`~sklearn_rnn.plot_learning_curve` draws the
# training loss of every epoch and, with early stopping, the validation
# loss.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (cell, model) in zip(axes, models.items()):
    plot_learning_curve(model[-1], ax=ax)
    n_weights = sum(p.numel() for p in model[-1].net_.module_.parameters())
    ax.set_title(f"{cell}: {n_weights:,} weights, test accuracy {accuracy[cell]:.3f}")
    ax.set_yscale("log")
fig.tight_layout()

# %%
# The registration lives until the process ends. A gallery build and the
# test suite run many scripts in one process, so this one removes it again:
# a leftover ``"janet"`` would be listed by :func:`~sklearn_rnn.available_cells`
# in every later script, and running this script a second time would fail,
# the name being taken.
unregister_cell("janet")

# %%
# From a script to a plugin
# -------------------------
# A registration is visible in this process only: the worker processes of
# ``GridSearchCV(n_jobs=2)`` or of a Dask cluster do not see it, and fail
# with "Unknown cell 'janet'". Installed as a plugin, the cell is found by
# name in every process. Move the class into a module of a package, say
# ``sklearn_rnn_janet/cells.py``, and declare it in the package's
# ``pyproject.toml`` under the entry-point group ``sklearn_rnn.cells``:
#
# .. code-block:: toml
#
#     [project.entry-points."sklearn_rnn.cells"]
#     janet = "sklearn_rnn_janet.cells:JANETCell"
#
# After ``pip install -e .`` in the package's folder, ``cell="janet"`` works
# everywhere, ``sklearn-rnn cells`` lists it, and ``register_cell`` is no
# longer needed. :doc:`/writing_a_plugin` walks through the whole package,
# its tests with the conformance kit, and what happens when a plugin is
# broken.
