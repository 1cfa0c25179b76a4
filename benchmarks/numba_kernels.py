"""The numba kernels against PyTorch's recurrent layers, at the kernel level.

Both sides get the same float32 weights and inputs. The numba side is what
the package calls: ``sklearn_rnn._numba.cells`` (validation included), with
the weights prepared once (``prepare_weights``), as a caller that reuses them
would. The torch side is ``nn.LSTM``/``nn.GRU``/``nn.RNN`` (batch-first), and
for streaming also ``nn.LSTMCell``/``nn.GRUCell``/``nn.RNNCell``; inference runs
under ``torch.inference_mode()``.

Cases (the issue's performance targets; ratio = torch time / numba time, so
above 1 means numba is faster):

* ``step``: one time step of one stream, hidden 64 -- ``cells.step`` vs the
  layer called on a length-1 sequence with its state, and vs the cell module;
* ``seq b1``: forward of one sequence of 100 steps;
* ``seq b32``: forward of 32 sequences of 100 steps;
* ``train b32``: forward and backward of the same (gradients w.r.t. the
  input, the initial state -- numba only, it is free -- and all weights; a
  gradient of ones on the outputs);
* first call: importing the kernels and the first ``forward`` + ``backward`` +
  ``step`` of each cell in a fresh process, compiling (empty cache) and
  loading from numba's on-disk cache.

Contenders are interleaved (the order alternates every round) and the table
shows medians; torch runs on one thread, and the numba kernels are serial with
one-thread BLAS (see ``sklearn_rnn/_numba/threads.py``).

    PYTHONPATH=. python benchmarks/numba_kernels.py [--quick] [--rounds N]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from sklearn_rnn._numba import cells

HIDDEN = 64
N_FEATURES = 16
N_STEPS = 100
LAYERS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
CELL_MODULES = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn": torch.nn.RNNCell}
# Minimum speed-up (torch time / numba time) the issue asks for, per case.
TARGETS = {
    ("step", "layer"): {"lstm": 10.0, "gru": 10.0, "rnn": 10.0},
    ("step", "cell"): {"lstm": 4.0, "gru": 4.0, "rnn": 4.0},
    ("seq b1", "layer"): {"lstm": 1.2, "gru": 3.0, "rnn": 3.0},
    ("seq b32", "layer"): {"lstm": 0.8, "gru": 0.8, "rnn": 0.8},
    ("train b32", "layer"): {"lstm": 0.8, "gru": 0.8, "rnn": 0.8},
}


def median_us(fn, repeats):
    """Median wall time of ``fn`` over ``repeats`` calls, in microseconds."""
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return float(np.median(times)) * 1e6


def torch_weights(layer):
    return [getattr(layer, f"{name}_l0").detach().numpy() for name in cells.Weights._fields]


def contenders(cell, batch):
    """Functions to time for one cell: {(case, torch side): (numba fn, torch fn)}."""
    torch.manual_seed(0)
    layer = LAYERS[cell](N_FEATURES, HIDDEN, batch_first=True)
    cell_module = CELL_MODULES[cell](N_FEATURES, HIDDEN)
    with torch.no_grad():
        for name in cells.Weights._fields:
            getattr(cell_module, name).copy_(getattr(layer, f"{name}_l0"))
    weights = cells.prepare_weights(cell, torch_weights(layer))
    rng = np.random.default_rng(0)
    lstm = cell == "lstm"

    # One step of one stream.
    x_t = rng.normal(size=(1, N_FEATURES)).astype(np.float32)
    state = cells.init_state(cell, 1, HIDDEN)
    x_t_torch = torch.from_numpy(x_t)
    x_seq_torch = x_t_torch.unsqueeze(1)  # (1, 1, F)
    h = torch.zeros(1, 1, HIDDEN)
    layer_state = (h, torch.zeros(1, 1, HIDDEN)) if lstm else h
    cell_state = (h[0], h[0].clone()) if lstm else h[0]

    def torch_layer_step():
        with torch.inference_mode():
            return layer(x_seq_torch, layer_state)

    def torch_cell_step():
        with torch.inference_mode():
            return cell_module(x_t_torch, cell_state)

    def numba_step():
        return cells.step(cell, x_t, state, weights)

    # Whole sequences.
    x1 = rng.normal(size=(1, N_STEPS, N_FEATURES)).astype(np.float32)
    xb = rng.normal(size=(batch, N_STEPS, N_FEATURES)).astype(np.float32)
    x1_torch, xb_torch = torch.from_numpy(x1), torch.from_numpy(xb)
    xb_grad = xb_torch.clone().requires_grad_(True)
    ones = np.ones((batch, N_STEPS, HIDDEN), np.float32)
    ones_torch = torch.from_numpy(ones)

    def torch_forward(x):
        def run():
            with torch.inference_mode():
                return layer(x)

        return run

    def numba_forward(x):
        return lambda: cells.forward(cell, x, None, weights, save=False)

    def torch_train():
        layer.zero_grad(set_to_none=True)
        xb_grad.grad = None
        out, _ = layer(xb_grad)
        out.backward(ones_torch)

    def numba_train():
        result = cells.forward(cell, xb, None, weights)
        return cells.backward(result.saved, ones)

    return {
        ("step", "layer"): (numba_step, torch_layer_step),
        ("step", "cell"): (numba_step, torch_cell_step),
        ("seq b1", "layer"): (numba_forward(x1), torch_forward(x1_torch)),
        (f"seq b{batch}", "layer"): (numba_forward(xb), torch_forward(xb_torch)),
        (f"train b{batch}", "layer"): (numba_train, torch_train),
    }


FIRST_CALL = """
import time
start = time.perf_counter()
import numpy as np
from sklearn_rnn._numba import cells
imported = time.perf_counter()
rng = np.random.default_rng(0)
for cell in ("rnn", "lstm", "gru"):
    g = cells.n_gates(cell)
    w = [rng.normal(size=s).astype(np.float32) for s in [(g * 8, 3), (g * 8, 8), (g * 8,), (g * 8,)]]
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    r = cells.forward(cell, x, [5, 3], w)
    cells.backward(r.saved, np.ones_like(r.output))
    cells.step(cell, x[:, 0], None, w)
    cells.step(cell, x[:1, 0], None, w)
print(imported - start, time.perf_counter() - imported)
"""


def first_call_seconds():
    """(import, first calls) in a fresh process: compiling, then from the cache."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    results = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=root)
        for label in ("compile (empty cache)", "load from cache"):
            out = subprocess.run(
                [sys.executable, "-c", FIRST_CALL],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[label] = tuple(float(v) for v in out.split())
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny repeats, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    batch = 32
    rounds = args.rounds or (2 if args.quick else 9)
    # Calls per round and case: enough for ~20 ms of the slower contender.
    repeats = {"step": 400, "seq b1": 40, f"seq b{batch}": 4, f"train b{batch}": 2}
    if args.quick:
        repeats = dict.fromkeys(repeats, 2)

    print(
        f"numba kernels vs torch {torch.__version__} ({torch.get_num_threads()} thread), "
        f"float32, hidden {HIDDEN}, {N_FEATURES} features, {N_STEPS} steps; "
        f"median over {rounds} rounds"
    )
    print(
        f"{'case':<10} {'cell':<5} {'vs':<6} {'numba us':>10} {'torch us':>10} "
        f"{'speed-up':>9} {'target':>7}"
    )
    misses = []
    for cell in ("lstm", "gru", "rnn"):
        cases = contenders(cell, batch)
        for numba_fn, torch_fn in cases.values():  # warm-up (compiles)
            numba_fn()
            torch_fn()
        times = {key: ([], []) for key in cases}
        for r in range(rounds):
            for key, (numba_fn, torch_fn) in cases.items():
                n = repeats[key[0]]
                pair = [(0, numba_fn), (1, torch_fn)]
                for side, fn in pair if r % 2 == 0 else pair[::-1]:
                    times[key][side].append(median_us(fn, n))
        for (case, versus), (numba_times, torch_times) in times.items():
            numba_us, torch_us = np.median(numba_times), np.median(torch_times)
            ratio = torch_us / numba_us
            target = TARGETS[(case, versus)][cell]
            mark = "" if ratio >= target else " *"
            if ratio < target:
                misses.append(f"{case} {cell} vs {versus}")
            versus = "nn." + (CELL_MODULES if versus == "cell" else LAYERS)[cell].__name__
            print(
                f"{case:<10} {cell:<5} {versus:<10} {numba_us:10.1f} {torch_us:10.1f} "
                f"{ratio:8.2f}x {target:6.1f}x{mark}"
            )

    print()
    print(
        "first call in a fresh process (import of the kernels; first forward + "
        "backward + step of each cell, float32):"
    )
    for label, (imported, calls) in first_call_seconds().items():
        print(f"  {label:<22} import {imported:6.2f} s   first calls {calls:6.2f} s")
    if args.quick:
        print("(--quick: numbers mean nothing, no verdict)")
    elif misses:
        print("* below target: " + ", ".join(misses))
    else:
        print("all targets met")


if __name__ == "__main__":
    main()
